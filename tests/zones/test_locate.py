"""Locating points in zones, one at a time over HTTP and in bulk through the service."""

from __future__ import annotations

import numpy as np
import shapely
from sqlalchemy import select

from iolaos.db import make_engine, session_scope
from iolaos.zones import service
from iolaos.zones.models import Zone

SYNTAGMA = (23.7348, 37.9755)
AEGEAN = (25.0, 37.5)
MANTOUDI = (23.45, 38.80)  # inland northern Evia, burnt in August 2021


def test_syntagma_is_in_athens_and_attica(shared_client):
    resp = shared_client.get("/api/v1/zones/locate", params={"lon": SYNTAGMA[0], "lat": SYNTAGMA[1]})
    assert resp.status_code == 200
    zones = resp.json()["zones"]
    assert [(z["kind"], z["name_el"]) for z in zones] == [
        ("municipality", "Δήμος Αθηναίων"),
        ("region", "Περιφέρεια Αττικής"),
    ]
    assert zones[1]["name_en"] == "Attica"


def test_point_in_the_aegean_is_in_no_zone(shared_client):
    resp = shared_client.get("/api/v1/zones/locate", params={"lon": AEGEAN[0], "lat": AEGEAN[1]})
    assert resp.status_code == 200
    assert resp.json()["zones"] == []


def test_evia_point_is_in_mantoudi_and_central_greece(shared_client):
    zones = shared_client.get("/api/v1/zones/locate", params={"lon": MANTOUDI[0], "lat": MANTOUDI[1]}).json()["zones"]
    assert "Μαντουδίου" in zones[0]["name_el"]
    assert zones[1]["code"] == "GR-H"  # Central Greece


def test_locate_rejects_bad_coordinates_with_one_error_shape(shared_client):
    for params in ({"lon": 200, "lat": 38}, {"lon": 23, "lat": -91}, {"lon": "abc", "lat": 38}, {"lat": 38}):
        resp = shared_client.get("/api/v1/zones/locate", params=params)
        assert resp.status_code == 422, params
        body = resp.json()
        assert body["error"] == "validation_error"
        assert body["detail"]


def test_bulk_locate_matches_shapely_point_by_point(shared_db):
    rng = np.random.default_rng(7)
    lons = rng.uniform(19.3, 29.7, 3000)
    lats = rng.uniform(34.7, 41.8, 3000)
    engine = make_engine(shared_db)
    with session_scope(engine) as session:
        found = service.locate_many(session, lons, lats, kind="municipality")
        zones = {z.id: z.geom for z in session.scalars(select(Zone).where(Zone.kind == "municipality"))}
    engine.dispose()
    for lon, lat, zone_id in zip(lons, lats, found, strict=True):
        point = shapely.Point(lon, lat)
        if zone_id == -1:
            assert not any(geom.intersects(point) for geom in zones.values())
        else:
            assert zones[int(zone_id)].intersects(point)
    assert (found >= 0).sum() > 500  # a good share of Greece's bounding box is land


def test_bulk_locate_of_nothing_is_empty(shared_db):
    engine = make_engine(shared_db)
    with session_scope(engine) as session:
        assert service.locate_many(session, np.array([]), np.array([])).size == 0
    engine.dispose()
