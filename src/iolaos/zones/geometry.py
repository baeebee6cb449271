"""Zone geometry for the wire: full or simplified for a map zoom, encoded once and kept in memory.

``GET /api/v1/zones?kind=municipality`` used to decode, reorient, round and JSON-encode every boundary on every
request (the full Kallikratis boundaries are megabytes). Boundaries change only by an audited import, so each
geometry's GeoJSON text is cached per database, zone, version (``updated_at``) and tolerance: a changed zone
gets a new key, and the cache is simply emptied when it grows past ``CACHE_SIZE`` entries.

A map at zoom ``z`` shows ``360 / (256 · 2^z)`` degrees per pixel; simplifying with half of that moves no
vertex by more than half a pixel there (Douglas–Peucker, topology preserved, so polygons stay valid).
Without ``zoom`` or ``tolerance`` the full geometry is served, as before.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import shapely
from sqlalchemy import select
from sqlmodel import Session, col

from iolaos.kit.geo import to_geojson
from iolaos.kit.ids import saved_id
from iolaos.zones.models import Zone

CACHE_SIZE = 20_000
MAX_ZOOM = 20
_cache: dict[tuple[str, int, datetime | None, float], str] = {}


def tolerance_for(zoom: int | None, tolerance: float | None) -> float:
    """Degrees of simplification: explicit, else half a pixel at ``zoom``, else 0 (full geometry)."""
    if tolerance is not None:
        return float(tolerance)
    if zoom is None:
        return 0.0
    return 360.0 / (256 * 2**zoom) / 2


def _encode(geom: Any, tolerance: float) -> str:
    if tolerance > 0:
        geom = shapely.simplify(geom, tolerance, preserve_topology=True)
    return json.dumps(to_geojson(geom), separators=(",", ":"))


def geometry_texts(session: Session, zones: list[Zone], tolerance: float) -> dict[int, str]:
    """GeoJSON text of each zone's geometry at ``tolerance``; geometries not cached are read in one query."""
    url = str(session.get_bind().engine.url)
    keys = {saved_id(z): (url, saved_id(z), z.updated_at, tolerance) for z in zones}
    found = {zid: text for zid, key in keys.items() if (text := _cache.get(key)) is not None}
    missing = [zid for zid in keys if zid not in found]
    if missing:
        if len(_cache) + len(missing) > CACHE_SIZE:
            _cache.clear()
        for zid, geom in session.execute(select(col(Zone.id), col(Zone.geom)).where(col(Zone.id).in_(missing))):
            found[zid] = _cache[keys[zid]] = _encode(geom, tolerance)
    return found


def collection_json(features: list[tuple[Zone, str | None]], parents: dict[int, str], *, matched: int,
                    links: list[dict[str, str]]) -> str:
    """A FeatureCollection as JSON text, splicing in the cached geometry texts (None: no geometry)."""
    parts = []
    for zone, geometry in features:
        props = {"id": zone.id, "code": zone.code, "kind": zone.kind, "name_el": zone.name_el,
                 "name_en": zone.name_en, "parent_code": parents.get(zone.parent_id) if zone.parent_id else None,
                 "area_km2": zone.area_km2}
        parts.append(f'{{"type":"Feature","id":{json.dumps(zone.code)},"geometry":{geometry or "null"},'
                     f'"properties":{json.dumps(props, ensure_ascii=False, separators=(",", ":"))}}}')
    links_text = json.dumps([{**link, "type": "application/geo+json"} for link in links], separators=(",", ":"))
    return (f'{{"type":"FeatureCollection","features":[{",".join(parts)}],"numberMatched":{matched},'
            f'"numberReturned":{len(parts)},"links":{links_text}}}')
