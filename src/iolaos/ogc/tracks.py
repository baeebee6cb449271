"""Patrol tracks as features, filtered and paged in SQL with a fixed number of queries.

The old reader ran one query per visible patrol and filtered in Python (0.7 s for four tracks). Now, whatever
the number of patrols: the caller's scopes (cached per request), the visible patrols' ids, one aggregate over
their positions (count, crew, first and last time; the ``datetime`` filter as HAVING; on PostGIS also the
``bbox`` test on the track line and the page with LIMIT/OFFSET and a window count), and one read of the
positions of the tracks on the page. On SQLite, which has no spatial SQL, a ``bbox`` is tested in Python on the
aggregate's survivors before paging (as the zones' bbox uses the in-memory index there).

A track's geometry is the line through its positions in time order (a Point for one position); positions of
volunteers outside the caller's ``volunteer.location`` scope are left out, as in ``field.positions.track``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Point, box
from sqlalchemy import LargeBinary, Select, case, func, over, select, type_coerce
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlmodel import Session, col

from iolaos.auth.principal import Principal, organisation_ids
from iolaos.errors import Forbidden
from iolaos.field.models import PositionReport
from iolaos.kit.ids import saved_id
from iolaos.ogc.paging import Interval
from iolaos.patrols import visibility
from iolaos.patrols.models import Patrol
from iolaos.planning import workflow
from iolaos.volunteers.models import Volunteer

SCAN_LIMIT = 100_000
BBox = tuple[float, float, float, float]
_pr = PositionReport


@dataclass(frozen=True)
class TrackRow:
    """A track's summary from the aggregate query."""

    patrol_id: int
    zone_id: int
    status: str
    shift_start: datetime
    shift_end: datetime
    positions: int
    volunteers: int
    first_at: datetime | None
    last_at: datetime | None


def _scoped(query: Select[*tuple[Any, ...]], allowed: set[int] | None) -> Select[*tuple[Any, ...]]:
    if allowed is None:
        return query
    return (query.join(Volunteer, col(Volunteer.id) == col(_pr.volunteer_id))
            .where(col(Volunteer.organisation_id).in_(allowed)))


def _aggregate(ids: list[int], allowed: set[int] | None, interval: Interval | None) -> Select[*tuple[Any, ...]]:
    """Per visible patrol with positions: its summary, in the order of the patrols list (shift start, id)."""
    summary = (col(Patrol.id), col(Patrol.zone_id), col(Patrol.status), col(Patrol.shift_start),
               col(Patrol.shift_end))
    query = _scoped(select(*summary,
                           func.count().label("n"), func.count(col(_pr.volunteer_id).distinct()),
                           func.min(col(_pr.at)), func.max(col(_pr.at)))
                    .select_from(_pr).join(Patrol, col(Patrol.id) == col(_pr.patrol_id))
                    .where(col(_pr.patrol_id).in_(ids)), allowed)
    query = query.group_by(*summary)
    if interval is not None and interval.start is not None:
        query = query.having(func.max(col(_pr.at)) >= interval.start)
    if interval is not None and interval.end is not None:
        query = query.having(func.min(col(_pr.at)) <= interval.end)
    return query.order_by(col(Patrol.shift_start), col(Patrol.id))


def _postgis_bbox(bbox: BBox) -> Any:
    """HAVING: the track line (or its single point) meets the box."""
    envelope = func.ST_MakeEnvelope(*bbox, 4326)
    line = func.ST_MakeLine(aggregate_order_by(col(_pr.point), col(_pr.at), col(_pr.id)))
    return case((func.count() > 1, func.ST_Intersects(line, envelope)),
                else_=func.ST_Intersects(func.ST_Collect(col(_pr.point)), envelope))


