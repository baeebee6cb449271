"""The responsibility table: append-only, one row per holder period start."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from iolaos.kit.time import UtcDateTime


class Responsibility(SQLModel, table=True):
    """From ``since`` on, ``holder`` answers for the subject, until the next row of the same subject.

    Rows are never edited: a handover is a new row. ``holder_user_id`` may be empty when an
    organisation holds a subject before a person of it takes it (e.g. an incident routed to a
    Fire Service command's duty desk).
    """

    __tablename__ = "responsibility"
    __table_args__ = (Index("ix_responsibility_subject", "subject_type", "subject_id", "since"),)

    id: int | None = Field(default=None, primary_key=True)
    subject_type: str = Field(max_length=20)
    subject_id: int
    holder_user_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=True)
    )
    holder_organisation_id: int = Field(
        sa_column=Column(Integer, ForeignKey("organisation.id", ondelete="RESTRICT"), nullable=False)
    )
    since: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    granted_by_user_id: int | None = Field(default=None)
    reason: str = Field(max_length=500)
    audit_seq: int
