"""CAP 1.2: generated messages validate against the OASIS XSD; the public endpoints and the Atom feed."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import xmlschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Point, Polygon

from iolaos.cap import message

XSD = Path(__file__).resolve().parents[3] / "shared" / "schemas" / "cap-1.2" / "CAP-v1.2.xsd"
NS = {"cap": message.NS}
SENT = re.compile(r"^\d\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$")


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD))


def _star(cx: float, cy: float, radii: list[float]) -> Polygon:
    """A star-shaped (hence simple) polygon with as many points as radii."""
    n = len(radii)
    return Polygon([(cx + r * math.cos(2 * math.pi * i / n), cy + r * 0.8 * math.sin(2 * math.pi * i / n))
                    for i, r in enumerate(radii)])


lon = st.floats(19.0, 30.0)
lat = st.floats(34.0, 42.0)
stars = st.builds(_star, lon, lat, st.lists(st.floats(1e-6, 0.5), min_size=3, max_size=2000))
shapes = st.one_of(stars, st.lists(stars, min_size=1, max_size=15).map(
    lambda ps: MultiPolygon([p for p in ps if p.is_valid] or [ps[0].convex_hull])))
texts = st.text(max_size=60)
moments = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
risk = st.builds(message.RiskAlert, zone_code=st.text(min_size=1, max_size=12), name_el=texts, name_en=texts,
                 geometry=shapes, category=st.sampled_from([4, 5]), day=st.dates(date(2000, 1, 1), date(2099, 1, 1)),
                 sent=moments)
incident = st.builds(message.IncidentAlert, incident_id=st.integers(1, 2**31 - 1),
                     kind=st.sampled_from(["wildfire", "smoke"]), severity=st.sampled_from(["high", "critical"]),
                     point=st.builds(Point, lon, lat), place_el=texts, place_en=texts, sent=moments,
                     description=st.text(max_size=300))


def _check(schema: xmlschema.XMLSchema, xml: str) -> ET.Element:
    schema.validate(xml)
    root = ET.fromstring(xml.encode())
    assert SENT.match(root.findtext("cap:sent", namespaces=NS))
    assert [i.findtext("cap:language", namespaces=NS) for i in root.findall("cap:info", NS)] == ["el-GR", "en-US"]
    polygons = root.findall(".//cap:polygon", NS)
    assert polygons
    for polygon in polygons:
        pairs = [tuple(map(float, p.split(","))) for p in polygon.text.split(" ")]
        assert len(pairs) >= 4 and pairs[0] == pairs[-1], polygon.text
        assert all(-90 <= la <= 90 and -180 <= lo <= 180 for la, lo in pairs)
        assert len(pairs) <= 101
    return root


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=risk)
def test_generated_risk_alerts_validate(schema, data):
    root = _check(schema, message.risk_message(data))
    for polygon in root.findall(".//cap:polygon", NS):  # CAP's lat,lon order: latitudes of Greece come first
        la, lo = map(float, polygon.text.split(" ")[0].split(","))
        assert 33 <= la <= 43 and 18 <= lo <= 31


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=incident)
def test_generated_incident_alerts_validate(schema, data):
    root = _check(schema, message.incident_message(data))
    assert root.find(".//cap:circle", NS) is not None


def test_identifiers_are_unique_per_message():
    sent = datetime(2026, 7, 14, 7, 0, tzinfo=UTC)
    square = Polygon([(23, 38), (24, 38), (24, 39), (23, 39)])
    ids = {message.risk_identifier(message.RiskAlert(code, "α", "a", square, cat, date(2026, 7, d), sent))
           for code in ("GR-I", "9220", "9176") for cat in (4, 5) for d in (14, 15)}
    assert len(ids) == 12
    assert message.cap_time(sent) == "2026-07-14T10:00:00+03:00"
    assert message.cap_time(datetime(2026, 1, 14, 7, 0, 0, 123, tzinfo=UTC)) == "2026-01-14T09:00:00+02:00"


def test_endpoints_serve_valid_cap_and_an_atom_feed(client, sign_in, schema):
    day = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    headers = sign_in(client, "dispatcher.attica")
    resp = client.post("/api/v1/risk/levels", headers=headers, json={"levels": [
        {"zone_code": "GR-I", "date": day, "category": 5}, {"zone_code": "9220", "date": day, "category": 3}]})
    assert resp.status_code == 201, resp.text
    alert = client.get("/api/v1/cap/risk/GR-I", params={"date": day})
    assert alert.status_code == 200 and alert.headers["content-type"].startswith("application/cap+xml")
    _check(schema, alert.text)
    assert client.get("/api/v1/cap/risk/9220", params={"date": day}).status_code == 404
    assert client.get("/api/v1/cap/risk/NOPE", params={"date": day}).status_code == 404
    assert client.get("/api/v1/cap/risk/GR-I", params={"date": "tomorrow"}).status_code == 422
    ids = {}
    for kind, severity in (("wildfire", "critical"), ("smoke", "low"), ("arson", "critical")):
        body = {"kind": kind, "severity": severity, "point": {"type": "Point", "coordinates": [23.88, 38.06]}}
        created = client.post("/api/v1/incidents", json=body, headers=headers)
        assert created.status_code == 201, created.text
        ids[kind] = created.json()["id"]
    _check(schema, client.get(f"/api/v1/cap/incidents/{ids['wildfire']}").text)
    assert client.get(f"/api/v1/cap/incidents/{ids['smoke']}").status_code == 404  # low severity: no warning
    assert client.get(f"/api/v1/cap/incidents/{ids['arson']}").status_code == 404  # not a public warning
    feed = client.get("/api/v1/cap/feed.atom", params={"date": day})
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
    atom = ET.fromstring(feed.content)
    links = [e.get("href") for e in atom.iter("{http://www.w3.org/2005/Atom}link") if e.get("rel") == "alternate"]
    assert len(links) == 2
    for href in links:
        _check(schema, client.get(href).text)