def _coordinates(session: Session, ids: Iterable[int], allowed: set[int] | None, *, times: bool = True
                 ) -> dict[int, tuple[np.ndarray, list[datetime]]]:
    """Each patrol's positions in time order: (lon/lat array, times), in one query (``times=False``: no times,
    which a page of tracks does not need and which cost more to read than the points on SQLite)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    postgis = session.get_bind().dialect.name == "postgresql"
    point = col(_pr.point)
    geometry = (func.ST_X(point), func.ST_Y(point)) if postgis else (type_coerce(point, LargeBinary),)
    columns = (col(_pr.patrol_id), col(_pr.at)) if times else (col(_pr.patrol_id),)
    rows = session.execute(_scoped(select(*columns, *geometry).where(col(_pr.patrol_id).in_(wanted)),
                                   allowed).order_by(col(_pr.patrol_id), col(_pr.at), col(_pr.id))).all()
    first = len(columns)
    if postgis:
        coords = np.array([(r[first], r[first + 1]) for r in rows], dtype=float).reshape(-1, 2)
    else:
        coords = _points_from_wkb([r[first] for r in rows])
    found: dict[int, tuple[np.ndarray, list[datetime]]] = {}
    start = 0
    for end in range(1, len(rows) + 1):
        if end == len(rows) or rows[end][0] != rows[start][0]:
            found[rows[start][0]] = (coords[start:end], [r[1] for r in rows[start:end]] if times else [])
            start = end
    return found


_WKB_POINT = b"\x01\x01\x00\x00\x00"  # little-endian 2D Point, as shapely writes a position (21 bytes)
_WKB_POINTS = np.dtype([("head", "V5"), ("x", "<f8"), ("y", "<f8")])


def _points_from_wkb(blobs: list[bytes]) -> np.ndarray:
    """Lon/lat of WKB points: read straight from the bytes when all are plain 2D points (a GEOS object per point
    cost 80 ms for 6,000), else decoded by shapely in one vectorised call."""
    if not blobs:
        return np.empty((0, 2))
    if all(len(b) == 21 and b[:5] == _WKB_POINT for b in blobs):
        packed = np.frombuffer(b"".join(blobs), dtype=_WKB_POINTS)
        return np.column_stack((packed["x"], packed["y"]))
    return shapely.get_coordinates(shapely.from_wkb([bytes(b) for b in blobs]))


def _geometry(coords: np.ndarray) -> Any:
    return LineString(coords) if len(coords) > 1 else Point(coords[0])


def _geojson(coords: np.ndarray) -> dict[str, Any]:
    """What ``to_geojson(_geometry(coords))`` gives (rounded to 6 decimals), without making the geometry."""
    rounded = coords.round(6)
    if len(rounded) > 1:
        return {"type": "LineString", "coordinates": rounded.tolist()}
    return {"type": "Point", "coordinates": rounded[0].tolist()}


def feature(row: TrackRow, geometry: dict[str, Any] | None) -> dict[str, Any]:
    """A track as a GeoJSON feature (the properties of the REST and export layers)."""
    return {
        "type": "Feature", "id": row.patrol_id, "geometry": geometry,
        "properties": {
            "patrol_id": row.patrol_id, "zone_id": row.zone_id, "status": row.status,
            "shift_start": row.shift_start.isoformat(), "shift_end": row.shift_end.isoformat(),
            "positions": row.positions, "volunteers": row.volunteers,
            "first_at": row.first_at.isoformat() if row.first_at else None,
            "last_at": row.last_at.isoformat() if row.last_at else None,
        },
    }


def items(session: Session, principal: Principal, *, bbox: BBox | None, interval: Interval | None, limit: int,
          offset: int) -> tuple[list[dict[str, Any]], int]:
    """A page of tracks the caller may see and locate, in ``bbox`` and within ``interval``; (features, matched)."""
    principal.scope("volunteer.location")
    allowed = organisation_ids(session, principal, "volunteer.location")
    ids = [saved_id(p) for p in workflow.list_visible(session, principal, day=None, status=None, limit=SCAN_LIMIT,
                                                      offset=0)]
    may_locate = visibility.locatable(session, principal, ids)  # the one location rule (docs/permissions.md)
    ids = [i for i in ids if i in may_locate]
    if not ids:
        return [], 0
    query = _aggregate(ids, allowed, interval)
    postgis = session.get_bind().dialect.name == "postgresql"
    if postgis or bbox is None:  # everything in SQL, the page included
        if bbox is not None:
            query = query.having(_postgis_bbox(bbox))
        rows = session.execute(query.add_columns(over(func.count())).limit(limit).offset(offset)).all()
        matched = rows[0][-1] if rows else _count(session, query, offset)
        tracks = [TrackRow(*r[:9]) for r in rows]
        coords = _coordinates(session, (t.patrol_id for t in tracks), allowed, times=False)
        return [feature(t, _geojson(coords[t.patrol_id][0])) for t in tracks], matched
    # SQLite with a bbox: the geometry test runs here, on the tracks that passed the SQL filters.
    tracks = [TrackRow(*r) for r in session.execute(query).all()]
    coords = _coordinates(session, (t.patrol_id for t in tracks), allowed, times=False)
    area = box(*bbox)
    kept = [t for t in tracks if _geometry(coords[t.patrol_id][0]).intersects(area)]
    return [feature(t, _geojson(coords[t.patrol_id][0])) for t in kept[offset:offset + limit]], len(kept)


def _count(session: Session, query: Select[*tuple[Any, ...]], offset: int) -> int:
    """How many tracks match when the page is empty (an offset past the end): one more query, only then."""
    if offset == 0:
        return 0
    return int(session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)


def one(session: Session, principal: Principal, patrol: Patrol) -> dict[str, Any]:
    """One visible patrol's track (null geometry and zero counts without positions)."""
    principal.scope("volunteer.location")
    patrol_id = saved_id(patrol)
    if patrol_id not in visibility.locatable(session, principal, [patrol_id]):
        raise Forbidden("you may see this patrol but not where it is (docs/permissions.md, \"Location\")",
                        code="location_not_visible")
    allowed = organisation_ids(session, principal, "volunteer.location")
    coords, times = _coordinates(session, [patrol_id], allowed).get(patrol_id, (np.empty((0, 2)), []))
    n = len(times)
    vols = 0
    if n:
        vols = int(session.scalar(_scoped(select(func.count(col(_pr.volunteer_id).distinct()))
                                          .where(col(_pr.patrol_id) == patrol_id), allowed)) or 0)
    row = TrackRow(patrol_id, patrol.zone_id, patrol.status, patrol.shift_start, patrol.shift_end, n, vols,
                   times[0] if n else None, times[-1] if n else None)
    return feature(row, _geojson(coords) if n else None)
