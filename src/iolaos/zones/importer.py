"""Reading zone files (GeoJSON, Shapefile, GeoPackage) into validated ``ZoneInput``s.

Everything is checked before anything is written: a file either imports whole or not at all,
and a failed import lists every bad feature and why.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from pyproj import CRS
from pyproj.exceptions import CRSError, ProjError

from iolaos.errors import InvalidInput
from iolaos.kit.geo import as_multipolygon, geometry_problem
from iolaos.zones.models import ZONE_KINDS
from iolaos.zones.service import ZoneInput

MAX_PROBLEMS_SHOWN = 50


@dataclass(frozen=True)
class FieldMap:
    """Which attribute of the file holds each zone field."""

    code: str
    name_el: str
    name_en: str | None = None
    parent: str | None = None
    area_km2: str | None = None


# Defaults fit the files in ../shared/data (see its README).
DEFAULT_FIELDS = {
    "region": FieldMap(code="region_iso", name_el="region_el", name_en="region_en", area_km2="area_km2"),
    "municipality": FieldMap(code="ypes_code", name_el="name_el_full", name_en="name_latin",
                             parent="region_iso", area_km2="area_km2"),
    "sector": FieldMap(code="code", name_el="name_el", name_en="name_en", parent="parent_code"),
}


@dataclass
class ImportReport:
    """What an import would do, or why it cannot."""

    items: list[ZoneInput] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)


class ImportFailed(InvalidInput):
    """The file cannot be imported; ``detail`` lists every bad feature."""

    code = "import_failed"


def read_frame(path: str | Path) -> gpd.GeoDataFrame:
    """Read a vector file into EPSG:4326, or fail with a clear reason."""
    path = Path(path)
    if not path.exists():
        raise ImportFailed(f"{path}: no such file", code="file_not_found")
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable input
        raise ImportFailed(f"{path.name}: not a readable vector file ({_short(exc)})", code="unreadable_file") from exc
    if "geometry" not in frame or frame.geometry.isna().all():
        raise ImportFailed(f"{path.name}: the file has no geometries", code="no_geometry")
    _check_declared_crs(path, frame)
    return to_wgs84(frame, path.name)


def _check_declared_crs(path: Path, frame: gpd.GeoDataFrame) -> None:
    """Refuse a CRS the file declares but we cannot understand.

    GDAL quietly falls back to WGS 84 for an unknown GeoJSON ``crs`` member and drops an
    unreadable ``.prj``; importing such a file would put every zone in the wrong place.
    """
    declared: str | None = None
    if path.suffix.lower() in (".geojson", ".json"):
        with path.open("rb") as handle:
            document = json.load(handle)
        crs_member = document.get("crs") if isinstance(document, dict) else None
        if isinstance(crs_member, dict):
            declared = str((crs_member.get("properties") or {}).get("name") or crs_member)
    elif path.suffix.lower() == ".shp" and path.with_suffix(".prj").exists():
        declared = path.with_suffix(".prj").read_text(errors="replace")
        if frame.crs is None:
            raise ImportFailed(f"{path.name}: the .prj file does not describe a known CRS", code="unknown_crs")
    if declared is None:
        return
    try:
        CRS.from_user_input(declared)
    except CRSError as exc:
        raise ImportFailed(f"{path.name}: unknown CRS {declared[:80]!r}", code="unknown_crs") from exc


def to_wgs84(frame: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """Reproject to EPSG:4326 when the file declares another CRS; a CRS we cannot use is an error."""
    if frame.crs is None:
        return frame  # GeoJSON's default is WGS 84; the lon/lat range check catches other data
    try:
        if frame.crs.to_epsg() == 4326 or frame.crs.equals("OGC:CRS84"):
            return frame.set_crs(4326, allow_override=True)
        return frame.to_crs(4326)
    except (CRSError, ProjError, ValueError, RuntimeError) as exc:
        raise ImportFailed(f"{name}: cannot use the file's CRS ({_short(exc)})", code="unknown_crs") from exc


def build_inputs(frame: gpd.GeoDataFrame, kind: str, fields: FieldMap | None = None,
                 progress: Callable[[int], None] | None = None) -> ImportReport:
    """Validate every feature and turn the good ones into ``ZoneInput``s."""
    if kind not in ZONE_KINDS:
        raise InvalidInput(f"unknown zone kind {kind!r}; expected one of {', '.join(ZONE_KINDS)}",
                           code="invalid_kind")
    fields = fields or DEFAULT_FIELDS[kind]
    missing = [f for f in (fields.code, fields.name_el) if f not in frame.columns]
    if missing:
        raise ImportFailed({"message": "required attributes are missing", "attributes": missing,
                            "available": [c for c in frame.columns if c != "geometry"]},
                           code="missing_attributes")
    report, seen = ImportReport(), set[str]()
    for position, row in enumerate(frame.itertuples(index=False)):
        record = row._asdict()
        problem = _row_problem(record, fields, seen)
        if problem:
            report.problems.append({"feature": position, "code": _text(record.get(fields.code)), "problem": problem})
        else:
            report.items.append(_to_input(record, kind, fields))
            seen.add(report.items[-1].code)
        if progress:
            progress(1)
    return report


def _row_problem(record: dict[str, Any], fields: FieldMap, seen: set[str]) -> str | None:
    code = _text(record.get(fields.code))
    if not code:
        return f"attribute {fields.code!r} (code) is empty"
    if len(code) > 40:
        return "code is longer than 40 characters"
    if code in seen:
        return f"code {code!r} appears more than once in the file"
    if not _text(record.get(fields.name_el)):
        return f"attribute {fields.name_el!r} (Greek name) is empty"
    geom = record.get("geometry")
    if geom is None:
        return "feature has no geometry"
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        return f"expected Polygon or MultiPolygon, got {geom.geom_type}"
    return geometry_problem(geom)


def _to_input(record: dict[str, Any], kind: str, fields: FieldMap) -> ZoneInput:
    name_el = _text(record.get(fields.name_el))
    name_en = _text(record.get(fields.name_en)) if fields.name_en else ""
    area = record.get(fields.area_km2) if fields.area_km2 else None
    return ZoneInput(
        code=_text(record.get(fields.code)), kind=kind, name_el=name_el, name_en=name_en or name_el,
        geom=as_multipolygon(record["geometry"]),
        parent_code=(_text(record.get(fields.parent)) or None) if fields.parent else None,
        area_km2=float(area) if area is not None and not pd.isna(area) else None,
    )


def _text(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value).strip()


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def raise_if_problems(report: ImportReport, name: str) -> None:
    """Fail the whole import when any feature is bad, listing them (first 50)."""
    if report.problems:
        raise ImportFailed({
            "message": f"{name}: {len(report.problems)} bad feature(s); nothing was imported",
            "problems": report.problems[:MAX_PROBLEMS_SHOWN],
            "more": max(0, len(report.problems) - MAX_PROBLEMS_SHOWN),
        })
