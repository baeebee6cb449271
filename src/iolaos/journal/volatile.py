"""Volatile live events: high-rate data (positions) pushed live without an audit record each.

They take the next event seq under the same head-row lock as ``journal.record``, so the event log
stays gap-free and in commit order; the stored rows themselves are the history (with retention).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, text
from sqlmodel import Session

from iolaos.db import after_commit
from iolaos.journal import service
from iolaos.journal.audit import canonical_json
from iolaos.journal.models import Event
from iolaos.kit.time import utcnow

_NEXT_EVENT = text("UPDATE journal_head SET event_seq = event_seq + 1 WHERE id = 1 RETURNING event_seq")


def publish(session: Session, *, topics: Iterable[str], kind: str, payload: dict[str, Any]) -> int:
    """Append a live event with no audit record to this transaction; returns its seq."""
    topic_list = sorted(set(topics))
    if not topic_list:
        raise ValueError("a live event needs at least one topic")
    conn = session.connection()
    seq = conn.execute(_NEXT_EVENT).scalar_one()
    conn.execute(insert(Event.__table__).values(seq=seq, audit_seq=None, occurred_at=utcnow(), kind=kind,
                                                topics=" " + " ".join(topic_list) + " ",
                                                payload=canonical_json(payload)))
    for listener in service.wake_listeners():
        after_commit(session, lambda listener=listener: listener(seq))
    return seq
