"""OGC API – Features: a standard client (OWSLib) on loopback, paging, datetime, scoping and errors."""

from __future__ import annotations

from datetime import date

import pytest
import requests
from owslib.ogcapi.features import Features
from shapely.geometry import box, shape

ATTICA = (23.6, 37.9, 24.0, 38.2)
INCIDENTS = [("dispatcher.attica", "wildfire", 23.88, 38.06), ("dispatcher.attica", "smoke", 23.73, 37.97),
             ("dispatcher.sterea", "smoke", 23.45, 38.80)]


def _report(client, sign_in) -> list[int]:
    ids = []
    for user, kind, lon, lat in INCIDENTS:
        body = {"kind": kind, "severity": "high", "point": {"type": "Point", "coordinates": [lon, lat]}}
        resp = client.post("/api/v1/incidents", json=body, headers=sign_in(client, user))
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()["id"])
    return ids


def _all_in_bbox(features: list[dict], bbox: tuple[float, ...]) -> bool:
    area = box(*bbox)
    return all(shape(f["geometry"]).intersects(area) for f in features)


def test_owslib_lists_collections_and_fetches_items_in_a_bbox(live_url, client, sign_in):
    _report(client, sign_in)
    day = date.today().isoformat()
    client.post("/api/v1/risk/levels", headers=sign_in(client, "dispatcher.attica"),
                json={"levels": [{"zone_code": "GR-I", "date": day, "category": 4}]}).raise_for_status()
    api = Features(live_url + "/ogc")
    assert set(api.feature_collections()) == {"zones", "risk", "incidents", "tracks"}
    assert {c["id"] for c in api.collections()["collections"]} == {"zones", "risk", "incidents", "tracks"}
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
    zones = api.collection_items("zones", bbox=list(ATTICA), limit=500)
    assert zones["numberReturned"] == len(zones["features"]) > 0
    assert zones["numberMatched"] >= zones["numberReturned"]
    assert _all_in_bbox(zones["features"], ATTICA)
    outside = api.collection_items("zones", bbox=[0.0, 0.0, 1.0, 1.0])
    assert outside["features"] == [] and outside["numberMatched"] == 0
    risk = api.collection_items("risk", bbox=list(ATTICA), datetime=day, limit=500)
    assert risk["features"] and _all_in_bbox(risk["features"], ATTICA)
    assert all(f["properties"]["category"] in range(1, 6) for f in risk["features"])
    signed = Features(live_url + "/ogc", headers=sign_in(client, "dispatcher.attica"))
    incidents = signed.collection_items("incidents", bbox=list(ATTICA), limit=100)
    assert len(incidents["features"]) == 2 and _all_in_bbox(incidents["features"], ATTICA)
    one = signed.collection_item("incidents", str(incidents["features"][0]["id"]))
    assert one["id"] == incidents["features"][0]["id"]
    anonymous = requests.get(f"{live_url}/ogc/collections/incidents/items", params={"bbox": "23.6,37.9,24,38.2"})
    assert anonymous.status_code == 401 and set(anonymous.json()) == {"error", "detail"}


def test_paging_links_and_counts(shared_client):
    first = shared_client.get("/ogc/collections/zones/items", params={"limit": 3})
    assert first.status_code == 200 and first.headers["content-type"].startswith("application/geo+json")
    body = first.json()
    assert body["numberReturned"] == 3 and body["numberMatched"] > 3
    rels = {link["rel"]: link["href"] for link in body["links"]}
    assert "next" in rels and "prev" not in rels
    second = shared_client.get(rels["next"]).json()
    assert {f["id"] for f in second["features"]}.isdisjoint({f["id"] for f in body["features"]})
    assert "prev" in {link["rel"] for link in second["links"]}
    last = shared_client.get("/ogc/collections/zones/items", params={"limit": 3, "offset": body["numberMatched"] - 1})
    assert last.json()["numberReturned"] == 1 and "next" not in {link["rel"] for link in last.json()["links"]}


def test_landing_collections_and_single_items(shared_client):
    landing = shared_client.get("/ogc").json()
    assert {"self", "conformance", "data", "service-desc"} <= {link["rel"] for link in landing["links"]}
    meta = shared_client.get("/ogc/collections/zones").json()
    assert meta["id"] == "zones" and "items" in {link["rel"] for link in meta["links"]}
    zone = shared_client.get("/ogc/collections/zones/items/GR-I")
    assert zone.status_code == 200 and zone.json()["id"] == "GR-I"
    assert shared_client.get("/ogc/collections/zones/items/NOPE").status_code == 404
    assert shared_client.get("/ogc/collections/nope/items").status_code == 404


@pytest.mark.parametrize("params", [{"bbox": "1,2,3"}, {"bbox": "a,b,c,d"}, {"bbox": "10,10,0,0"},
                                    {"datetime": "yesterday"}, {"datetime": "../.."}, {"limit": 0},
                                    {"limit": 10001}, {"offset": -1}, {"f": "html"},
                                    {"datetime": "2026-07-10/2026-07-01"}])
def test_bad_input_answers_in_the_one_error_shape(shared_client, params):
    resp = shared_client.get("/ogc/collections/zones/items", params=params)
    assert resp.status_code == 422, resp.text
    assert set(resp.json()) == {"error", "detail"}


def test_incidents_and_tracks_need_a_token_and_keep_scoping(client, sign_in):
    for path in ("/ogc/collections/incidents/items", "/ogc/collections/tracks/items",
                 "/ogc/collections/incidents/items/1", "/ogc/collections/tracks/items/1"):
        assert client.get(path).status_code == 401
    ids = _report(client, sign_in)
    sterea = ids[2]
    attica = sign_in(client, "leader.penteli")
    visible = client.get("/ogc/collections/incidents/items", params={"limit": 100}, headers=attica).json()
    assert sterea not in {f["id"] for f in visible["features"]}
    assert client.get(f"/ogc/collections/incidents/items/{sterea}", headers=attica).status_code == 404
    assert client.get("/ogc/collections/incidents/items/2147483647", headers=attica).status_code == 404
    mine = sign_in(client, "dispatcher.sterea")
    assert client.get(f"/ogc/collections/incidents/items/{sterea}", headers=mine).status_code == 200
    hidden = client.get("/ogc/collections/incidents/items", params={"datetime": "2000-01-01/2000-12-31"},
                        headers=mine).json()
    assert hidden["numberMatched"] == 0
    tracks = client.get("/ogc/collections/tracks/items", headers=sign_in(client, "dispatcher.attica"))
    assert tracks.status_code == 200 and tracks.json()["type"] == "FeatureCollection"
    assert client.get("/ogc/collections/tracks/items", headers=sign_in(client, "officer.police")).status_code == 403
