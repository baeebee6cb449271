"""The idempotency table: one row per (user, key)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Integer, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from iolaos.kit.time import UtcDateTime, utcnow


class IdempotencyRecord(SQLModel, table=True):
    """A request seen under a key: its fingerprint, its state and, once done, its response.

    ``state`` moves in_flight → committed (in the request's own transaction, together with the
    change) → done (response stored). A row left in_flight by a crash never committed anything,
    so it can be retried safely once stale.
    """

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(Integer, nullable=False, index=True))
    key: str = Field(max_length=255)
    fingerprint: str = Field(max_length=64)
    state: str = Field(default="in_flight", max_length=12)
    status_code: int | None = Field(default=None)
    content_type: str | None = Field(default=None, max_length=100)
    body: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False, index=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
