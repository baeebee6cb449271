"""``record()``: the one function through which every state change writes its history."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import Session

from iolaos.auth.actor import Actor
from iolaos.db import after_commit
from iolaos.journal.audit import ChainRow, VerifyResult, canonical_json, record_hash, verify_rows
from iolaos.journal.models import AuditRecord, Event, JournalHead
from iolaos.kit.time import iso, utcnow

_head = JournalHead.__table__
_audit = AuditRecord.__table__
_event = Event.__table__

# Woken after every commit that wrote events; the realtime hub registers itself here.
_wake_listeners: list[Any] = []


def add_wake_listener(callback: Any) -> None:
    """Call ``callback(event_seq)`` after each commit that wrote events (used by the live hub)."""
    _wake_listeners.append(callback)


def remove_wake_listener(callback: Any) -> None:
    """Stop waking ``callback``."""
    if callback in _wake_listeners:
        _wake_listeners.remove(callback)


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: str | int,
    data: dict[str, Any] | None = None,
    topics: Iterable[str] = (),
    event_kind: str | None = None,
    payload: dict[str, Any] | None = None,
) -> AuditRecord:
    """Append an audit record (and its live event when ``topics`` are given) to this transaction.

    Must be called after the change has been made in ``session``; the caller's single commit
    makes the change, the record and the event durable together, or none of them.
    """
    topic_list = sorted(set(topics))
    seq, prev_hash, event_seq = _advance_head(session, with_event=bool(topic_list))
    occurred_at = utcnow()
    data_text = canonical_json(data or {})
    actor_tuple = (actor.user_id, actor.organisation_id, actor.role, actor.name)
    subject = (subject_type, str(subject_id))
    digest = record_hash(prev_hash=prev_hash, seq=seq, occurred_at=occurred_at, actor=actor_tuple,
                         action=action, subject=subject, data=data_text)
    values = dict(seq=seq, occurred_at=occurred_at, actor_user_id=actor.user_id,
                  actor_organisation_id=actor.organisation_id, actor_role=actor.role,
                  actor_name=actor.name, action=action, subject_type=subject[0], subject_id=subject[1],
                  data=data_text, prev_hash=prev_hash, hash=digest)
    session.execute(insert(_audit).values(**values))
    session.execute(update(_head).where(_head.c.id == 1).values(audit_hash=digest))
    if topic_list:
        _write_event(session, event_seq, seq, occurred_at, event_kind or action, topic_list,
                     payload if payload is not None else {"subject": list(subject), **(data or {})})
    return AuditRecord(**values)


def _advance_head(session: Session, *, with_event: bool) -> tuple[int, str, int]:
    """Take the chain head (locking it until commit) and reserve the next seqs."""
    stmt = (
        update(_head)
        .where(_head.c.id == 1)
        .values(audit_seq=_head.c.audit_seq + 1, event_seq=_head.c.event_seq + (1 if with_event else 0))
        .returning(_head.c.audit_seq, _head.c.audit_hash, _head.c.event_seq)
    )
    row = session.execute(stmt).one_or_none()
    if row is None:
        raise RuntimeError("journal head missing: run `iolaos db upgrade`")
    return row.audit_seq, row.audit_hash, row.event_seq


def _write_event(session: Session, seq: int, audit_seq: int, occurred_at: Any, kind: str,
                 topics: list[str], payload: dict[str, Any]) -> None:
    """Insert the live event and wake listeners once the transaction commits."""
    session.execute(insert(_event).values(
        seq=seq, audit_seq=audit_seq, occurred_at=occurred_at, kind=kind,
        topics=" " + " ".join(topics) + " ", payload=canonical_json(payload),
    ))
    for listener in list(_wake_listeners):
        after_commit(session, lambda listener=listener: listener(seq))


def event_to_wire(event: Event) -> dict[str, Any]:
    """An event as clients receive it."""
    import json

    return {"seq": event.seq, "kind": event.kind, "at": iso(event.occurred_at),
            "topics": event.topics.split(), "payload": json.loads(event.payload)}


def iter_chain(session: Session, *, batch: int = 5000) -> Iterator[ChainRow]:
    """Every audit record in seq order, read in batches."""
    cols = [_audit.c[name] for name in ChainRow.__slots__]
    last = 0
    while True:
        rows = session.execute(select(*cols).where(_audit.c.seq > last).order_by(_audit.c.seq).limit(batch)).all()
        if not rows:
            return
        for row in rows:
            yield ChainRow(*row)
        last = rows[-1].seq


def verify_chain(session: Session) -> VerifyResult:
    """Walk the whole chain and check it ends at the stored head."""
    result = verify_rows(iter_chain(session))
    if not result.ok:
        return result
    head = session.execute(select(_head.c.audit_seq, _head.c.audit_hash)).one()
    if (head.audit_seq, head.audit_hash) != (result.head_seq, result.head_hash):
        return VerifyResult(False, result.checked, result.head_seq, result.head_hash, result.head_seq + 1,
                            f"chain ends at {result.head_seq} but the head says {head.audit_seq}")
    return result
