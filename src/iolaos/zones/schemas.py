"""Wire shapes of zones (GeoJSON Features, RFC 7946)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ZoneProperties(BaseModel):
    """The attributes of a zone as served."""

    id: int
    code: str
    kind: str
    name_el: str
    name_en: str
    parent_code: str | None = None
    area_km2: float | None = None


class ZoneFeature(BaseModel):
    """One zone as a GeoJSON Feature."""

    type: Literal["Feature"] = "Feature"
    id: str
    geometry: dict[str, Any] | None
    properties: ZoneProperties


class Link(BaseModel):
    """A hypermedia link (used for paging)."""

    href: str
    rel: str
    type: str = "application/geo+json"


class ZoneCollection(BaseModel):
    """A page of zones as a GeoJSON FeatureCollection."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[ZoneFeature]
    numberMatched: int = Field(description="zones matching the filters")
    numberReturned: int
    links: list[Link] = []


class LocatedZone(BaseModel):
    """A zone that contains a located point."""

    code: str
    kind: str
    name_el: str
    name_en: str


class LocateResult(BaseModel):
    """Zones containing a point, smallest first; empty at sea or abroad."""

    lon: float
    lat: float
    zones: list[LocatedZone]
