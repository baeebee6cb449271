"""The incident table."""

from __future__ import annotations

from datetime import datetime

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Column, ForeignKey, Integer, PrimaryKeyConstraint
from sqlmodel import Field, SQLModel

from iolaos.kit.geotype import GeometryType
from iolaos.kit.time import UtcDateTime, utcnow

INCIDENT_KINDS = ("smoke", "wildfire", "suspicious_activity", "arson", "road_blocked", "other")
SEVERITIES = ("low", "medium", "high", "critical")
STATUSES = ("reported", "acknowledged", "dispatched", "contained", "resolved", "closed")

# Allowed lifecycle moves; anything else answers 409 with this list.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "reported": ("acknowledged", "closed"),
    "acknowledged": ("dispatched", "resolved", "closed"),
    "dispatched": ("contained", "resolved"),
    "contained": ("dispatched", "resolved"),
    "resolved": ("dispatched", "closed"),
    "closed": (),
}


def _fk(table: str, nullable: bool = False) -> Column:
    return Column(Integer, ForeignKey(f"{table}.id", ondelete="RESTRICT"), nullable=nullable, index=True)


class Incident(SQLModel, table=True):
    """A reported event at a point, with its lead agency and lifecycle status."""

    __tablename__ = "incident"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30)
    severity: str = Field(max_length=10)
    status: str = Field(default="reported", max_length=20, index=True)
    description: str = Field(default="", max_length=2000)
    point: BaseGeometry = Field(sa_column=Column(GeometryType("Point"), nullable=False))
    zone_id: int | None = Field(default=None, sa_column=_fk("zone", nullable=True))
    region_id: int | None = Field(default=None, sa_column=_fk("zone", nullable=True))
    lead_organisation_id: int = Field(sa_column=_fk("organisation"))
    reported_by_user_id: int = Field(sa_column=_fk("app_user"))
    reporter_organisation_id: int = Field(sa_column=_fk("organisation"))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False, index=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))

    model_config = {"arbitrary_types_allowed": True}


class IncidentNotified(SQLModel, table=True):
    """An organisation told about an incident besides its lead (routing rules): it may see the incident.

    A row per organisation rather than a comma-joined column, so "incidents notified to these organisations"
    is an indexed join instead of ``LIKE '%,id,%'`` over every incident (migration 0013).
    """

    __tablename__ = "incident_notified"
    __table_args__ = (PrimaryKeyConstraint("incident_id", "organisation_id"),)

    incident_id: int = Field(sa_column=Column(Integer, ForeignKey("incident.id", ondelete="CASCADE"), nullable=False))
    organisation_id: int = Field(sa_column=_fk("organisation"))
