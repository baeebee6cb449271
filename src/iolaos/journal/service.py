"""``record()``: the one function through which every state change writes its history."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Generator, Iterable, Iterator
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Integer, String, bindparam, create_engine, func, insert, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from iolaos.db import after_commit
from iolaos.journal.actor import Actor
from iolaos.journal.audit import CHAIN_COLUMNS, ChainRow, VerifyResult, canonical_json, record_hash, verify_rows
from iolaos.journal.models import AuditRecord, Event, JournalHead
from iolaos.kit.tables import table_of
from iolaos.kit.time import iso, utcnow

_head = table_of(JournalHead)
_audit = table_of(AuditRecord)
_event = table_of(Event)

# Statements built once: record() only binds values (no per-call statement construction or cache-key work).
_ADVANCE = (
    update(_head)
    .where(_head.c.id == 1)
    .values(audit_seq=_head.c.audit_seq + 1, event_seq=_head.c.event_seq + bindparam("events", type_=Integer))
    .returning(_head.c.audit_seq, _head.c.audit_hash, _head.c.event_seq)
)
_SET_HEAD_HASH = update(_head).where(_head.c.id == 1).values(audit_hash=bindparam("digest", type_=String))
_PG_ISO = """to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
_HEAD_AND_LAST = select(select(_head.c.audit_seq).where(_head.c.id == 1).scalar_subquery(),
                        select(func.max(_audit.c.seq)).scalar_subquery())
_INSERT_AUDIT = insert(_audit)
_INSERT_EVENT = insert(_event)
# PostgreSQL: the audit insert, the event insert and the head's new hash in one round trip (data-modifying CTEs).
_PG_NEW_AUDIT = insert(_audit).values({c.name: bindparam(c.name, type_=c.type) for c in _audit.c}).cte("new_audit")
_PG_NEW_EVENT = (insert(_event).values({c.name: bindparam(f"ev_{c.name}", type_=c.type) for c in _event.c})
                 .cte("new_event"))
_PG_APPEND = (update(_head).where(_head.c.id == 1).values(audit_hash=bindparam("hash", type_=String))
              .add_cte(_PG_NEW_AUDIT))
_PG_APPEND_WITH_EVENT = _PG_APPEND.add_cte(_PG_NEW_EVENT)

_cursor_ids = itertools.count(1)

# Woken after every commit that wrote events; the realtime hub registers itself here.
_wake_listeners: list[Any] = []


def add_wake_listener(callback: Any) -> None:
    """Call ``callback(event_seq)`` after each commit that wrote events (used by the live hub)."""
    _wake_listeners.append(callback)


def remove_wake_listener(callback: Any) -> None:
    """Stop waking ``callback``."""
    if callback in _wake_listeners:
        _wake_listeners.remove(callback)


def wake_listeners() -> list[Any]:
    """The callbacks to wake after a commit that wrote events (a copy)."""
    return list(_wake_listeners)


# Called inside record(), in the recording transaction, with (session, record, data): features that derive rows from
# history (the notification outbox) register here explicitly from create_app() and the CLI, never at import, so
# that what they write commits or rolls back together with the record that caused it.
_record_hooks: list[Callable[[Session, AuditRecord, dict[str, Any]], None]] = []


def add_record_hook(hook: Callable[[Session, AuditRecord, dict[str, Any]], None]) -> None:
    """Call ``hook(session, record, data)`` after every ``record()``, in the same transaction (once per hook)."""
    if hook not in _record_hooks:
        _record_hooks.append(hook)


def remove_record_hook(hook: Callable[[Session, AuditRecord, dict[str, Any]], None]) -> None:
    """Stop calling ``hook``."""
    if hook in _record_hooks:
        _record_hooks.remove(hook)


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
    if session.autoflush:
        session.flush()  # pending ORM changes reach the database before their record
    conn = session.connection()
    topic_list = sorted(set(topics))
    row = conn.execute(_ADVANCE, {"events": 1 if topic_list else 0}).one_or_none()
    if row is None:
        raise RuntimeError("journal head missing: run `iolaos db upgrade`")
    seq, prev_hash, event_seq = row
    occurred_at = utcnow()
    data_text = canonical_json(data or {})
    subject = (subject_type, str(subject_id))
    digest = record_hash(prev_hash=prev_hash, seq=seq, occurred_at=occurred_at,
                         actor=(actor.user_id, actor.organisation_id, actor.role, actor.name),
                         action=action, subject=subject, data=data_text)
    values = dict(seq=seq, occurred_at=occurred_at, actor_user_id=actor.user_id,
                  actor_organisation_id=actor.organisation_id, actor_role=actor.role,
                  actor_name=actor.name, action=action, subject_type=subject[0], subject_id=subject[1],
                  data=data_text, prev_hash=prev_hash, hash=digest)
    event: dict[str, Any] | None = None
    if topic_list:
        event_payload = payload if payload is not None else {"subject": list(subject), **(data or {})}
        event = {"seq": event_seq, "audit_seq": seq, "occurred_at": occurred_at, "kind": event_kind or action,
                 "topics": " " + " ".join(topic_list) + " ", "payload": canonical_json(event_payload)}
    _append(conn, values, event)
    if event is not None:
        for listener in list(_wake_listeners):
            after_commit(session, partial(listener, event_seq))
    written = AuditRecord(**values)
    for hook in _record_hooks:
        hook(session, written, data or {})
    return written


