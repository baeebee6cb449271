"""Recognition: contribution statements built only from the journal, with scope, periods and printable pages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from iolaos.auth.models import User
from iolaos.db import session_scope
from iolaos.incidents.models import Incident
from iolaos.journal.models import AuditRecord
from iolaos.kit.time import utcnow
from iolaos.organisations.models import Organisation
from iolaos.patrols.models import Assignment, Patrol
from iolaos.volunteers.models import Volunteer
from iolaos.zones.models import Zone

MANTOUDI = {"type": "Point", "coordinates": [23.45, 38.80]}
ATHENS = ZoneInfo("Europe/Athens")


@dataclass
class Served:
    """What the Limni team did, driven through the API."""

    member: int  # the volunteer of the account volunteer.limni
    other: int
    org: int
    fire_sterea: int
    confirmed_incident: int
    patrols: list[int]


def _patrol(engine, org_id: int, crew: list[int], risk: int, start) -> int:
    with session_scope(engine) as s:
        zone = s.scalar(select(Zone.id).where(Zone.code == "9153"))
        patrol = Patrol(zone_id=zone, organisation_id=org_id, shift_start=start, shift_end=start + timedelta(hours=4),
                        crew_size=len(crew), risk_category=risk, status="planned")
        s.add(patrol)
        s.flush()
        s.add_all([Assignment(patrol_id=patrol.id, volunteer_id=v, status="accepted") for v in crew])
        return int(patrol.id)


def _ok(resp, status: int = 200):
    assert resp.status_code == status, resp.text
    return resp.json()


def _report(client, headers, kind: str) -> int:
    return _ok(client.post("/api/v1/incidents", headers=headers, json={"kind": kind, "point": MANTOUDI}), 201)["id"]


@pytest.fixture
def served(client, engine, sign_in) -> Served:
    """Two Limni patrols in Mantoudi (risk 4: 3 h for two people; risk 2: 2 h for one) and three sightings."""
    with session_scope(engine) as s:
        org = s.scalar(select(Organisation.id).where(Organisation.name_en == "Limni Evia Forest Volunteers"))
        fire = s.scalar(select(Organisation.id).where(Organisation.name_en.like("%Central Greece")
                                                      & (Organisation.kind == "fire_service")))
        user = s.scalar(select(User.id).where(User.username == "volunteer.limni"))
        member = s.scalar(select(Volunteer.id).where(Volunteer.user_id == user))
        other = s.scalar(select(Volunteer.id).where(Volunteer.organisation_id == org, Volunteer.user_id.is_(None))
                         .order_by(Volunteer.id))
    leader = sign_in(client, "leader.limni")
    # The app's clock is driven (create_app(clock=…)): the two patrols lie 12 hours apart, so the crew rests.
    start = utcnow() - timedelta(hours=20)
    clock = [start]
    client.app.state.clock = lambda: clock[0]
    high = _patrol(engine, org, [member, other], 4, start)
    low = _patrol(engine, org, [member], 2, start + timedelta(hours=12))
    for patrol_id, crew, begin, hours in ((high, [member, other], start, 3.0),
                                          (low, [member], start + timedelta(hours=12), 2.0)):
        base = f"/api/v1/patrols/{patrol_id}"
        clock[0] = begin
        _ok(client.post(f"{base}/check-in", headers=leader, json={"volunteer_ids": crew}))
        _ok(client.post(f"{base}/start", headers=leader))
        clock[0] = begin + timedelta(hours=hours)
        if patrol_id == low:  # one checks out by hand, the rest when the patrol ends
            _ok(client.post(f"{base}/check-out", headers=leader, json={"volunteer_ids": [member]}))
        _ok(client.post(f"{base}/end", headers=leader))
    client.app.state.clock = utcnow
    volunteer, dispatcher = sign_in(client, "volunteer.limni"), sign_in(client, "dispatcher.sterea")
    confirmed = _report(client, volunteer, "smoke")
    _ok(client.post(f"/api/v1/incidents/{confirmed}/status", headers=dispatcher, json={"status": "acknowledged"}))
    _report(client, volunteer, "smoke")  # nobody acted on it yet
    road = _report(client, volunteer, "road_blocked")  # led by the municipality, acknowledged by it
    _ok(client.post(f"/api/v1/incidents/{road}/status", headers=sign_in(client, "coordinator.mantoudi"),
                    json={"status": "acknowledged"}))
    return Served(member, other, org, fire, confirmed, [high, low])


def _journal_hours(engine, volunteer_id: int) -> float:
    """Hours recomputed straight from the audit records."""
    with session_scope(engine) as s:
        rows = s.scalars(select(AuditRecord.data).where(AuditRecord.action == "patrol.check_out")).all()
    return sum(p["hours"] for raw in rows for p in json.loads(raw)["volunteers"] if p["volunteer_id"] == volunteer_id)


def test_volunteer_statement_counts_hours_high_risk_days_and_confirmed_sightings(client, engine, sign_in, served):
    got = _ok(client.get(f"/api/v1/recognition/volunteers/{served.member}", headers=sign_in(client, "volunteer.limni")))
    totals = got["totals"]
    assert totals["hours_on_patrol"] == pytest.approx(5.0, abs=0.01)
    assert totals["hours_on_patrol"] == pytest.approx(_journal_hours(engine, served.member), abs=0.01)
    assert totals["patrols"] == 2
    with session_scope(engine) as s:  # the high-risk patrol's day: its shift start, on Athens' calendar
        began = s.get(Patrol, served.patrols[0]).shift_start
    day = began.replace(tzinfo=began.tzinfo or UTC).astimezone(ATHENS).date().isoformat()
    assert totals["high_risk_days"] == 1 and totals["high_risk_dates"] == [day]
    assert (totals["sightings_reported"], totals["sightings_confirmed"]) == (3, 1)
    [sighting] = got["sightings"]
    assert sighting["incident_id"] == served.confirmed_incident and sighting["confirmed_status"] == "acknowledged"
    assert sighting["confirmed_by_organisation_id"] == served.fire_sterea
    assert sighting["confirmation_seq"] > sighting["report_seq"]
    assert sorted(p["patrol_id"] for p in got["patrols"]) == sorted(served.patrols)
    assert got["source"]["records_used"] == 2 + 3 + 1


def test_statements_come_only_from_the_journal(client, engine, sign_in, served):
    """Changing the operational tables afterwards changes nothing in the statements."""
    headers = sign_in(client, "leader.limni")
    urls = [f"/api/v1/recognition/volunteers/{served.member}", f"/api/v1/recognition/organisations/{served.org}"]
    before = [_ok(client.get(url, headers=headers)) for url in urls]
    with session_scope(engine) as s:
        s.execute(update(Patrol).where(Patrol.id.in_(served.patrols)).values(risk_category=1, status="cancelled"))
        s.execute(update(Assignment).where(Assignment.patrol_id.in_(served.patrols))
                  .values(checked_in_at=None, checked_out_at=None, status="declined"))
        s.execute(update(Incident).values(status="reported"))
    after = [_ok(client.get(url, headers=headers)) for url in urls]
    for old, new in zip(before, after, strict=True):
        for key in ("generated_at", "until", "source"):
            old.pop(key), new.pop(key)
        assert old == new


def test_organisation_statement_and_who_may_read_it(client, sign_in, served):
    url = f"/api/v1/recognition/organisations/{served.org}"
    full = _ok(client.get(url, headers=sign_in(client, "leader.limni")))
    assert full["totals"]["hours_on_patrol"] == pytest.approx(8.0, abs=0.02)
    assert full["totals"]["high_risk_days"] == 1 and full["totals"]["sightings_confirmed"] == 1
    lines = {line["volunteer_id"]: line for line in full["volunteers"]}
    assert set(lines) == {served.member, served.other} and not full["only_own_line"]
    assert lines[served.member]["hours_on_patrol"] == pytest.approx(5.0, abs=0.01)
    assert lines[served.other]["patrols"] == 1 and lines[served.member]["sightings_confirmed"] == 1
    own = _ok(client.get(url, headers=sign_in(client, "volunteer.limni")))
    assert own["only_own_line"] and [line["volunteer_id"] for line in own["volunteers"]] == [served.member]
    assert own["totals"] == full["totals"]
    assert _ok(client.get(url, headers=sign_in(client, "dispatcher.sterea")))["totals"] == full["totals"]
    assert _ok(client.get(url, headers=sign_in(client, "reviewer.sterea")))["totals"] == full["totals"]
    other = f"/api/v1/recognition/volunteers/{served.other}"
    assert client.get(other, headers=sign_in(client, "volunteer.limni")).status_code == 404  # someone else
    for username in ("dispatcher.attica", "leader.penteli", "volunteer.penteli"):
        assert client.get(url, headers=sign_in(client, username)).status_code == 404, username
    assert client.get(url, headers=sign_in(client, "officer.attica")).status_code == 403


def test_period_filters_and_bad_periods(client, sign_in, served):
    headers, url = sign_in(client, "leader.limni"), f"/api/v1/recognition/volunteers/{served.member}"
    later = (utcnow() + timedelta(hours=1)).isoformat()
    empty = _ok(client.get(url, headers=headers, params={"since": later, "until": (utcnow() + timedelta(hours=2))
                                                          .isoformat()}))
    assert empty["totals"]["hours_on_patrol"] == 0 and empty["patrols"] == [] and empty["sightings"] == []
    earlier = (utcnow() - timedelta(days=1)).isoformat()
    assert _ok(client.get(url, headers=headers, params={"since": earlier}))["totals"]["patrols"] == 2
    for params in ({"since": later, "until": earlier}, {"since": "0001-01-01T00:00:00+05:00"},
                   {"until": "2020-01-01T00:00:00"}):
        resp = client.get(url, headers=headers, params=params)
        assert resp.status_code == 422, (params, resp.text)


def test_printable_pages_in_greek_and_english(client, engine, sign_in, served):
    headers = sign_in(client, "leader.limni")
    with session_scope(engine) as s:
        name = s.scalar(select(Volunteer.full_name).where(Volunteer.id == served.member))
        out_at = s.scalar(select(AuditRecord.occurred_at).where(AuditRecord.action == "patrol.check_out")
                          .order_by(AuditRecord.seq))
    el = client.get(f"/api/v1/recognition/volunteers/{served.member}", headers=headers, params={"format": "html"})
    assert el.status_code == 200 and el.headers["content-type"].startswith("text/html")
    assert "Βεβαίωση συνεισφοράς εθελοντή" in el.text and name in el.text and "<html lang='el'>" in el.text
    assert out_at.astimezone(ATHENS).strftime("%d/%m/%Y %H:%M") in el.text  # Greek time, not UTC
    assert "Πυροσβεστική" in el.text and "5" in el.text
    en = client.get(f"/api/v1/recognition/organisations/{served.org}", headers=headers,
                    params={"format": "html", "lang": "en"})
    assert en.status_code == 200 and "Organisation contribution statement" in en.text
    assert "Limni Evia Forest Volunteers" in en.text and "Confirmed by the Fire Service" in en.text
