"""The hash chain: canonical form of a record, its hash, and verification of the whole chain.

``hash = sha256(prev_hash ‖ body)`` where ``body`` is the canonical JSON (no spaces, non-ASCII kept) of
``[seq, occurred_at (ISO 8601, µs, Z), [actor_user_id, actor_organisation_id, actor_role, actor_name], action,
[subject_type, subject_id], data]``. Records have a fixed shape, so the body is assembled directly with the
standard library's JSON string escaper instead of a general ``json.dumps`` call: the bytes are identical, only
faster. Verification is a left fold over the rows in seq order and stops at the first broken one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring  # C-accelerated; the escaper json.dumps(ensure_ascii=False) uses
from typing import Any, NamedTuple

from iolaos.kit.time import iso

GENESIS_HASH = "0" * 64

_sha256 = hashlib.sha256
_jstr: Callable[[str], str] = encode_basestring


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _iso(value: datetime) -> str:
    """``iso()`` with a fast path for the UTC datetimes the database layer returns."""
    if value.tzinfo is UTC:
        return value.isoformat(timespec="microseconds")[:-6] + "Z"
    return iso(value)


def _hash(prev_hash: str, seq: int, occurred_at: str, user_id: int | None, organisation_id: int | None,
          role: str, name: str, action: str, subject_type: str, subject_id: str, data: str,
          quote: Callable[[str], str] = _jstr) -> str:
    """The record hash from its fields, ``occurred_at`` already in canonical ISO form (see the module docstring).

    ``quote`` JSON-quotes the fields that repeat across records (role, name, action, subject type); verification
    passes a memoising one.
    """
    body = (
        f'{prev_hash}[{seq},"{occurred_at}",'
        f'[{"null" if user_id is None else user_id},'
        f'{"null" if organisation_id is None else organisation_id},{quote(role)},{quote(name)}],'
        f'{quote(action)},[{quote(subject_type)},{_jstr(subject_id)}],{_jstr(data)}]'
    )
    return _sha256(body.encode("utf-8")).hexdigest()


class _QuotedCache(dict[str, str]):
    """JSON-quoted strings, computed once per distinct value (used for the low-cardinality fields)."""

    def __missing__(self, key: str) -> str:
        value = self[key] = _jstr(key)
        return value


def record_hash(
    *,
    prev_hash: str,
    seq: int,
    occurred_at: datetime,
    actor: tuple[int | None, int | None, str, str],
    action: str,
    subject: tuple[str, str],
    data: str,
) -> str:
    """sha256(prev_hash ‖ canonical JSON of the record without its own hash)."""
    return _hash(prev_hash, seq, _iso(occurred_at), *actor, action, *subject, data)


class ChainRow(NamedTuple):
    """The stored fields of one audit record, as verification reads them (a plain tuple underneath).

    ``occurred_at`` is a timezone-aware datetime; the database reader used by ``verify_chain`` passes
    plain tuples carrying the canonical ISO text instead (``verify_rows`` accepts both).
    """

    seq: int
    occurred_at: datetime | str
    actor_user_id: int | None
    actor_organisation_id: int | None
    actor_role: str
    actor_name: str
    action: str
    subject_type: str
    subject_id: str
    data: str
    prev_hash: str
    hash: str

    def expected_hash(self) -> str:
        """The hash this row should carry given its own content and ``prev_hash``."""
        at = self.occurred_at
        return _hash(self.prev_hash, self.seq, at if isinstance(at, str) else _iso(at), self.actor_user_id,
                     self.actor_organisation_id, self.actor_role, self.actor_name, self.action, self.subject_type,
                     self.subject_id, self.data)


CHAIN_COLUMNS: tuple[str, ...] = ChainRow._fields


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of walking the chain: ok, or the first broken record and why."""

    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    reason: str | None = None


def verify_rows(
    rows: Iterable[tuple[Any, ...]],
    *,
    start_seq: int = 1,
    start_hash: str = GENESIS_HASH,
    head: tuple[int, str] | None = None,
    anchor: tuple[int, str] | None = None,
) -> VerifyResult:
    """Walk rows (``ChainRow`` or tuples in its field order) in seq order; name the first that breaks the chain.

    ``head`` is the (seq, hash) the chain must end at (the stored journal head): without it a deleted last
    record cannot be told from a shorter chain. ``anchor`` is a signed checkpoint's (seq, hash): the chain
    must reach that seq (else its tail was truncated) and carry that hash there (else it was recomputed).
    """
    expected_seq, prev_hash, checked = start_seq, start_hash, 0
    anchor_seq, anchor_hash = anchor if anchor is not None else (-1, "")
    hash_, iso_, quote = _hash, _iso, _QuotedCache().__getitem__
    for seq, at, uid, oid, role, name, action, stype, sid, data, prev, digest in rows:
        if seq != expected_seq:
            return VerifyResult(False, checked, expected_seq - 1, prev_hash, expected_seq,
                                f"record {expected_seq} is missing (next stored is {seq})")
        if prev != prev_hash:
            return VerifyResult(False, checked, seq - 1, prev_hash, seq,
                                "prev_hash does not match the previous record's hash")
        at_text = at if at.__class__ is str else iso_(at)
        if hash_(prev, seq, at_text, uid, oid, role, name, action, stype, sid, data, quote) != digest:
            return VerifyResult(False, checked, seq - 1, prev_hash, seq,
                                "content does not match its hash (record was modified)")
        if seq == anchor_seq and digest != anchor_hash:
            return VerifyResult(False, checked, seq - 1, prev_hash, seq,
                                f"hash of record {seq} differs from the signed checkpoint: the chain up to "
                                f"record {seq} was rewritten and its hashes recomputed")
        prev_hash, expected_seq, checked = digest, expected_seq + 1, checked + 1
    last = expected_seq - 1
    if head is not None and (last, prev_hash) != (head[0], head[1]):
        if head[0] > last:
            broken, why = last + 1, f"chain ends at record {last} but the journal head says {head[0]}"
        elif head[0] < last:
            broken, why = head[0] + 1, f"records after {head[0]}, the journal head, were appended outside the journal"
        else:
            broken, why = last, f"record {last} is the journal head but its hash differs from the head's"
        return VerifyResult(False, checked, last, prev_hash, broken, why)
    if anchor is not None and last < anchor_seq:
        return VerifyResult(False, checked, last, prev_hash, last + 1,
                            f"chain ends at record {last} but the signed checkpoint covers up to {anchor_seq}: "
                            "its tail was truncated")
    return VerifyResult(True, checked, last, prev_hash)
