"""Issue 14, "Location over REST": each finding of the review, on both backends (see docs/permissions.md, Location).

The scripted day of tests/field/scenario.py: an ``empty`` patrol (no executing organisation, held by the Central
Greece fire command, crewed by Limni volunteers) and an ``own`` patrol executed by the North Evia team.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from iolaos.auth import service as auth_service
from iolaos.db import session_scope
from iolaos.errors import Forbidden, NotFound
from iolaos.journal.models import AuditRecord
from iolaos.kit.time import as_utc, utcnow
from iolaos.organisations.models import Organisation
from iolaos.patrols import visibility
from iolaos.patrols.models import Assignment, Patrol
from iolaos.planning import workflow
from iolaos.volunteers.models import Volunteer
from tests.auth.world import issue_token
from tests.field import scenario
from tests.field.scenario import IN_MANTOUDI, point_at


@pytest.fixture
def call(client, sign_in):
    """``call(username, method, path, json=None, params=None)`` through the app, signed in as that demo user."""
    headers: dict[str, dict[str, str]] = {}

    def _call(username, method, path, json=None, params=None):
        if username not in headers:
            headers[username] = sign_in(client, username)
        body = json if json is not None or method == "GET" else {}
        return client.request(method, path, headers=headers[username], json=body, params=params)

    return _call


@pytest.fixture
def day(engine, call) -> scenario.Day:
    """Both patrols planned, accepted, checked in and started."""
    found = scenario.plan(engine)
    scenario.accept(call, found)
    scenario.go_out(call, found)
    return found


def _alert(call, username, patrol_id):
    listed = call(username, "GET", "/api/v1/alerts")
    assert listed.status_code == 200, listed.text
    return next((a for a in listed.json() if a["patrol_id"] == patrol_id), None)


def test_out_of_zone_alert_coordinates_only_for_those_who_may_locate_the_patrol(call, day):
    scenario.positions(call, day)
    scenario.stray(call, day)
    patrol = day.patrols["empty"]
    for username in ("dispatcher.sterea", "coordinator.mantoudi"):  # the responsible agency, the region's dispatch
        alert = _alert(call, username, patrol)
        assert alert["kind"] == "out_of_zone" and {"lon", "lat"} <= set(alert["details"]), username
    # They see the alert, but may not locate this patrol: a reviewer (no volunteer.location), the Limni leader (the
    # patrol has no executing organisation and Limni does not hold it) and the crew member.
    for username in ("reviewer.sterea", "leader.limni", "volunteer.limni"):
        alert = _alert(call, username, patrol)
        assert alert is not None, f"{username} should still see the alert"
        assert "lon" not in alert["details"] and "lat" not in alert["details"], f"{username} sees coordinates"
        assert alert["details"]["distance_m"] > 500


def _probe(call, point):
    resp = call("leader.limni", "POST", "/api/v1/incidents",
                {"kind": "smoke", "point": {"type": "Point", "coordinates": list(point)}, "description": "probe"})
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def _near(call, username, incident_id, radius_km):
    resp = call(username, "GET", f"/api/v1/incidents/{incident_id}/patrols/near", params={"radius_km": radius_km})
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_three_probe_incidents_cannot_locate_a_patrol_without_the_location_right(call, day):
    assert scenario.report(call, day, "empty", IN_MANTOUDI).json()["accepted"] == 1
    patrol = day.patrols["empty"]
    probes = {metres: _probe(call, point_at(*IN_MANTOUDI, metres)) for metres in (700, 3000, 7000)}
    bands = {700: "<1 km", 3000: "1–5 km", 7000: "5–10 km"}
    for username in ("reviewer.sterea", "leader.limni"):
        for metres, incident_id in probes.items():
            answers = [_near(call, username, incident_id, radius) for radius in (9.9, 7.5, 5.5)]
            mine = [[n for n in a if n["patrol_id"] == patrol] for a in answers]
            assert all(m == mine[0] for m in mine), f"{username}: the radius must not refine the distance"
            assert mine[0] == [{"patrol_id": patrol, "distance_km": None, "distance_band": bands[metres],
                                "by": "position", "field_status": "on_patrol"}], username
        # A radius inside a band says nothing more than the band: 3 km away answers alike for 1.1 and 4.9 km.
        assert _near(call, username, probes[3000], 1.1) == _near(call, username, probes[3000], 4.9)
    exact = [n for n in _near(call, "dispatcher.sterea", probes[3000], 10) if n["patrol_id"] == patrol]
    assert exact and abs(exact[0]["distance_km"] - 3.0) < 0.05 and exact[0]["distance_band"] == "1–5 km"
    assert not [n for n in _near(call, "dispatcher.sterea", probes[3000], 2.5) if n["patrol_id"] == patrol]


def _track(call, username, patrol_id):
    return call(username, "GET", f"/api/v1/patrols/{patrol_id}/positions")


def _ogc_tracks(call, username):
    resp = call(username, "GET", "/ogc/collections/tracks/items")
    assert resp.status_code == 200, resp.text
    return {f["id"] for f in resp.json()["features"]}


def test_tracks_of_ended_patrols_only_for_the_responsible_agency(call, day):
    scenario.positions(call, day)
    own = day.patrols["own"]
    assert _track(call, "leader.north_evia", own).status_code == 200  # its executing organisation, while live
    assert own in _ogc_tracks(call, "leader.north_evia")
    assert own in {p["patrol_id"] for p in call("leader.north_evia", "GET", "/api/v1/positions/latest").json()}
    scenario.end(call, day)
    gone = _track(call, "leader.north_evia", own)
    assert gone.status_code == 403 and gone.json()["error"] == "location_not_visible"
    assert own not in _ogc_tracks(call, "leader.north_evia")
    assert call("leader.north_evia", "GET", f"/ogc/collections/tracks/items/{own}").status_code == 403
    kept = _track(call, "dispatcher.sterea", own)  # the responsible agency keeps it until the retention purge
    assert kept.status_code == 200 and len(kept.json()) == 1
    assert own in _ogc_tracks(call, "dispatcher.sterea")


def test_an_empty_patrol_is_located_only_by_its_responsible_agency(call, day):
    scenario.positions(call, day)
    empty = day.patrols["empty"]
    for username in ("dispatcher.sterea", "coordinator.mantoudi"):
        assert len(_track(call, username, empty).json()) == 1, username
        assert empty in {p["patrol_id"] for p in call(username, "GET", "/api/v1/positions/latest").json()}
    denied = _track(call, "leader.limni", empty)  # Limni crews it, but does not execute or hold it
    assert denied.status_code == 403 and denied.json()["error"] == "location_not_visible"
    assert empty not in {p["patrol_id"] for p in call("leader.limni", "GET", "/api/v1/positions/latest").json()}
    assert empty not in _ogc_tracks(call, "leader.limni")
    assert _track(call, "officer.attica", empty).status_code == 403
    assert _track(call, "leader.north_evia", empty).status_code == 404  # may not even see it


def _started_at(engine, patrol_id):
    with session_scope(engine) as session:
        return as_utc(session.scalar(select(AuditRecord.occurred_at).where(
            AuditRecord.subject_type == "patrol", AuditRecord.subject_id == str(patrol_id),
            AuditRecord.action == "patrol.start")))


def test_positions_are_accepted_only_inside_the_patrols_active_window(call, day, engine):
    stale = scenario.report(call, day, "own", day.inside["own"], at=utcnow() - timedelta(days=3))
    assert stale.status_code == 422 and stale.json()["error"] == "outside_active_window"
    assert "before the patrol's active window" in stale.json()["detail"]["rejected"][0]["reason"]
    started = _started_at(engine, day.patrols["own"])
    assert scenario.report(call, day, "own", day.inside["own"], at=started - timedelta(seconds=60)
                           ).json()["accepted"] == 1  # within the 120 s skew tolerance
    too_early = scenario.report(call, day, "own", day.inside["own"], at=started - timedelta(seconds=600))
    assert too_early.status_code == 422
    point = day.inside["own"]
    mixed = call("volunteer.north_evia", "POST", "/api/v1/positions", {"reports": [
        {"patrol_id": day.patrols["own"], "at": (utcnow() - timedelta(days=3)).isoformat(), "lon": point[0],
         "lat": point[1]},
        {"patrol_id": day.patrols["own"], "at": utcnow().isoformat(), "lon": point[0], "lat": point[1]}]})
    assert mixed.status_code == 200 and mixed.json()["accepted"] == 1  # the phone keeps its good positions
    assert [(r["index"], r["code"]) for r in mixed.json()["rejected"]] == [(0, "outside_active_window")]
    assert len(_track(call, "dispatcher.sterea", day.patrols["own"]).json()) == 2


def test_the_policy_sees_exactly_the_patrols_rest_shows_to_every_demo_user(engine, day, demo_passwords):
    """``may_see`` (what the hub delivers) and ``patrol_clause`` agree with the rule REST answers with."""
    with session_scope(engine) as session:  # someone of a third organisation was proposed and declined
        other = session.scalar(select(Volunteer.id).join(Organisation, Organisation.id == Volunteer.organisation_id)
                               .where(Organisation.name_en == "Chalkida Civil Protection Team").limit(1))
        session.add(Assignment(patrol_id=day.patrols["own"], volunteer_id=other, status="declined"))
    seen, tokens = 0, {u: issue_token(engine, u) for u in sorted(demo_passwords)}
    with session_scope(engine) as session:
        found = visibility.facts(session, day.patrols.values())
        for username, token in tokens.items():
            principal = auth_service.resolve_token(session, token)
            who = visibility.viewer(session, principal)
            clause = visibility.patrol_clause(who)
            listed = set(session.scalars(select(Patrol.id).where(clause) if clause is not None
                                         else select(Patrol.id)))
            for key, patrol_id in day.patrols.items():
                try:
                    rest = workflow.get_visible(session, principal, patrol_id) is not None
                except (NotFound, Forbidden):
                    rest = False
                assert visibility.may_see(who, found[patrol_id]) == rest == (patrol_id in listed), (username, key)
                seen += rest
    assert 0 < seen < 2 * len(demo_passwords)
