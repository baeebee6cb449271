"""Zone imports: idempotent by code, reprojected, and all-or-nothing with every bad feature listed."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Polygon, box
from sqlalchemy import func, select
from typer.testing import CliRunner

from iolaos.auth.actor import system_actor
from iolaos.cli import app as cli_app
from iolaos.db import session_scope
from iolaos.errors import InvalidInput
from iolaos.journal.models import AuditRecord
from iolaos.zones import loading
from iolaos.zones.importer import FieldMap
from iolaos.zones.models import Zone

ACTOR = system_actor("tests")


def _sectors(n: int = 3, crs: int = 4326) -> gpd.GeoDataFrame:
    cells = [box(23.70 + 0.01 * i, 37.96, 23.71 + 0.01 * i, 37.97) for i in range(n)]
    frame = gpd.GeoDataFrame(
        {"code": [f"ATH-S{i}" for i in range(n)], "name_el": [f"Τομέας {i}" for i in range(n)],
         "name_en": [f"Sector {i}" for i in range(n)], "parent_code": ["9186"] * n},
        geometry=cells, crs=4326,
    )
    return frame.to_crs(crs)


def _snapshot(engine) -> tuple:
    with session_scope(engine) as session:
        zones = session.execute(select(Zone.code, Zone.name_el, Zone.updated_at).order_by(Zone.code)).all()
        audits = session.scalar(select(func.count()).select_from(AuditRecord))
    return tuple(zones), audits


def test_import_is_idempotent_by_code(engine, tmp_path: Path):
    path = tmp_path / "sectors.geojson"
    _sectors().to_file(path, driver="GeoJSON")
    first = loading.import_file(engine, path, kind="sector", actor=ACTOR)
    assert first == {"created": 3, "updated": 0}
    frame = _sectors()
    frame.loc[0, "name_el"] = "Τομέας Ακρόπολης"
    frame.to_file(path, driver="GeoJSON")
    second = loading.import_file(engine, path, kind="sector", actor=ACTOR)
    assert second == {"created": 0, "updated": 3}
    with session_scope(engine) as session:
        rows = session.execute(select(Zone.code, Zone.name_el).where(Zone.kind == "sector").order_by(Zone.code)).all()
        parent = session.scalar(select(Zone).where(Zone.code == "ATH-S1"))
        assert session.get(Zone, parent.parent_id).code == "9186"
    assert [r.code for r in rows] == ["ATH-S0", "ATH-S1", "ATH-S2"]
    assert rows[0].name_el == "Τομέας Ακρόπολης"


@pytest.mark.parametrize("driver,suffix", [("ESRI Shapefile", ".shp"), ("GPKG", ".gpkg")])
def test_projected_files_are_reprojected_to_wgs84(engine, tmp_path: Path, driver: str, suffix: str):
    path = tmp_path / f"sectors{suffix}"
    frame = _sectors(crs=2100).rename(columns={"parent_code": "parent"})  # Shapefile names: 10 chars
    frame.to_file(path, driver=driver)  # Greek Grid (GGRS87)
    fields = FieldMap(code="code", name_el="name_el", name_en="name_en", parent="parent")
    assert loading.import_file(engine, path, kind="sector", actor=ACTOR, fields=fields)["created"] == 3
    with session_scope(engine) as session:
        geom = session.scalar(select(Zone.geom).where(Zone.code == "ATH-S0"))
    assert geom.bounds == pytest.approx((23.70, 37.96, 23.71, 37.97), abs=1e-6)


def test_clockwise_input_is_stored_counter_clockwise(engine, tmp_path: Path):
    frame = _sectors(1)
    frame.geometry = [Polygon(list(frame.geometry[0].exterior.coords)[::-1])]
    assert not frame.geometry[0].exterior.is_ccw
    path = tmp_path / "cw.geojson"
    frame.to_file(path, driver="GeoJSON")
    loading.import_file(engine, path, kind="sector", actor=ACTOR)
    with session_scope(engine) as session:
        geom = session.scalar(select(Zone.geom).where(Zone.code == "ATH-S0"))
    assert geom.geoms[0].exterior.is_ccw


def _expect_failure(engine, path: Path, code: str, kind: str = "sector") -> InvalidInput:
    before = _snapshot(engine)
    with pytest.raises(InvalidInput) as info:
        loading.import_file(engine, path, kind=kind, actor=ACTOR)
    assert info.value.code == code
    assert _snapshot(engine) == before, "a failed import must leave the database unchanged"
    return info.value


def test_non_geographic_file_is_rejected(engine, tmp_path: Path):
    path = tmp_path / "notes.geojson"
    path.write_text("these are meeting notes, not geodata\n")
    err = _expect_failure(engine, path, "unreadable_file")
    assert "notes.geojson" in err.detail


def test_csv_without_geometry_is_rejected(engine, tmp_path: Path):
    path = tmp_path / "table.csv"
    path.write_text("code,name_el\nX1,Α\n")
    _expect_failure(engine, path, "no_geometry")


def test_invalid_polygons_fail_the_whole_file_listing_each(engine, tmp_path: Path):
    frame = _sectors(4)
    bowtie = Polygon([(23.70, 37.96), (23.71, 37.97), (23.71, 37.96), (23.70, 37.97), (23.70, 37.96)])
    frame.loc[1, "geometry"] = bowtie
    frame.loc[3, "geometry"] = bowtie
    path = tmp_path / "bad.geojson"
    frame.to_file(path, driver="GeoJSON")
    err = _expect_failure(engine, path, "import_failed")
    problems = err.detail["problems"]
    assert [p["code"] for p in problems] == ["ATH-S1", "ATH-S3"]
    assert all("Self-intersection" in p["problem"] for p in problems)


def test_unknown_crs_is_rejected(engine, tmp_path: Path):
    doc = json.loads(_sectors(1).to_json())
    doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::999999"}}
    path = tmp_path / "weird_crs.geojson"
    path.write_text(json.dumps(doc))
    _expect_failure(engine, path, "unknown_crs")


@pytest.mark.parametrize("prj", ['LOCAL_CS["garbage"]', "total nonsense"])
def test_shapefile_with_unusable_prj_is_rejected(engine, tmp_path: Path, prj: str):
    path = tmp_path / "sectors.shp"
    _sectors(crs=2100).to_file(path)
    path.with_suffix(".prj").write_text(prj)
    _expect_failure(engine, path, "unknown_crs")


def test_projected_coordinates_without_crs_are_rejected(engine, tmp_path: Path):
    doc = json.loads(_sectors(1, crs=2100).to_json())
    doc.pop("crs", None)
    path = tmp_path / "no_crs.geojson"
    path.write_text(json.dumps(doc))
    err = _expect_failure(engine, path, "import_failed")
    assert "out of lon/lat range" in err.detail["problems"][0]["problem"]


def test_duplicate_codes_and_unknown_parents_fail(engine, tmp_path: Path):
    frame = _sectors(3)
    frame.loc[2, "code"] = "ATH-S0"
    path = tmp_path / "dup.geojson"
    frame.to_file(path, driver="GeoJSON")
    err = _expect_failure(engine, path, "import_failed")
    assert "more than once" in err.detail["problems"][0]["problem"]
    frame = _sectors(2)
    frame["parent_code"] = "NO-SUCH-ZONE"
    frame.to_file(path, driver="GeoJSON")
    _expect_failure(engine, path, "unknown_parent")


def test_missing_attributes_are_named(engine, tmp_path: Path):
    path = tmp_path / "sectors.geojson"
    _sectors().drop(columns=["code"]).to_file(path, driver="GeoJSON")
    err = _expect_failure(engine, path, "missing_attributes")
    assert err.detail["attributes"] == ["code"]


def test_cli_import_reports_success_and_failure(db, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("IOLAOS_DATABASE_URL", db.database_url)
    from iolaos.config import get_settings

    get_settings.cache_clear()
    good, bad = tmp_path / "good.gpkg", tmp_path / "bad.geojson"
    _sectors().to_file(good, driver="GPKG")
    bad.write_text("{}")
    runner = CliRunner()
    ok = runner.invoke(cli_app, ["zones", "import", str(good), "--kind", "sector"])
    assert ok.exit_code == 0, ok.output
    assert "3 created" in ok.output
    fail = runner.invoke(cli_app, ["zones", "import", str(bad), "--kind", "sector"])
    assert fail.exit_code == 2
    assert "unreadable_file" in fail.output
    get_settings.cache_clear()
