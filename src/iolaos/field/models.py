"""Position reports (short retention), safety alerts, and incident–patrol links."""

from __future__ import annotations

from datetime import datetime

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from iolaos.kit.geotype import GeometryType
from iolaos.kit.time import UtcDateTime, utcnow

ALERT_KINDS = ("out_of_zone", "lost_contact", "sos")
ALERT_STATUSES = ("open", "acknowledged")


def _fk(table: str, nullable: bool = False, ondelete: str = "CASCADE") -> Column:
    return Column(Integer, ForeignKey(f"{table}.id", ondelete=ondelete), nullable=nullable, index=True)


class PositionReport(SQLModel, table=True):
    """Where a crew member was, reported only while on an active patrol; purged after the retention period."""

    __tablename__ = "position_report"
    __table_args__ = (Index("ix_position_report_patrol_at", "patrol_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    patrol_id: int = Field(sa_column=_fk("patrol"))
    volunteer_id: int = Field(sa_column=_fk("volunteer"))
    at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False, index=True))
    received_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
    point: BaseGeometry = Field(sa_column=Column(GeometryType("Point"), nullable=False))
    accuracy_m: float | None = Field(default=None)

    model_config = {"arbitrary_types_allowed": True}


class SafetyAlert(SQLModel, table=True):
    """A crew in danger or out of reach; open until a dispatcher acknowledges it.

    ``open_key`` is "open" while the alert is open and NULL afterwards: the unique constraint then
    allows one open alert per patrol and kind, even with several sweepers running at once.
    """

    __tablename__ = "safety_alert"
    __table_args__ = (UniqueConstraint("patrol_id", "kind", "open_key"),)

    id: int | None = Field(default=None, primary_key=True)
    patrol_id: int = Field(sa_column=_fk("patrol"))
    kind: str = Field(max_length=20)
    status: str = Field(default="open", max_length=20, index=True)
    open_key: str | None = Field(default="open", max_length=4)
    details: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    raised_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
    acknowledged_by_user_id: int | None = Field(default=None)
    acknowledged_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class IncidentPatrol(SQLModel, table=True):
    """A patrol linked to an incident (sent to it, or reporting from it)."""

    __tablename__ = "incident_patrol"
    __table_args__ = (UniqueConstraint("incident_id", "patrol_id"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(sa_column=_fk("incident"))
    patrol_id: int = Field(sa_column=_fk("patrol"))
    linked_by_user_id: int | None = Field(default=None)
    linked_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
