"""Zone output is valid RFC 7946 GeoJSON, filtered and paged as asked."""

from __future__ import annotations

import shapely
from geojson_pydantic import Feature, FeatureCollection
from shapely.geometry import shape


def _check_rfc7946(geometry: dict) -> None:
    geom = shape(geometry)
    assert geom.is_valid, shapely.is_valid_reason(geom)
    minx, miny, maxx, maxy = geom.bounds
    assert minx > 19 and maxx < 30 and miny > 34 and maxy < 42  # lon/lat order, in Greece
    polygons = geom.geoms if geom.geom_type == "MultiPolygon" else [geom]
    for polygon in polygons:
        assert polygon.exterior.is_ccw, "exterior rings must be counter-clockwise"
        assert all(not ring.is_ccw for ring in polygon.interiors), "holes must be clockwise"


def test_regions_are_valid_rfc7946_feature_collection(shared_client):
    resp = shared_client.get("/api/v1/zones", params={"kind": "region", "limit": 20})
    assert resp.status_code == 200
    body = resp.json()
    FeatureCollection.model_validate(body)  # structural GeoJSON validation
    assert body["numberMatched"] == 13 and body["numberReturned"] == 13
    for feature in body["features"]:
        _check_rfc7946(feature["geometry"])


def test_municipalities_page_through_with_next_links(shared_client):
    seen, url, pages = [], "/api/v1/zones?kind=municipality&limit=100&geometry=false", 0
    while url:
        body = shared_client.get(url).json()
        seen += [f["id"] for f in body["features"]]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url, pages = (nxt[0] if nxt else None), pages + 1
    assert pages == 4
    assert len(seen) == len(set(seen)) == 326


def test_one_municipality_is_a_valid_feature_with_parent(shared_client):
    resp = shared_client.get("/api/v1/zones/9186")
    assert resp.status_code == 200
    body = resp.json()
    Feature.model_validate(body)
    assert body["properties"]["parent_code"] == "GR-I"
    _check_rfc7946(body["geometry"])


def test_one_zone_without_geometry_keeps_its_properties(shared_client):
    full = shared_client.get("/api/v1/zones/9186").json()
    bare = shared_client.get("/api/v1/zones/9186", params={"geometry": "false"}).json()
    assert bare["geometry"] is None and bare["properties"] == full["properties"]
    Feature.model_validate(bare)


def test_filter_by_parent(shared_client):
    body = shared_client.get("/api/v1/zones", params={"parent": "GR-I", "limit": 100, "geometry": "false"}).json()
    assert body["numberMatched"] == 66  # Attica's municipalities
    assert {f["properties"]["parent_code"] for f in body["features"]} == {"GR-I"}


def test_bbox_returns_only_intersecting_zones(shared_client):
    box = (23.70, 37.95, 23.76, 38.00)  # central Athens
    body = shared_client.get("/api/v1/zones", params={"bbox": ",".join(map(str, box)), "limit": 50}).json()
    codes = {f["id"] for f in body["features"]}
    assert {"9186", "GR-I"} <= codes
    for feature in body["features"]:
        assert shape(feature["geometry"]).intersects(shapely.box(*box))
    assert len(codes) < 30


def test_bad_filters_give_clear_errors(shared_client):
    cases = {
        "bbox=1,2,3": "invalid_bbox",
        "bbox=23,97,24,38": "invalid_bbox",
        "bbox=-181,37,24,38": "invalid_bbox",
        "bbox=a,b,c,d": "invalid_bbox",
        "bbox=24,37,23,38": "invalid_bbox",
        "bbox=nan,37,23,38": "invalid_bbox",
        "kind=volcano": "invalid_kind",
        "limit=0": "validation_error",
        "limit=100000": "validation_error",
    }
    for query, code in cases.items():
        resp = shared_client.get(f"/api/v1/zones?{query}")
        assert resp.status_code == 422, query
        assert resp.json()["error"] == code, query


def test_unknown_zone_is_404_in_the_error_shape(shared_client):
    resp = shared_client.get("/api/v1/zones/NOPE", headers={"Accept-Language": "en"})
    assert resp.status_code == 404
    assert resp.json() == {"error": "not_found", "detail": "no zone with code 'NOPE'"}
