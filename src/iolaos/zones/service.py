"""Rules and queries for zones: listing, locating points, and audited upserts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from shapely.geometry import MultiPolygon
from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import defer
from sqlmodel import Session, col

from iolaos.auth.actor import Actor
from iolaos.errors import InvalidInput, NotFound
from iolaos.journal import service as journal
from iolaos.kit.geo import check_lonlat, to_geojson
from iolaos.kit.time import utcnow
from iolaos.zones.locator import LocatorCache, ZoneLocator
from iolaos.zones.models import ZONE_KINDS, Zone

_KIND_ORDER = {"sector": 0, "municipality": 1, "region": 2}
_locators: dict[str, LocatorCache] = {}


@dataclass(frozen=True)
class ZoneInput:
    """A zone to create or update, as an importer or API call hands it to the service."""

    code: str
    kind: str
    name_el: str
    name_en: str
    geom: MultiPolygon
    parent_code: str | None = None
    area_km2: float | None = None


def _is_postgis(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _version(session: Session) -> tuple:
    """Cheap fingerprint of the zone table; any insert or update changes it."""
    row = session.execute(select(func.count(col(Zone.id)), func.max(col(Zone.updated_at)),
                                 func.max(col(Zone.id)))).one()
    return tuple(row)


def locators(session: Session) -> dict[str, ZoneLocator]:
    """In-memory locators per kind for this database, rebuilt when zones change."""
    bind = session.get_bind()
    cache = _locators.setdefault(str(bind.engine.url), LocatorCache())

    def load() -> dict[str, tuple[list[int], list[Any]]]:
        out: dict[str, tuple[list[int], list[Any]]] = {}
        rows = session.execute(select(col(Zone.id), col(Zone.kind), col(Zone.geom)).order_by(col(Zone.id)))
        for zid, kind, geom in rows:
            ids, geoms = out.setdefault(kind, ([], []))
            ids.append(zid)
            geoms.append(geom)
        return out

    return cache.get(_version(session), load)


def locate_many(session: Session, lons: np.ndarray, lats: np.ndarray, kind: str = "municipality") -> np.ndarray:
    """Bulk locate: for each point the id of the ``kind`` zone containing it, or -1 (at sea, abroad)."""
    locator = locators(session).get(kind)
    if locator is None:
        return np.full(len(lons), -1, dtype=np.int64)
    return locator.locate_xy(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))


def locate(session: Session, lon: float, lat: float) -> list[Zone]:
    """All zones that contain the point, smallest kind first (sector, municipality, region)."""
    check_lonlat(lon, lat)
    if _is_postgis(session):
        point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
        zones = list(session.scalars(select(Zone).where(func.ST_Intersects(Zone.geom, point))))
    else:
        ids = [int(loc.locate_xy(np.array([lon]), np.array([lat]))[0]) for loc in locators(session).values()]
        wanted = [i for i in ids if i >= 0]
        zones = list(session.scalars(select(Zone).where(col(Zone.id).in_(wanted)))) if wanted else []
    return sorted(zones, key=lambda z: (_KIND_ORDER.get(z.kind, 9), z.code))


def list_zones(
    session: Session,
    *,
    kind: str | None = None,
    parent_code: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    limit: int = 100,
    offset: int = 0,
    defer_geometry: bool = False,
) -> tuple[list[Zone], int]:
    """A page of zones matching the filters, ordered by code, and the total number matching.

    ``defer_geometry``: leave the (large) boundaries unread, for callers that take them from ``zones.geometry``.
    """
    if kind is not None and kind not in ZONE_KINDS:
        raise InvalidInput(f"unknown zone kind {kind!r}; expected one of {', '.join(ZONE_KINDS)}",
                           code="invalid_kind")
    query = select(Zone)
    if kind:
        query = query.where(col(Zone.kind) == kind)
    if parent_code:
        parent = session.scalar(select(col(Zone.id)).where(col(Zone.code) == parent_code))
        query = query.where(col(Zone.parent_id) == (parent if parent is not None else -1))
    if bbox:
        query = query.where(_bbox_clause(session, bbox))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if defer_geometry:
        query = query.options(defer(Zone.geom))  # geom is typed Any, which defer() accepts (col() would not)
    page = session.scalars(query.order_by(Zone.code).limit(limit).offset(offset)).all()
    return list(page), total


def _bbox_clause(session: Session, bbox: tuple[float, float, float, float]) -> Any:
    """SQL condition for 'intersects the box': PostGIS in SQL, the in-memory index on SQLite."""
    if _is_postgis(session):
        return func.ST_Intersects(Zone.geom, func.ST_MakeEnvelope(*bbox, 4326))
    ids = [int(i) for loc in locators(session).values() for i in loc.ids_in_bbox(bbox)]
    return col(Zone.id).in_(ids) if ids else or_(False)


def get_zone(session: Session, code: str, *, with_geometry: bool = True) -> Zone:
    """One zone by code, or 404 (``with_geometry=False``: its boundary is not read)."""
    query = select(Zone).where(col(Zone.code) == code)
    zone = session.scalar(query if with_geometry else query.options(defer(Zone.geom)))
    if zone is None:
        raise NotFound(f"no zone with code {code!r}")
    return zone


def parent_codes(session: Session, zones: list[Zone]) -> dict[int, str]:
    """Codes of the parents of ``zones``, by parent id, in one query."""
    ids = {z.parent_id for z in zones if z.parent_id is not None}
    if not ids:
        return {}
    return dict(session.execute(select(col(Zone.id), col(Zone.code)).where(col(Zone.id).in_(ids))).all())


def parent_code(parents: dict[int, str], zone: Zone) -> str | None:
    """``zone``'s parent's code from what ``parent_codes`` found (None for a zone without a parent)."""
    return parents.get(zone.parent_id) if zone.parent_id is not None else None


def zone_feature(zone: Zone, parent_code: str | None, *, with_geometry: bool = True) -> dict[str, Any]:
    """A zone as an RFC 7946 Feature."""
    return {
        "type": "Feature",
        "id": zone.code,
        "geometry": to_geojson(zone.geom) if with_geometry else None,
        "properties": {
            "id": zone.id, "code": zone.code, "kind": zone.kind, "name_el": zone.name_el,
            "name_en": zone.name_en, "parent_code": parent_code, "area_km2": zone.area_km2,
        },
    }


def upsert_zones(session: Session, *, actor: Actor, items: list[ZoneInput], source: str) -> dict[str, int]:
    """Create or update zones by code in this transaction, journalled as one import.

    Parents must exist already or be part of the same batch; an unknown parent code fails the
    whole batch (nothing is written because the caller's transaction rolls back).
    """
    codes = [item.code for item in items]
    existing = {z.code: z for z in session.scalars(select(Zone).where(col(Zone.code).in_(codes)))} if codes else {}
    created, updated, now = [], [], utcnow()
    for item in items:
        zone = existing.get(item.code)
        if zone is None:
            zone = Zone(code=item.code, kind=item.kind, name_el=item.name_el, name_en=item.name_en,
                        geom=item.geom, area_km2=item.area_km2, created_at=now, updated_at=now)
            session.add(zone)
            existing[item.code] = zone
            created.append(item.code)
        else:
            _apply(zone, item, now)
            updated.append(item.code)
    session.flush()
    _link_parents(session, items, existing)
    journal.record(session, actor=actor, action="zones.import", subject_type="zone_set", subject_id=source[:80],
                   data={"source": source, "created": created, "updated": updated},
                   topics=["zones"], payload={"created": len(created), "updated": len(updated)})
    return {"created": len(created), "updated": len(updated)}


def _apply(zone: Zone, item: ZoneInput, now: Any) -> None:
    zone.kind, zone.name_el, zone.name_en = item.kind, item.name_el, item.name_en
    zone.geom, zone.area_km2, zone.updated_at = item.geom, item.area_km2, now


def _link_parents(session: Session, items: list[ZoneInput], by_code: dict[str, Zone]) -> None:
    """Resolve parent codes to ids; all unknown codes are reported together."""
    wanted = {i.parent_code for i in items if i.parent_code} - set(by_code)
    if wanted:
        by_code.update({z.code: z for z in session.scalars(select(Zone).where(col(Zone.code).in_(wanted)))})
    missing = sorted({i.parent_code for i in items if i.parent_code and i.parent_code not in by_code})
    if missing:
        raise InvalidInput({"message": "unknown parent zone codes", "codes": missing}, code="unknown_parent")
    for item in items:
        zone = by_code[item.code]
        zone.parent_id = by_code[item.parent_code].id if item.parent_code else None
    session.flush()


def analyze(session: Session) -> None:
    """Refresh planner statistics after a bulk import (PostgreSQL only)."""
    if _is_postgis(session):
        session.execute(text("ANALYZE zone"))
