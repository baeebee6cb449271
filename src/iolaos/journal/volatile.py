"""Volatile live events: high-rate data (positions) pushed live without an audit record each.

They take event seqs under the same head-row lock as ``journal.record``, so the event log stays gap-free and in
commit order; the stored rows themselves are the history (with retention).

``publish`` only queues the event on the session; it is written by a ``before_commit`` hook, in the committing
thread, immediately before COMMIT. The head-row lock is then held for two statements and the commit, never
across the rest of the request (in an async server that includes a hop through the event loop, which under load
made every position request wait behind the one holding the lock).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Integer, bindparam, insert, text
from sqlmodel import Session

from iolaos.db import after_commit, install_session_hooks, session_hooks_installed
from iolaos.journal import service
from iolaos.journal.audit import canonical_json
from iolaos.journal.models import Event
from iolaos.kit.tables import table_of
from iolaos.kit.time import utcnow

_PENDING = "iolaos_volatile_events"
_TAKE_SEQS = text("UPDATE journal_head SET event_seq = event_seq + :n WHERE id = 1 RETURNING event_seq").bindparams(
    bindparam("n", type_=Integer))


def publish(session: Session, *, topics: Iterable[str], kind: str, payload: dict[str, Any]) -> None:
    """Append a live event with no audit record to this transaction (written at its commit)."""
    topic_list = sorted(set(topics))
    if not topic_list:
        raise ValueError("a live event needs at least one topic")
    pending: list[tuple[datetime, str, str, str]] = session.info.setdefault(_PENDING, [])
    pending.append((utcnow(), kind, " " + " ".join(topic_list) + " ", canonical_json(payload)))


def _write_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    conn = session.connection()
    last = conn.execute(_TAKE_SEQS, {"n": len(pending)}).scalar_one()
    first = last - len(pending) + 1
    conn.execute(insert(table_of(Event)), [
        {"seq": first + i, "audit_seq": None, "occurred_at": at, "kind": kind, "topics": topics, "payload": payload}
        for i, (at, kind, topics, payload) in enumerate(pending)])
    for listener in service.wake_listeners():
        after_commit(session, partial(listener, last))


def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


HOOKS = (("before_commit", _write_pending), ("after_rollback", _drop_pending))


def install() -> None:
    """Write queued volatile events at every commit from now on (``iolaos.wiring.wire``; idempotent)."""
    install_session_hooks(HOOKS)


def installed() -> bool:
    """True once the commit hooks are in place."""
    return session_hooks_installed(HOOKS)
