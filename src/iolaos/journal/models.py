"""Tables of the journal: the chain head, audit records and the durable event log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from iolaos.kit.time import UtcDateTime


class JournalHead(SQLModel, table=True):
    """One row: the last audit seq and hash and the last event seq.

    Every writer updates this row first, so on PostgreSQL the row lock (and on SQLite the write
    lock) serialises journal writers until commit: seq order is commit order, with no gaps.
    """

    __tablename__ = "journal_head"

    id: int = Field(default=1, primary_key=True)
    audit_seq: int = Field(default=0)
    audit_hash: str = Field(default="0" * 64, max_length=64)
    event_seq: int = Field(default=0)
    epoch: str = Field(max_length=36)


class AuditRecord(SQLModel, table=True):
    """One change: who did what to which subject, hash-chained to the record before it."""

    __tablename__ = "audit_record"
    __table_args__ = (
        Index("ix_audit_record_subject", "subject_type", "subject_id"),
        Index("ix_audit_record_occurred_at", "occurred_at"),
    )

    seq: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    occurred_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    actor_user_id: int | None = Field(default=None, index=True)
    actor_organisation_id: int | None = Field(default=None, index=True)
    actor_role: str = Field(max_length=32)
    actor_name: str = Field(max_length=200)
    action: str = Field(max_length=80, index=True)
    subject_type: str = Field(max_length=40)
    subject_id: str = Field(max_length=80)
    data: str = Field(sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class Event(SQLModel, table=True):
    """What live clients receive; written in the same transaction as its audit record."""

    __tablename__ = "event"

    seq: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    audit_seq: int | None = Field(default=None)
    occurred_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    kind: str = Field(max_length=80)
    topics: str = Field(sa_column=Column(String(2000), nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
