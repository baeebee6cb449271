"""Organisation tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from iolaos.kit.time import UtcDateTime, utcnow

ORG_KINDS = (
    "fire_service", "police", "municipality", "region", "civil_protection", "forest_service", "volunteer_org",
)
ACTION_CATEGORIES = ("FPA", "FFA")  # forest-fire prevention, forest-fire fighting


class Organisation(SQLModel, table=True):
    """An agency or registered volunteer organisation."""

    __tablename__ = "organisation"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30, index=True)
    name_el: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    parent_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("organisation.id", ondelete="RESTRICT"), index=True)
    )
    region_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("zone.id", ondelete="RESTRICT"), index=True)
    )
    registry_number: str | None = Field(default=None, max_length=40, unique=True)
    action_categories: str = Field(default="", max_length=20)
    active: bool = Field(default=True)
    # Printed in block 8 (communications) of the ICS-204 of the patrols the organisation executes.
    radio_channels: str = Field(default="", sa_column=Column(String(300), nullable=False, server_default=""))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))

    @property
    def categories(self) -> list[str]:
        """Action categories as a list (volunteer organisations only)."""
        return [c for c in self.action_categories.split(",") if c]


class OrganisationZone(SQLModel, table=True):
    """A zone in an organisation's jurisdiction or area of operation."""

    __tablename__ = "organisation_zone"
    __table_args__ = (UniqueConstraint("organisation_id", "zone_id"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(
        sa_column=Column(Integer, ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    zone_id: int = Field(
        sa_column=Column(Integer, ForeignKey("zone.id", ondelete="RESTRICT"), nullable=False, index=True)
    )
