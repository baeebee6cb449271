"""Exports: a GeoPackage opens with geopandas and round-trips features and attributes; scoping holds."""

from __future__ import annotations

import io
import json

import geopandas as gpd
import pandas as pd
from shapely.geometry import shape


def _incidents(client, sign_in) -> list[int]:
    ids = []
    for user, lon, lat in (("dispatcher.attica", 23.88, 38.06), ("dispatcher.sterea", 23.45, 38.80)):
        body = {"kind": "smoke", "severity": "high", "description": "Καπνός στο δάσος",
                "point": {"type": "Point", "coordinates": [lon, lat]}}
        resp = client.post("/api/v1/incidents", json=body, headers=sign_in(client, user))
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()["id"])
    return ids


def test_zone_geopackage_round_trips_features_and_attributes(client, tmp_path):
    resp = client.get("/api/v1/exports/zones.gpkg")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/geopackage+sqlite3"
    path = tmp_path / "zones.gpkg"
    path.write_bytes(resp.content)
    gdf = gpd.read_file(path, layer="zones")
    source = client.get("/api/v1/exports/zones.geojson").json()["features"]
    assert len(gdf) == len(source) > 0 and gdf.crs.to_epsg() == 4326
    by_code = {f["properties"]["code"]: f for f in source}
    for row in gdf.itertuples():
        expected = by_code[row.code]["properties"]
        assert (row.name_el, row.name_en, row.kind) == (expected["name_el"], expected["name_en"], expected["kind"])
        assert row.geometry.equals_exact(shape(by_code[row.code]["geometry"]), 1e-6)
    greek = gdf.loc[gdf.code == "GR-I", "name_el"].item()
    assert any("\u0370" <= ch <= "\u03ff" for ch in greek)


def test_incident_exports_keep_scoping_in_every_format(client, sign_in, tmp_path):
    attica, sterea = _incidents(client, sign_in)
    headers = sign_in(client, "dispatcher.attica")
    resp = client.get("/api/v1/exports/incidents.gpkg", headers=headers)
    assert resp.status_code == 200
    (tmp_path / "i.gpkg").write_bytes(resp.content)
    gdf = gpd.read_file(tmp_path / "i.gpkg")
    assert attica in set(gdf["id"]) and sterea not in set(gdf["id"])
    row = gdf[gdf["id"] == attica].iloc[0]
    assert row.description == "Καπνός στο δάσος" and (row.geometry.x, row.geometry.y) == (23.88, 38.06)
    geo = json.loads(client.get("/api/v1/exports/incidents.geojson", headers=headers).content)
    assert sterea not in {f["properties"]["id"] for f in geo["features"]}
    csv = pd.read_csv(io.BytesIO(client.get("/api/v1/exports/incidents.csv", headers=headers).content))
    assert attica in set(csv["id"]) and sterea not in set(csv["id"])
    assert csv.loc[csv["id"] == attica, "geometry"].item() == "POINT (23.88 38.06)"


def test_tokens_roles_and_empty_layers(client, sign_in, tmp_path):
    for layer in ("incidents", "patrols", "tracks"):
        assert client.get(f"/api/v1/exports/{layer}.gpkg").status_code == 401
    assert client.get("/api/v1/exports/tracks.csv", headers=sign_in(client, "officer.police")).status_code == 403
    empty = client.get("/api/v1/exports/tracks.gpkg", headers=sign_in(client, "dispatcher.attica"))
    assert empty.status_code == 200
    (tmp_path / "t.gpkg").write_bytes(empty.content)
    assert len(gpd.read_file(tmp_path / "t.gpkg")) == 0
    patrols = client.get("/api/v1/exports/patrols.geojson", headers=sign_in(client, "dispatcher.attica"))
    assert patrols.status_code == 200 and patrols.json()["type"] == "FeatureCollection"
    assert client.get("/api/v1/exports/zones.shp").status_code == 404
