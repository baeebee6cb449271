"""OGC patrol tracks: bbox (the track line, not only its vertices), datetime, paging, a fixed number of queries."""

from __future__ import annotations

import re
from datetime import timedelta

from shapely.geometry import Point
from sqlalchemy import event, insert, select

from iolaos.auth.cache import PrincipalCache
from iolaos.db import session_scope
from iolaos.field.models import PositionReport
from iolaos.kit.time import utcnow
from iolaos.organisations.models import Organisation
from iolaos.patrols.models import Assignment, Patrol
from iolaos.volunteers.models import Volunteer
from iolaos.zones.models import Zone

TRACKS = "/ogc/collections/tracks/items"
# Per patrol: positions as (minutes after the start, lon, lat). A: a line across Evia whose one segment crosses
# the box below without a vertex in it; B: later, elsewhere; C: one position (a Point).
WALKS = {"A": [(0, 23.50, 38.60), (10, 23.70, 38.60), (20, 23.70, 38.70)],
         "B": [(120, 22.40, 38.90), (130, 22.41, 38.91)],
         "C": [(60, 23.00, 38.40)]}
BETWEEN_A_VERTICES = (23.58, 38.55, 23.62, 38.65)


def _patrols(engine, count: int, start_offset_h: int = 0) -> dict[str, int]:
    """Active patrols of a Central Greece volunteer team, walked as in ``WALKS`` (cycled)."""
    now = utcnow()
    made: dict[str, int] = {}
    with session_scope(engine) as session:
        region = session.scalar(select(Zone).where(Zone.code == "GR-H"))
        team = session.scalar(select(Organisation).where(Organisation.kind == "volunteer_org",
                                                         Organisation.region_id == region.id))
        zone = session.scalar(select(Zone).where(Zone.parent_id == region.id))
        for i in range(count):
            name = list(WALKS)[i % len(WALKS)]
            volunteer = Volunteer(organisation_id=team.id, full_name=f"Walker {i}", status="on_patrol")
            patrol = Patrol(zone_id=zone.id, organisation_id=team.id, crew_size=1, risk_category=3,
                            shift_start=now - timedelta(hours=5 - start_offset_h - i * 0.01),
                            shift_end=now + timedelta(hours=3), status="active", field_status="on_patrol")
            session.add_all([volunteer, patrol])
            session.flush()
            session.add(Assignment(patrol_id=patrol.id, volunteer_id=volunteer.id, status="checked_in"))
            t0 = now - timedelta(hours=4)
            session.execute(insert(PositionReport.__table__), [
                {"patrol_id": patrol.id, "volunteer_id": volunteer.id, "at": t0 + timedelta(minutes=m),
                 "received_at": now, "point": Point(lon, lat), "accuracy_m": 5.0} for m, lon, lat in WALKS[name]])
            made.setdefault(name, patrol.id)
    return made


def _ids(resp) -> list[int]:
    assert resp.status_code == 200, resp.text
    return [f["id"] for f in resp.json()["features"]]


def test_tracks_filter_by_bbox_datetime_and_page(engine, client, sign_in):
    made = _patrols(engine, 3)
    a, b, c = made["A"], made["B"], made["C"]
    who = sign_in(client, "dispatcher.sterea")
    body = client.get(TRACKS, headers=who).json()
    assert body["numberMatched"] == 3 and [f["id"] for f in body["features"]] == [a, b, c]  # by shift start
    by_id = {f["id"]: f for f in body["features"]}
    assert by_id[a]["geometry"]["type"] == "LineString" and by_id[c]["geometry"]["type"] == "Point"
    assert by_id[a]["geometry"]["coordinates"] == [[lon, lat] for _, lon, lat in WALKS["A"]]
    assert by_id[a]["properties"]["positions"] == 3 and by_id[a]["properties"]["volunteers"] == 1
    assert _ids(client.get(TRACKS, params={"bbox": ",".join(map(str, BETWEEN_A_VERTICES))}, headers=who)) == [a]
    assert _ids(client.get(TRACKS, params={"bbox": "22.3,38.8,22.5,39.0"}, headers=who)) == [b]
    start = (utcnow() - timedelta(hours=4)).replace(microsecond=0)
    window = f"{(start + timedelta(minutes=100)).isoformat()}/{(start + timedelta(minutes=140)).isoformat()}"
    assert _ids(client.get(TRACKS, params={"datetime": window.replace("+00:00", "Z")}, headers=who)) == [b]
    first = client.get(TRACKS, params={"limit": 2}, headers=who).json()
    assert [f["id"] for f in first["features"]] == [a, b] and first["numberMatched"] == 3
    assert any(link["rel"] == "next" for link in first["links"])
    assert _ids(client.get(TRACKS, params={"limit": 2, "offset": 2}, headers=who)) == [c]
    past_end = client.get(TRACKS, params={"limit": 2, "offset": 5}, headers=who).json()
    assert past_end["features"] == [] and past_end["numberMatched"] == 3
    assert client.get(TRACKS, headers=sign_in(client, "dispatcher.attica")).json()["numberMatched"] == 0


HUB_READ = re.compile(r"\bFROM event\b")


def test_tracks_take_the_same_number_of_queries_for_3_or_30_patrols(engine, client, sign_in):
    who = sign_in(client, "dispatcher.sterea")
    client.app.state.principal_cache = PrincipalCache(0)  # both requests read who is calling: same count each time
    read_engine = client.app.state.read_engine
    target = getattr(read_engine, "_proxied", read_engine)  # PostgreSQL: the writer's pool, read-only option
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        # The live hub polls the journal head and the event table on the same engine in the background; those
        # reads are not the request's, and counting them made the comparison depend on timing.
        if "journal_head" not in statement and not HUB_READ.search(statement):
            statements.append(statement)

    event.listen(target, "before_cursor_execute", count)
    try:
        _patrols(engine, 3)
        statements.clear()
        assert len(_ids(client.get(TRACKS, params={"limit": 100}, headers=who))) == 3
        few = len(statements)
        _patrols(engine, 27, start_offset_h=1)
        statements.clear()
        assert len(_ids(client.get(TRACKS, params={"limit": 100}, headers=who))) == 30
        assert len(statements) == few <= 11, statements  # + the location rule's patrol facts (patrols/visibility.py)
    finally:
        event.remove(target, "before_cursor_execute", count)
