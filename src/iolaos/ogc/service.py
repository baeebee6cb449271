"""The four feature collections, read through each feature's own service with its scoping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from shapely.geometry import box
from sqlmodel import Session

from iolaos.auth.principal import Principal
from iolaos.errors import NotFound
from iolaos.field import positions
from iolaos.incidents import service as incidents
from iolaos.incidents.models import Incident
from iolaos.kit.geo import to_geojson
from iolaos.kit.ids import saved_id
from iolaos.kit.time import utcnow
from iolaos.ogc import tracks
from iolaos.ogc.paging import Interval
from iolaos.risk import service as risk
from iolaos.risk.models import CATEGORIES
from iolaos.zones import service as zones
from iolaos.zones.models import Zone

ATHENS = ZoneInfo("Europe/Athens")
SCAN_LIMIT = 100_000  # scoped lists are filtered in memory; far above a season's incidents or patrols
BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class Page:
    """Features of one page and how many matched in all."""

    features: list[dict[str, Any]]
    matched: int


@dataclass(frozen=True)
class Query:
    """The items filters common to every collection."""

    bbox: BBox | None
    interval: Interval | None
    limit: int
    offset: int


def _page(features: list[dict[str, Any]], query: Query) -> Page:
    return Page(features[query.offset:query.offset + query.limit], len(features))


def _in_bbox(geom: Any, bbox: BBox | None) -> bool:
    return bbox is None or (geom is not None and geom.intersects(box(*bbox)))


# --- zones (public) -------------------------------------------------------------------------------------------

def zone_items(session: Session, query: Query, kind: str | None) -> Page:
    """A page of zones intersecting the bbox (zones have no time, so ``datetime`` does not filter them)."""
    page, total = zones.list_zones(session, kind=kind, bbox=query.bbox, limit=query.limit, offset=query.offset)
    parents = zones.parent_codes(session, page)
    return Page([zones.zone_feature(z, zones.parent_code(parents, z)) for z in page], total)


def zone_item(session: Session, code: str) -> dict[str, Any]:
    """One zone by code (404 if unknown)."""
    zone = zones.get_zone(session, code)
    return zones.zone_feature(zone, zones.parent_code(zones.parent_codes(session, [zone]), zone))


# --- risk levels (public) -------------------------------------------------------------------------------------

def risk_day(interval: Interval | None) -> date:
    """The day a ``datetime`` filter names (its start, in Athens time); today in Athens without one."""
    moment = (interval.start or interval.end) if interval else None
    return (moment or utcnow()).astimezone(ATHENS).date()


def _risk_feature(session: Session, zone: Zone, parent: str | None, day: date, level: risk.Effective
                  ) -> dict[str, Any]:
    feature = zones.zone_feature(zone, parent)
    label_en, label_el, colour, hex_colour = CATEGORIES[level.category]
    origin = risk.zone_tree(session).by_id[level.row.zone_id].code
    feature["properties"].update({"day": day.isoformat(), "category": level.category, "label_en": label_en,
                                  "label_el": label_el, "colour": colour, "hex": hex_colour,
                                  "inherited": level.inherited, "from_zone_code": origin})
    return feature


def risk_items(session: Session, query: Query, kind: str | None) -> Page:
    """Zones with a category in force on the day (own or inherited), each with its category, label and colour."""
    day = risk_day(query.interval)
    levels = risk.effective_levels(session, day)
    found, _ = zones.list_zones(session, kind=kind, bbox=query.bbox, limit=SCAN_LIMIT)
    rated = [z for z in found if z.id in levels]
    page = rated[query.offset:query.offset + query.limit]
    parents = zones.parent_codes(session, page)
    return Page([_risk_feature(session, z, zones.parent_code(parents, z), day, levels[saved_id(z)]) for z in page],
                len(rated))


def risk_item(session: Session, code: str, interval: Interval | None) -> dict[str, Any]:
    """One zone's category on the day (404 if the zone is unknown or has none that day)."""
    zone = zones.get_zone(session, code)
    day = risk_day(interval)
    level = risk.effective_level(session, saved_id(zone), day)
    if level is None:
        raise NotFound(f"zone {code!r} has no published fire-risk category on {day.isoformat()}")
    return _risk_feature(session, zone, zones.parent_code(zones.parent_codes(session, [zone]), zone), day, level)


# --- incidents (token) ----------------------------------------------------------------------------------------

def incident_feature(incident: Incident) -> dict[str, Any]:
    """An incident as a Point feature."""
    return {
        "type": "Feature", "id": incident.id, "geometry": to_geojson(incident.point),
        "properties": {
            "id": incident.id, "kind": incident.kind, "severity": incident.severity, "status": incident.status,
            "description": incident.description, "zone_id": incident.zone_id,
            "lead_organisation_id": incident.lead_organisation_id,
            "created_at": incident.created_at.isoformat(), "updated_at": incident.updated_at.isoformat(),
        },
    }


def incident_items(session: Session, principal: Principal, query: Query) -> Page:
    """Incidents the caller may see, in the bbox, reported within the interval, newest first."""
    found = incidents.list_visible(session, principal, status=None, open_only=False, limit=SCAN_LIMIT, offset=0)
    kept = [i for i in found if _in_bbox(i.point, query.bbox)
            and (query.interval is None or query.interval.overlaps(i.created_at, i.created_at))]
    return _page([incident_feature(i) for i in kept], query)


def incident_item(session: Session, principal: Principal, incident_id: int) -> dict[str, Any]:
    """One incident the caller may see (404 otherwise)."""
    return incident_feature(incidents.get_visible(session, principal, incident_id))


# --- patrol tracks (token, volunteer.location) ----------------------------------------------------------------

def track_items(session: Session, principal: Principal, query: Query) -> Page:
    """Tracks of patrols the caller may see and locate, meeting the bbox and interval (in SQL: ogc/tracks.py)."""
    features, matched = tracks.items(session, principal, bbox=query.bbox, interval=query.interval,
                                     limit=query.limit, offset=query.offset)
    return Page(features, matched)


def track_item(session: Session, principal: Principal, patrol_id: int) -> dict[str, Any]:
    """One patrol's track (404 if the patrol is not visible, 403 without volunteer.location)."""
    patrol = positions.ensure_patrol(session, principal, patrol_id)
    return tracks.one(session, principal, patrol)
