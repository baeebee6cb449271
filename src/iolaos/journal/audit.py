"""The hash chain: canonical form of a record, its hash, and verification of the whole chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from iolaos.kit.time import iso

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


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
    body = canonical_json(
        [seq, iso(occurred_at), list(actor), action, list(subject), data]
    )
    return hashlib.sha256(prev_hash.encode("ascii") + body.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainRow:
    """The stored fields of one audit record, as verification reads them."""

    seq: int
    occurred_at: datetime
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
        return record_hash(
            prev_hash=self.prev_hash,
            seq=self.seq,
            occurred_at=self.occurred_at,
            actor=(self.actor_user_id, self.actor_organisation_id, self.actor_role, self.actor_name),
            action=self.action,
            subject=(self.subject_type, self.subject_id),
            data=self.data,
        )


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of walking the chain: ok, or the first broken record and why."""

    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    reason: str | None = None


def verify_rows(rows: Iterable[ChainRow], *, start_seq: int = 1, start_hash: str = GENESIS_HASH) -> VerifyResult:
    """Walk rows in seq order and name the first one that breaks the chain."""
    expected_seq, prev_hash, checked = start_seq, start_hash, 0
    for row in rows:
        if row.seq != expected_seq:
            return VerifyResult(False, checked, expected_seq - 1, prev_hash, expected_seq,
                                f"record {expected_seq} is missing (next stored is {row.seq})")
        if row.prev_hash != prev_hash:
            return VerifyResult(False, checked, row.seq - 1, prev_hash, row.seq,
                                "prev_hash does not match the previous record's hash")
        if row.expected_hash() != row.hash:
            return VerifyResult(False, checked, row.seq - 1, prev_hash, row.seq,
                                "content does not match its hash (record was modified)")
        prev_hash, expected_seq, checked = row.hash, expected_seq + 1, checked + 1
    return VerifyResult(True, checked, expected_seq - 1, prev_hash)
