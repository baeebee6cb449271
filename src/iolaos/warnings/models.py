"""Public warnings and the CAP messages sent for them.

A warning is a draft until someone with authority publishes it; every publication (the first Alert, each
Update, the Cancel) is a ``warning_message`` row of its own, never edited, with the exact CAP XML that went out.
"""

from __future__ import annotations

from datetime import datetime

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Column, ForeignKey, Integer, Text
from sqlmodel import Field, SQLModel

from iolaos.kit.geotype import GeometryType
from iolaos.kit.time import UtcDateTime, utcnow

STATUSES = ("draft", "published", "cancelled", "discarded")
SOURCES = ("incident", "risk_map")
AREA_KINDS = ("zones", "polygon", "circle")
MSG_TYPES = ("Alert", "Update", "Cancel")


def _fk(table: str, nullable: bool = False) -> Column:
    return Column(Integer, ForeignKey(f"{table}.id", ondelete="RESTRICT"), nullable=nullable, index=True)


class PublicWarning(SQLModel, table=True):
    """A public warning: its editable content (one revision at a time) and where it is in its lifecycle."""

    __tablename__ = "public_warning"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(sa_column=_fk("organisation"))
    source: str = Field(max_length=20)
    incident_id: int | None = Field(default=None, sa_column=_fk("incident", nullable=True))
    region_id: int | None = Field(default=None, sa_column=_fk("zone", nullable=True))
    status: str = Field(default="draft", max_length=20, index=True)
    hazard: str = Field(max_length=30)
    response_type: str = Field(max_length=20)
    urgency: str = Field(max_length=20)
    severity: str = Field(max_length=20)
    certainty: str = Field(max_length=20)
    instruction_el: str = Field(max_length=1000)
    instruction_en: str = Field(max_length=1000)
    description_el: str = Field(default="", max_length=2000)
    description_en: str = Field(default="", max_length=2000)
    area_kind: str = Field(max_length=10)
    zone_codes: str = Field(default="", max_length=2000)
    radius_km: float | None = Field(default=None)
    area: BaseGeometry = Field(sa_column=Column(GeometryType("Geometry"), nullable=False))
    area_desc_el: str = Field(max_length=500)
    area_desc_en: str = Field(max_length=500)
    geocodes: str = Field(default="", sa_column=Column(Text, nullable=False))  # "name=value" lines
    expires: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    revision: int = Field(default=1)
    edited_by_user_id: int = Field(sa_column=_fk("app_user"))
    approved_revision: int | None = Field(default=None)
    approved_by_user_id: int | None = Field(default=None, sa_column=_fk("app_user", nullable=True))
    published_revision: int | None = Field(default=None)
    created_by_user_id: int = Field(sa_column=_fk("app_user"))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))

    model_config = {"arbitrary_types_allowed": True}

    @property
    def codes(self) -> list[str]:
        """The chosen zones' codes (area kind ``zones``)."""
        return [c for c in self.zone_codes.split(",") if c]

    @property
    def geocode_pairs(self) -> list[tuple[str, str]]:
        """CAP geocodes as (valueName, value)."""
        return [tuple(line.split("=", 1)) for line in self.geocodes.splitlines() if "=" in line]  # type: ignore[misc]


class WarningMessage(SQLModel, table=True):
    """One CAP message as sent: immutable, with its own identifier."""

    __tablename__ = "public_warning_message"

    id: int | None = Field(default=None, primary_key=True)
    warning_id: int = Field(sa_column=_fk("public_warning"))
    identifier: str = Field(max_length=120, unique=True)
    sender: str = Field(max_length=200)
    sent: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False, index=True))
    msg_type: str = Field(max_length=10)
    status: str = Field(max_length=10)
    expires: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    revision: int
    references: str = Field(default="", sa_column=Column(Text, nullable=False))
    headline_el: str = Field(max_length=300)
    headline_en: str = Field(max_length=300)
    xml: str = Field(sa_column=Column(Text, nullable=False))
    published_by_user_id: int = Field(sa_column=_fk("app_user"))
