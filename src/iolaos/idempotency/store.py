"""Claiming, finishing and replaying idempotency keys (synchronous; called from a worker thread)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from iolaos.auth.models import AuthToken, User
from iolaos.idempotency.models import IdempotencyRecord
from iolaos.kit.time import utcnow


@dataclass(frozen=True)
class Outcome:
    """What to do with a keyed request: proceed (with the row id), replay, or refuse."""

    kind: str  # proceed | replay | mismatch | in_flight
    record_id: int | None = None
    status_code: int | None = None
    content_type: str | None = None
    body: bytes | None = None


def fingerprint(method: str, path: str, query: bytes, body: bytes) -> str:
    """What makes two requests 'the same request'."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def user_for_token(engine: Engine, token: str) -> int | None:
    """The user a live bearer token belongs to (keys are scoped per user)."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    with Session(engine) as session:
        return session.scalar(
            select(col(User.id)).join(AuthToken, col(AuthToken.user_id) == col(User.id))
            .where(col(AuthToken.token_hash) == digest, col(AuthToken.revoked_at).is_(None),
                   col(AuthToken.expires_at) > utcnow(), col(User.is_active).is_(True))
        )


def claim(engine: Engine, *, user_id: int, key: str, print_: str, stale_after: float) -> Outcome:
    """Register the key as in flight, or say how an earlier request under it ended."""
    for _ in range(2):  # a concurrent insert of the same key makes the first attempt lose the race
        with Session(engine) as session:
            row = session.scalar(select(IdempotencyRecord).where(col(IdempotencyRecord.user_id) == user_id,
                                                                 col(IdempotencyRecord.key) == key))
            if row is None:
                row = IdempotencyRecord(user_id=user_id, key=key, fingerprint=print_)
                session.add(row)
                try:
                    session.commit()
                except IntegrityError:
                    session.rollback()
                    continue
                return Outcome("proceed", row.id)
            outcome = _existing(session, row, print_, stale_after)
            session.commit()
            return outcome
    return Outcome("in_flight")


def _existing(session: Session, row: IdempotencyRecord, print_: str, stale_after: float) -> Outcome:
    if row.fingerprint != print_:
        return Outcome("mismatch")
    if row.state == "done":
        return Outcome("replay", row.id, row.status_code, row.content_type, row.body)
    if row.state == "in_flight" and utcnow() - row.updated_at > timedelta(seconds=stale_after):
        # Left by a process that died before committing anything: safe to run again.
        row.updated_at = utcnow()
        return Outcome("proceed", row.id)
    return Outcome("in_flight")


def mark_committed(session: Session, record_id: int) -> None:
    """Inside the request's own transaction: the change and this mark commit together."""
    session.execute(update(IdempotencyRecord).where(col(IdempotencyRecord.id) == record_id)
                    .values(state="committed", updated_at=utcnow()))


def finish(engine: Engine, record_id: int, status_code: int, content_type: str | None, body: bytes) -> None:
    """Store the response for replays; forget the key when the outcome says 'try again'."""
    with Session(engine) as session:
        if status_code >= 500 or status_code in (409, 429):
            session.execute(delete(IdempotencyRecord).where(col(IdempotencyRecord.id) == record_id,
                                                            col(IdempotencyRecord.state) == "in_flight"))
        else:
            session.execute(update(IdempotencyRecord).where(col(IdempotencyRecord.id) == record_id).values(
                state="done", status_code=status_code, content_type=content_type, body=body, updated_at=utcnow()))
        session.commit()


def purge(session: Session, *, older_than: timedelta) -> int:
    """Forget keys older than ``older_than``; returns how many."""
    result = session.exec(delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < utcnow() - older_than))
    return result.rowcount or 0
