"""Patrol and assignment tables, shared by planning (risk map → patrols → crews) and field operations."""

from __future__ import annotations

from datetime import datetime

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from iolaos.kit.geotype import GeometryType
from iolaos.kit.time import UtcDateTime, utcnow

PATROL_STATUSES = ("planned", "staffed", "active", "completed", "cancelled", "expired")  # patrols/machine.py
FIELD_STATUSES = ("none", "on_patrol", "returning", "needs_help")
CAPABILITIES = ("prevention", "firefighting")  # need FPA, FFA organisations respectively
ASSIGNMENT_STATUSES = ("proposed", "accepted", "declined", "checked_in", "checked_out", "cancelled", "expired")


def _fk(table: str, nullable: bool = True, ondelete: str = "RESTRICT") -> Column:
    return Column(Integer, ForeignKey(f"{table}.id", ondelete=ondelete), nullable=nullable, index=True)


class Patrol(SQLModel, table=True):
    """A crew's presence in a zone for a shift."""

    __tablename__ = "patrol"
    __table_args__ = (Index("ix_patrol_zone_shift", "zone_id", "shift_start"),)

    id: int | None = Field(default=None, primary_key=True)
    zone_id: int = Field(sa_column=_fk("zone", nullable=False))
    organisation_id: int | None = Field(default=None, sa_column=_fk("organisation"))
    shift_start: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    shift_end: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    crew_size: int = Field(default=2, ge=1, le=20)
    required_skills: str = Field(default="", max_length=400)
    capability: str = Field(default="prevention", max_length=20)
    risk_category: int | None = Field(default=None)
    status: str = Field(default="planned", max_length=20, index=True)
    field_status: str = Field(default="none", max_length=20)
    leader_volunteer_id: int | None = Field(default=None, sa_column=_fk("volunteer", ondelete="SET NULL"))
    route: BaseGeometry | None = Field(default=None, sa_column=Column(GeometryType("LineString"), nullable=True))
    plan_key: str | None = Field(default=None, max_length=80, index=True)
    created_by_user_id: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))

    model_config = {"arbitrary_types_allowed": True}

    @property
    def skills(self) -> list[str]:
        """Required skills as a list."""
        return [s for s in self.required_skills.split(",") if s]


class Assignment(SQLModel, table=True):
    """A volunteer on a patrol: proposed, then accepted or declined, then checked in and out."""

    __tablename__ = "assignment"
    __table_args__ = (UniqueConstraint("patrol_id", "volunteer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    patrol_id: int = Field(sa_column=_fk("patrol", nullable=False, ondelete="CASCADE"))
    volunteer_id: int = Field(sa_column=_fk("volunteer", nullable=False))
    status: str = Field(default="proposed", max_length=20, index=True)
    proposed_by: str = Field(default="engine", max_length=40, description="'engine' or 'user:<id>'")
    slot_skill: str | None = Field(default=None, max_length=60, description="the skill the place held needs")
    reasons: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    decline_reason: str | None = Field(default=None, max_length=500)
    checked_in_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    checked_out_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
