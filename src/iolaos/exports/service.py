"""Layers as GeoDataFrames (through the OGC feature readers, so scoping is the REST API's), and files from them."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
from shapely.geometry import shape
from sqlmodel import Session

from iolaos.auth.principal import Principal
from iolaos.kit import csvsafe
from iolaos.kit.geo import to_geojson
from iolaos.ogc import service as features
from iolaos.planning import workflow

FORMATS = {"gpkg": "application/geopackage+sqlite3", "geojson": "application/geo+json", "csv": "text/csv"}
ALL = features.Query(bbox=None, interval=None, limit=features.SCAN_LIMIT, offset=0)


def zone_features(session: Session) -> list[dict[str, Any]]:
    """Every zone (public)."""
    return features.zone_items(session, ALL, None).features


def incident_features(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """Incidents the caller may see."""
    return features.incident_items(session, principal, ALL).features


def track_features(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """Tracks of patrols the caller may locate."""
    return features.track_items(session, principal, ALL).features


def patrol_features(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """Patrols the caller may see, with their route where one is planned."""
    patrols = workflow.list_visible(session, principal, day=None, status=None, limit=features.SCAN_LIMIT, offset=0)
    return [{"type": "Feature", "id": p.id, "geometry": to_geojson(p.route) if p.route is not None else None,
             "properties": {"id": p.id, "zone_id": p.zone_id, "organisation_id": p.organisation_id,
                            "shift_start": p.shift_start.isoformat(), "shift_end": p.shift_end.isoformat(),
                            "status": p.status, "field_status": p.field_status, "crew_size": p.crew_size,
                            "capability": p.capability, "risk_category": p.risk_category,
                            "leader_volunteer_id": p.leader_volunteer_id}} for p in patrols]


def frame(items: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    """Features as a GeoDataFrame in EPSG:4326 (the feature id kept as ``fid_`` when not a property)."""
    rows = [{**f["properties"], "geometry": shape(f["geometry"]) if f["geometry"] else None} for f in items]
    if not rows:
        return gpd.GeoDataFrame({"id": []}, geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def encode(gdf: gpd.GeoDataFrame, fmt: str, layer: str) -> bytes:
    """The frame as a file: GeoPackage (one layer), RFC 7946 GeoJSON, or CSV with WKT geometry."""
    if fmt == "geojson":
        return gdf.to_json(drop_id=True, to_wgs84=True).encode()
    if fmt == "csv":
        out = gdf.assign(geometry=gdf.geometry.to_wkt())
        out = out.astype(object).where(out.notna(), None)  # empty cells, not "nan"
        return "".join(csvsafe.lines(list(out.columns), out.itertuples(index=False, name=None))).encode()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{layer}.gpkg"
        gdf.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
        return path.read_bytes()
