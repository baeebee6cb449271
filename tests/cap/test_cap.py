"""CAP 1.2 building blocks: any message ``render`` writes validates against the OASIS XSD; shapes in CAP's form."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Point, Polygon

from iolaos.cap import message
from iolaos.cap.geometry import MAX_PARTS, MAX_POINTS, cap_circle, cap_polygons
from tests.warnings import capcheck

SENT = re.compile(r"^\d\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$")


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


@st.composite
def alerts(draw) -> message.Alert:
    sent = draw(moments)
    polygons = tuple(cap_polygons(draw(shapes)))
    circles = (cap_circle(Point(draw(lon), draw(lat)), draw(st.floats(0.1, 50))),) if draw(st.booleans()) else ()
    area = message.Area(draw(texts), polygons, circles, (("YPES", "9176"), ("NUTS2", "EL30")))
    infos = tuple(message.Info(lang, "Fire", draw(texts), draw(st.sampled_from(["Evacuate", "Avoid", "AllClear"])),
                               "Immediate", "Severe", "Observed", sent, draw(moments), draw(texts), draw(texts),
                               draw(st.text(max_size=300)), area, draw(texts)) for lang in ("el-GR", "en-US"))
    refs = tuple(message.Reference("s@x.gr", f"id-{i}", draw(moments)) for i in range(draw(st.integers(0, 3))))
    return message.Alert(message.identifier("iolaos", draw(st.text(max_size=20))), "s@x.gr", sent,
                         draw(st.sampled_from(["Actual", "Exercise", "Test"])),
                         draw(st.sampled_from(["Alert", "Update", "Cancel"])), infos, draw(texts), refs)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=alerts())
def test_rendered_alerts_validate_and_read_back(data):
    xml = message.render(data)
    parsed = capcheck.read(xml)
    sent_text = ET.fromstring(xml.encode()).findtext(f"{{{message.NS}}}sent")
    assert SENT.match(sent_text) and sent_text == message.cap_time(data.sent)
    assert parsed.sent.to_datetime() == data.sent.replace(microsecond=0)
    assert parsed.identifier == data.identifier and parsed.msg_type.value == data.msg_type
    got = [(r.sender, r.identifier, r.sent.to_datetime()) for r in parsed.references_to_list()]
    assert got == [(r.sender, r.identifier, r.sent.replace(microsecond=0)) for r in data.references]
    for polygon in parsed.infos[0].areas[0].polygons:
        pairs = capcheck.polygon_pairs(polygon)
        assert len(pairs) >= 4 and pairs[0] == pairs[-1], polygon
        assert len(pairs) <= MAX_POINTS + 1
        assert all(33 <= la <= 43 and 18 <= lo <= 31 for la, lo in pairs)  # lat,lon order: Greece's latitudes first
    assert len(parsed.infos[0].areas[0].polygons) <= MAX_PARTS


def test_cap_time_is_seconds_with_an_athens_offset():
    sent = datetime(2026, 7, 14, 7, 0, tzinfo=UTC)
    assert message.cap_time(sent) == "2026-07-14T10:00:00+03:00"
    assert message.cap_time(datetime(2026, 1, 14, 7, 0, 0, 123, tzinfo=UTC)) == "2026-01-14T09:00:00+02:00"
    assert message.identifier("iolaos", "w 1", "m,2") == "iolaos-w_1-m_2"
