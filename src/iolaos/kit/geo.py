"""GeoJSON ⇄ shapely, validity checks and the one SRID policy (EPSG:4326, lon/lat)."""

from __future__ import annotations

import json
import math
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

from iolaos.errors import InvalidInput

LON_RANGE = (-180.0, 180.0)
LAT_RANGE = (-90.0, 90.0)


def geometry_problem(geom: BaseGeometry | None) -> str | None:
    """Why a geometry is unusable, or None when it is fine (valid, non-empty, lon/lat in range)."""
    if geom is None or geom.is_empty:
        return "empty geometry"
    minx, miny, maxx, maxy = geom.bounds
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        return "coordinates are not finite numbers"
    if minx < LON_RANGE[0] or maxx > LON_RANGE[1] or miny < LAT_RANGE[0] or maxy > LAT_RANGE[1]:
        return (
            f"coordinates out of lon/lat range (bounds {minx:.6g},{miny:.6g},{maxx:.6g},{maxy:.6g}); "
            "is the file in another CRS without saying so?"
        )
    if not geom.is_valid:
        return f"invalid geometry: {shapely.is_valid_reason(geom)}"
    return None


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """A Polygon or MultiPolygon as a MultiPolygon with counter-clockwise exteriors (RFC 7946)."""
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    if not isinstance(geom, MultiPolygon):
        raise InvalidInput(f"expected Polygon or MultiPolygon, got {geom.geom_type}", code="invalid_geometry")
    return shapely.orient_polygons(geom, exterior_cw=False)


def parse_geometry(obj: Any) -> BaseGeometry:
    """A GeoJSON geometry object (dict or JSON text) as a valid shapely geometry, or a 422."""
    if isinstance(obj, str):
        try:
            obj = json.loads(obj)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"geometry is not JSON: {exc.msg}", code="invalid_geometry") from exc
    if not isinstance(obj, dict) or "type" not in obj:
        raise InvalidInput("geometry must be a GeoJSON geometry object", code="invalid_geometry")
    try:
        geom = shape(obj)
    except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.ShapelyError) as exc:
        raise InvalidInput(f"unreadable GeoJSON geometry: {exc}", code="invalid_geometry") from exc
    problem = geometry_problem(geom)
    if problem:
        raise InvalidInput(problem, code="invalid_geometry")
    return geom


def to_geojson(geom: BaseGeometry, precision: int = 6) -> dict[str, Any]:
    """A shapely geometry as an RFC 7946 geometry dict: counter-clockwise exteriors, rounded
    to ``precision`` decimals (6 is about 0.1 m)."""
    if geom.geom_type in ("Polygon", "MultiPolygon", "GeometryCollection"):
        geom = shapely.orient_polygons(geom, exterior_cw=False)
    return mapping(shapely.transform(geom, lambda coords: coords.round(precision)))


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``minLon,minLat,maxLon,maxLat`` as numbers in range, or a 422 that says what is wrong."""
    parts = text.split(",")
    if len(parts) != 4:
        raise InvalidInput("bbox needs four numbers: minLon,minLat,maxLon,maxLat", code="invalid_bbox")
    try:
        minx, miny, maxx, maxy = (float(p) for p in parts)
    except ValueError as exc:
        raise InvalidInput("bbox values must be numbers", code="invalid_bbox") from exc
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise InvalidInput("bbox values must be finite", code="invalid_bbox")
    if not (LON_RANGE[0] <= minx <= LON_RANGE[1] and LON_RANGE[0] <= maxx <= LON_RANGE[1]):
        raise InvalidInput("bbox longitudes must lie in [-180, 180]", code="invalid_bbox")
    if not (LAT_RANGE[0] <= miny <= LAT_RANGE[1] and LAT_RANGE[0] <= maxy <= LAT_RANGE[1]):
        raise InvalidInput("bbox latitudes must lie in [-90, 90]", code="invalid_bbox")
    if minx > maxx or miny > maxy:
        raise InvalidInput("bbox minimum must not exceed maximum", code="invalid_bbox")
    return minx, miny, maxx, maxy


def check_lonlat(lon: float, lat: float) -> None:
    """Reject a point outside lon/lat range with a 422."""
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise InvalidInput("lon and lat must be finite numbers", code="invalid_point")
    if not (LON_RANGE[0] <= lon <= LON_RANGE[1] and LAT_RANGE[0] <= lat <= LAT_RANGE[1]):
        raise InvalidInput("lon must lie in [-180, 180] and lat in [-90, 90]", code="invalid_point")
