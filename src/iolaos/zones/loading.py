"""Importing zone files through the audited service, and loading Greece's real boundaries."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from iolaos.auth.actor import Actor
from iolaos.config import Settings
from iolaos.db import session_scope
from iolaos.zones import importer, service
from iolaos.zones.models import Zone

ATHOS_CODE = "GR-69"  # ISO 3166-2 code of the Autonomous Monastic State of Mount Athos

Progress = Callable[[int], None]


def import_frame(engine: Engine, frame: gpd.GeoDataFrame, *, kind: str, actor: Actor, source: str,
                 fields: importer.FieldMap | None = None, progress: Progress | None = None) -> dict[str, int]:
    """Validate every feature, then upsert all of them in one audited transaction (or none)."""
    frame = importer.to_wgs84(frame, source)
    report = importer.build_inputs(frame, kind, fields, progress)
    importer.raise_if_problems(report, source)
    with session_scope(engine) as session:
        counts = service.upsert_zones(session, actor=actor, items=report.items, source=source)
        service.analyze(session)
    return counts


def import_file(engine: Engine, path: Path, *, kind: str, actor: Actor,
                fields: importer.FieldMap | None = None, progress: Progress | None = None) -> dict[str, int]:
    """Import a GeoJSON, Shapefile or GeoPackage of zones of one kind."""
    frame = importer.read_frame(path)
    return import_frame(engine, frame, kind=kind, actor=actor, source=path.name, fields=fields, progress=progress)


def greece_frames(settings: Settings) -> dict[str, gpd.GeoDataFrame]:
    """The 13 regions and 326 municipalities from ../shared/data, ready for import."""
    regions = importer.read_frame(settings.data_path(settings.regions_file))
    municipalities = importer.read_frame(settings.data_path(settings.municipalities_file))
    athos = municipalities["ypes_code"].isna() & (municipalities["kind"] == "autonomous_monastic_state")
    municipalities.loc[athos, "ypes_code"] = ATHOS_CODE
    return {"region": regions, "municipality": municipalities}


def greece_loaded(engine: Engine) -> bool:
    """True when the real regions and municipalities are already in the database."""
    with session_scope(engine) as session:
        counts = dict(session.execute(select(col(Zone.kind), func.count()).group_by(col(Zone.kind))).all())
    return counts.get("region", 0) >= 13 and counts.get("municipality", 0) >= 326


def load_greece(engine: Engine, settings: Settings, *, actor: Actor,
                progress_factory: Callable[[str, int], Progress] | None = None) -> dict[str, dict[str, int]]:
    """Import regions, then municipalities (which name their region as parent)."""
    result = {}
    for kind, frame in greece_frames(settings).items():
        progress = progress_factory(kind, len(frame)) if progress_factory else None
        result[kind] = import_frame(engine, frame, kind=kind, actor=actor, source=f"greece:{kind}", progress=progress)
    return result