def _append(conn: Connection, audit: dict[str, Any], event: dict[str, Any] | None) -> None:
    """Insert the audit record (and event) and move the head's hash: one round trip on PostgreSQL."""
    if conn.dialect.name == "postgresql":
        if event is None:
            conn.execute(_PG_APPEND, audit)
        else:
            conn.execute(_PG_APPEND_WITH_EVENT, {**audit, **{f"ev_{k}": v for k, v in event.items()}})
        return
    conn.execute(_INSERT_AUDIT, audit)
    conn.execute(_SET_HEAD_HASH, {"digest": audit["hash"]})
    if event is not None:
        conn.execute(_INSERT_EVENT, event)


def event_to_wire(event: Event) -> dict[str, Any]:
    """An event as clients receive it."""
    return {"seq": event.seq, "kind": event.kind, "at": iso(event.occurred_at),
            "topics": event.topics.split(), "payload": json.loads(event.payload)}


def iter_chain(session: Session, *, batch: int = 10_000) -> Iterator[ChainRow]:
    """Every audit record in seq order, streamed in batches, as ChainRows with UTC datetimes."""
    make, parse = ChainRow, datetime.fromisoformat
    for rows in _chain_batches(session, batch):
        for seq, at, *rest in rows:
            yield make(seq, parse(at), *rest)


def _chain_batches(session: Session, batch: int, upto: int | None = None
                   ) -> Generator[list[tuple[Any, ...]], None, None]:
    """The chain as lists of plain driver tuples in ``CHAIN_COLUMNS`` order, occurred_at as canonical ISO text.

    Reads through the driver's own cursor in the session's transaction (a server-side cursor on PostgreSQL),
    skipping the ORM's per-row processing: verification speed is bound by this loop. The database renders
    the timestamp: PostgreSQL formats it in UTC, SQLite holds the text SQLAlchemy stored (``YYYY-MM-DD
    HH:MM:SS.ffffff``, UTC). Text stored in any other form no longer matches its hash, as it should not.
    """
    conn = session.connection()
    postgres = conn.dialect.name == "postgresql"
    at_sql = (_PG_ISO if postgres else "replace(occurred_at, ' ', 'T') || 'Z'") + " AS occurred_at"
    columns = ", ".join(at_sql if name == "occurred_at" else name for name in CHAIN_COLUMNS)
    dbapi_conn: Any = conn.connection.driver_connection
    cursor = dbapi_conn.cursor(name=f"iolaos_chain_{next(_cursor_ids)}") if postgres else dbapi_conn.cursor()
    try:
        where = "" if upto is None else f" WHERE seq <= {int(upto)}"
        cursor.execute(f"SELECT {columns} FROM audit_record{where} ORDER BY seq")
        while rows := cursor.fetchmany(batch):
            yield rows
    finally:
        cursor.close()


def read_head(session: Session) -> tuple[int, str, str]:
    """The stored journal head: (last audit seq, its hash, the journal's epoch)."""
    row = session.execute(select(_head.c.audit_seq, _head.c.audit_hash, _head.c.epoch).where(_head.c.id == 1)).one()
    return int(row[0]), str(row[1]), str(row[2])


def snapshot_engine(engine: Engine) -> Engine:
    """An engine whose transactions read one consistent snapshot without blocking writers (verify, checkpoint).

    PostgreSQL: REPEATABLE READ, so the head, the walk and the final look all see the same journal and a
    checkpoint signs exactly what was verified. SQLite (a file): a separate engine whose transactions begin
    deferred, i.e. as WAL read transactions, instead of taking the write lock as the application's do; the
    caller disposes of it. An in-memory SQLite database is returned unchanged.
    """
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="REPEATABLE READ")
    database = engine.url.database or ""
    if engine.dialect.name != "sqlite" or database in ("", ":memory:") or "mode=memory" in str(engine.url):
        return engine
    reader = create_engine(engine.url, poolclass=NullPool, connect_args={"check_same_thread": False, "timeout": 30})

    @sa_event.listens_for(reader, "connect")
    def _on_connect(dbapi_conn: Any, _: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves

    @sa_event.listens_for(reader, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")  # deferred: a read snapshot from the first SELECT until the end

    return reader


def verify_chain(session: Session, *, anchor: tuple[int, str] | None = None,
                 on_batch: Callable[[int], None] | None = None) -> VerifyResult:
    """Walk the chain up to the stored head and check it ends there (and matches ``anchor``, a checkpoint).

    Safe while writers are active, in any isolation level: records committed after the head was read are
    left for the next run. Afterwards one consistent look at the table catches records appended without
    moving the head (written around ``record()``).
    """
    head_seq, head_hash, _ = read_head(session)
    batches = _chain_batches(session, 10_000, upto=head_seq)

    def rows() -> Iterator[tuple[Any, ...]]:
        for batch in batches:
            yield from batch
            if on_batch is not None:
                on_batch(len(batch))

    try:
        result = verify_rows(rows(), head=(head_seq, head_hash), anchor=anchor)
    finally:
        batches.close()  # a walk that stopped at a broken record leaves no cursor open
    if not result.ok:
        return result
    now_head, now_last = session.execute(_HEAD_AND_LAST).one()
    if now_last is not None and now_last > now_head:
        return VerifyResult(False, result.checked, result.head_seq, result.head_hash, now_head + 1,
                            f"records after {now_head}, the journal head, were appended outside the journal")
    return result
