"""A warning's area: chosen zones, a drawn polygon or a point and radius, with its public names and geocodes.

The shape sent in CAP follows the vertex budget of ``iolaos.cap.geometry`` (docs/warnings.md): the chosen zones'
outline, or the drawn polygon, simplified to at most ``MAX_POINTS`` points per polygon and ``MAX_PARTS``
polygons (the largest parts); a point and radius goes out as a CAP ``circle``.
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlmodel import Session, col

from iolaos.cap.geometry import around, cap_circle, cap_polygons
from iolaos.errors import InvalidInput
from iolaos.kit.geo import parse_geometry
from iolaos.kit.ids import saved_id
from iolaos.risk import service as risk
from iolaos.warnings import templates
from iolaos.zones import service as zones
from iolaos.zones.models import Zone

MAX_ZONES = 60
MAX_RADIUS_KM = 50.0
MAX_NAMED = 6  # zones named in areaDesc before "and N more"


@dataclass(frozen=True)
class Resolved:
    """What a draft's area becomes: the geometry, its descriptions, geocodes, and the region it lies in."""

    kind: str
    geometry: BaseGeometry
    desc_el: str
    desc_en: str
    geocodes: list[tuple[str, str]]
    region_ids: set[int]
    zone_codes: list[str]
    radius_km: float | None = None


def _names(zones: list[Zone], attr: str, more: str) -> str:
    names = [getattr(z, attr) for z in zones[:MAX_NAMED]]
    rest = len(zones) - len(names)
    return ", ".join(names) + (f" {more} {rest}" if rest > 0 else "")


def _geocodes(session: Session, zones: list[Zone]) -> list[tuple[str, str]]:
    """YPES codes of municipalities, ISO 3166-2 of regions, and every region's NUTS-2, in a stable order."""
    tree = risk.zone_tree(session)
    codes: list[tuple[str, str]] = []
    regions: list[str] = []
    for zone in zones:
        if zone.kind == "municipality":
            codes.append((templates.GEOCODE_YPES, zone.code))
        elif zone.kind == "region":
            codes.append((templates.GEOCODE_ISO, zone.code))
        region = zone if zone.kind == "region" else tree.region_of(saved_id(zone))
        if region is not None and region.code not in regions:
            regions.append(region.code)
    nuts = templates.NUTS2_BY_REGION
    codes += [(templates.GEOCODE_NUTS2, nuts[c]) for c in regions if c in nuts]
    return codes


def _regions_of(session: Session, zones: list[Zone]) -> set[int]:
    tree = risk.zone_tree(session)
    found: set[int] = set()
    for zone in zones:
        region = zone if zone.kind == "region" else tree.region_of(saved_id(zone))
        if region is not None:
            found.add(saved_id(region))
    return found


def _zones_by_codes(session: Session, codes: list[str]) -> list[Zone]:
    if not codes or len(codes) > MAX_ZONES:
        raise InvalidInput(f"choose 1 to {MAX_ZONES} zones", code="invalid_area")
    found = {z.code: z for z in session.scalars(select(Zone).where(col(Zone.code).in_(codes)))}
    missing = [c for c in codes if c not in found]
    if missing:
        raise InvalidInput({"message": "unknown zones", "zone_codes": missing}, code="invalid_area")
    return [found[c] for c in dict.fromkeys(codes)]


def _municipalities_touching(session: Session, geom: BaseGeometry) -> list[Zone]:
    """Municipalities the shape overlaps, largest overlap first (the cached zone index, then exact areas)."""
    locator = zones.locators(session).get("municipality")
    if locator is None:
        return []
    hits = locator.tree.query(geom, predicate="intersects")
    overlap = {int(locator.ids[i]): locator.geoms[i].intersection(geom).area for i in hits}
    ids = sorted(overlap, key=lambda z: -overlap[z])[:MAX_ZONES]
    found = {z.id: z for z in session.scalars(select(Zone).where(col(Zone.id).in_(ids)))} if ids else {}
    return [found[i] for i in ids if i in found]


def from_zones(session: Session, codes: list[str]) -> Resolved:
    """The chosen zones' outline (dissolved), named by the zones themselves."""
    zones = _zones_by_codes(session, codes)
    outline = shapely.union_all([z.geom for z in zones])
    return Resolved("zones", outline, _names(zones, "name_el", "και"), _names(zones, "name_en", "and"),
                    _geocodes(session, zones), _regions_of(session, zones), [z.code for z in zones])


def from_polygon(session: Session, geojson: dict) -> Resolved:
    """A drawn polygon; described and geocoded by the municipalities it overlaps."""
    geom = parse_geometry(geojson)
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise InvalidInput("a drawn area must be a Polygon or MultiPolygon", code="invalid_area")
    touched = _municipalities_touching(session, geom)
    if not touched:
        raise InvalidInput("the drawn area lies outside every known municipality", code="invalid_area")
    return Resolved("polygon", geom, "Περιοχή σε: " + _names(touched, "name_el", "και"),
                    "Area in: " + _names(touched, "name_en", "and"), _geocodes(session, touched),
                    _regions_of(session, touched), [])


def from_circle(session: Session, lon: float, lat: float, radius_km: float) -> Resolved:
    """A point and radius; the stored geometry is the centre point (the map draws the circle)."""
    if not 0 < radius_km <= MAX_RADIUS_KM:
        raise InvalidInput(f"radius must be above 0 and at most {MAX_RADIUS_KM:g} km", code="invalid_area")
    centre = Point(round(lon, 6), round(lat, 6))
    touched = _municipalities_touching(session, around(centre, radius_km))
    if not touched:
        raise InvalidInput("the circle lies outside every known municipality", code="invalid_area")
    return Resolved("circle", centre,
                    f"Ακτίνα {radius_km:g} km γύρω από σημείο σε: " + _names(touched, "name_el", "και"),
                    f"{radius_km:g} km around a point in: " + _names(touched, "name_en", "and"),
                    _geocodes(session, touched), _regions_of(session, touched), [], radius_km)


def outline(kind: str, geometry: BaseGeometry, radius_km: float | None) -> BaseGeometry:
    """The area as a shape for maps (a circle as a 24-sided polygon)."""
    if kind == "circle" and radius_km is not None and isinstance(geometry, Point):
        return around(geometry, radius_km)
    return geometry


def cap_shapes(kind: str, geometry: BaseGeometry, radius_km: float | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(polygons, circles) in CAP's text form for a stored area."""
    if kind == "circle" and radius_km is not None and isinstance(geometry, Point):
        return (), (cap_circle(geometry, radius_km),)
    return tuple(cap_polygons(geometry)), ()
