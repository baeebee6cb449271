"""Planning tables: coverage policy versions, committed plan runs and the slots they could not fill."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, Text
from sqlmodel import Field, SQLModel

from iolaos.kit.time import UtcDateTime, utcnow


class CoveragePolicy(SQLModel, table=True):
    """What a risk category requires in each zone; an edit is a new row, the latest per (region, category) wins.

    ``region_id`` empty is the national policy; a region's own rows override it for that region.
    """

    __tablename__ = "coverage_policy"
    __table_args__ = (Index("ix_coverage_policy_region_category", "region_id", "category", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    region_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("zone.id", ondelete="RESTRICT"), nullable=True)
    )
    category: int = Field(ge=1, le=5)
    patrols_per_zone: int = Field(ge=0, le=20, description="patrols per zone per shift")
    crew_size: int = Field(ge=1, le=20)
    required_skills: str = Field(default="", max_length=400)
    capability: str = Field(default="prevention", max_length=20)
    shifts: str = Field(default="", max_length=200, description="local times, e.g. '06:00-14:00,14:00-22:00'")
    updated_by_user_id: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


class PlanRun(SQLModel, table=True):
    """One committed plan: the date, the area, who committed it and a summary of the result."""

    __tablename__ = "plan_run"

    id: int | None = Field(default=None, primary_key=True)
    plan_key: str = Field(max_length=80, unique=True)
    day: date = Field(sa_column=Column(Date, nullable=False, index=True))
    region_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("zone.id", ondelete="RESTRICT"), nullable=True)
    )
    committed_by_user_id: int | None = Field(default=None)
    committed_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
    fingerprint: str = Field(max_length=64)
    summary: str = Field(default="{}", sa_column=Column(Text, nullable=False))


class UnfilledSlot(SQLModel, table=True):
    """A crew place a plan run could not fill, and why."""

    __tablename__ = "unfilled_slot"

    id: int | None = Field(default=None, primary_key=True)
    plan_run_id: int = Field(
        sa_column=Column(Integer, ForeignKey("plan_run.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    patrol_id: int = Field(
        sa_column=Column(Integer, ForeignKey("patrol.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    skill: str | None = Field(default=None, max_length=40)
    reason: str = Field(max_length=500)
