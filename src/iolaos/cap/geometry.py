"""Shapes in CAP's form: ``lat,lon`` pairs, closed rings of at least four pairs, a reasonable number of points."""

from __future__ import annotations

import math

import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

MAX_POINTS = 100  # per polygon; municipality outlines have thousands
MAX_PARTS = 10  # islands: the largest parts only
DECIMALS = 5  # about a metre
MIN_SIZE = 0.001  # degrees; degenerate shapes grow to a box this size


def _parts(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return sorted(geom.geoms, key=lambda p: p.area, reverse=True)[:MAX_PARTS]
    return [geom.envelope if geom.area > 0 else _box_around(geom)]


def _box_around(geom: BaseGeometry) -> Polygon:
    c = geom.centroid
    return box(c.x - MIN_SIZE, c.y - MIN_SIZE, c.x + MIN_SIZE, c.y + MIN_SIZE)


def _simplified(part: Polygon) -> Polygon:
    """The exterior ring with at most MAX_POINTS points, still a valid polygon."""
    shell = Polygon(part.exterior)
    tolerance = 0.0005
    while len(shell.exterior.coords) > MAX_POINTS and tolerance < 1:
        shell = Polygon(part.exterior).simplify(tolerance, preserve_topology=True)
        tolerance *= 2
    if shell.is_empty or not shell.is_valid or len(shell.exterior.coords) > MAX_POINTS:
        shell = part.convex_hull if part.convex_hull.geom_type == "Polygon" else _box_around(part)
        if len(shell.exterior.coords) > MAX_POINTS:
            shell = shell.envelope
    return shapely.orient_polygons(shell, exterior_cw=False)


def _pairs(ring: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Rounded (lon, lat) pairs without repeats in a row, closed."""
    out: list[tuple[float, float]] = []
    for lon, lat in ring:
        pair = (round(lon, DECIMALS), round(lat, DECIMALS))
        if not out or out[-1] != pair:
            out.append(pair)
    if out and out[0] != out[-1]:
        out.append(out[0])
    return out


def cap_polygons(geom: BaseGeometry) -> list[str]:
    """CAP ``<polygon>`` texts for a geometry: ``lat,lon lat,lon …``, closed, each at least four pairs."""
    texts = []
    for part in _parts(geom):
        pairs = _pairs(list(_simplified(part).exterior.coords))
        if len(set(pairs)) < 3:
            pairs = _pairs(list(_box_around(part).exterior.coords))
        texts.append(" ".join(f"{lat},{lon}" for lon, lat in pairs))
    return texts


def cap_circle(point: Point, radius_km: float) -> str:
    """A CAP ``<circle>``: ``lat,lon radius`` (kilometres)."""
    return f"{round(point.y, DECIMALS)},{round(point.x, DECIMALS)} {radius_km:g}"


def around(point: Point, radius_km: float) -> Polygon:
    """A 24-sided polygon about ``radius_km`` around a point (degrees scaled by latitude)."""
    dlat = radius_km / 111.32
    dlon = dlat / max(math.cos(math.radians(point.y)), 0.01)
    ring = [(point.x + dlon * math.cos(a), point.y + dlat * math.sin(a))
            for a in (2 * math.pi * i / 24 for i in range(24))]
    return Polygon(ring)
