"""The zone table."""

from __future__ import annotations

from datetime import datetime

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from iolaos.kit.geotype import GeometryType
from iolaos.kit.time import UtcDateTime, utcnow

ZONE_KINDS = ("region", "municipality", "sector")


class Zone(SQLModel, table=True):
    """A region, municipality or patrol sector: code, names, parent and a MultiPolygon in EPSG:4326."""

    __tablename__ = "zone"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    kind: str = Field(max_length=20, index=True)
    name_el: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    parent_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("zone.id", ondelete="RESTRICT"), index=True)
    )
    area_km2: float | None = Field(default=None)
    geom: BaseGeometry = Field(sa_column=Column(GeometryType("MultiPolygon"), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))

    model_config = {"arbitrary_types_allowed": True}
