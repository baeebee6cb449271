"""A scripted day in Evia, through the API: a committed plan, a crew that accepts, checks in, goes out, calls
SOS and comes back, and a smoke report moved along its lifecycle and handed over. Used by the forms tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from iolaos.db import session_scope
from iolaos.kit.time import utcnow
from iolaos.organisations.models import Organisation
from iolaos.patrols.models import Assignment, Patrol
from iolaos.volunteers.models import Availability, Volunteer
from iolaos.zones.models import Zone

NOTE = "Επιβεβαίωση από 112"
SOS_NOTE = "Τραυματισμός στο πόδι"
TYPED = {NOTE, SOS_NOTE, "Αλλαγή βάρδιας"}  # free text the people typed, printed as typed in every language


@dataclass
class Day:
    """What the script made."""

    day: date
    patrol_id: int
    fire_sterea: int
    limni: int
    incident_id: int


def _ok(resp, status: int = 200):
    assert resp.status_code == status, resp.text
    return resp.json()


def run(client, engine, sign_in) -> Day:
    """Play the day; every change goes through the API except the crew's proposal (made as the planner would)."""
    today = datetime.now(ZoneInfo("Europe/Athens")).date()
    sterea, leader = sign_in(client, "dispatcher.sterea"), sign_in(client, "leader.limni")
    _ok(client.post("/api/v1/risk/levels", headers=sterea, json={"levels": [
        {"zone_code": z, "date": today.isoformat(), "category": 4} for z in ("9153", "9150")]}), 201)
    _ok(client.post("/api/v1/plans", headers=sterea, json={"date": today.isoformat(), "region_code": "GR-H"}), 201)
    patrol_id, crew, limni, fire = _proposed_now(engine, today)
    for assignment_id in crew:
        _ok(client.post(f"/api/v1/assignments/{assignment_id}/accept", headers=leader))
    with session_scope(engine) as session:
        volunteer_ids = list(session.scalars(select(Assignment.volunteer_id).where(Assignment.id.in_(crew))))
    base = f"/api/v1/patrols/{patrol_id}"
    _ok(client.post(f"{base}/check-in", headers=leader, json={"volunteer_ids": volunteer_ids}))
    _ok(client.post(f"{base}/start", headers=leader, json={}))
    _ok(client.post(f"{base}/field-status", headers=leader, json={"status": "on_patrol"}))
    sos = _ok(client.post(f"{base}/sos", headers=leader, json={"note": SOS_NOTE}))
    alert_id = sos.get("alert", sos).get("id") if isinstance(sos.get("alert", sos), dict) else None
    alerts = _ok(client.get("/api/v1/alerts", headers=sterea, params={"status": "open"}))
    for alert in alerts if alert_id is None else [{"id": alert_id}]:
        _ok(client.post(f"/api/v1/alerts/{alert['id']}/acknowledge", headers=sterea, json={"note": NOTE}))
    _ok(client.post(f"{base}/field-status", headers=leader, json={"status": "returning"}))
    _ok(client.post(f"{base}/check-out", headers=leader, json={"volunteer_ids": volunteer_ids}))
    if client.get(base, headers=leader).json()["status"] == "active":
        _ok(client.post(f"{base}/end", headers=leader, json={}))
    incident = _ok(client.post("/api/v1/incidents", headers=leader, json={
        "kind": "smoke", "severity": "high", "point": {"type": "Point", "coordinates": [23.45, 38.80]}}), 201)
    # The crew was sent to it: the ICS-204 of its division and period then names the incident.
    _ok(client.post(f"/api/v1/incidents/{incident['id']}/patrols", headers=sterea, json={"patrol_id": patrol_id}))
    for status in ("acknowledged", "dispatched", "contained", "resolved"):
        _ok(client.post(f"/api/v1/incidents/{incident['id']}/status", headers=sterea,
                        json={"status": status, "note": NOTE}))
    candidates = _ok(client.get(f"/api/v1/responsibility/incident/{incident['id']}/candidates", headers=sterea))
    assert candidates, "the holder may hand over to someone"
    _ok(client.post(f"/api/v1/responsibility/incident/{incident['id']}/handover", headers=sterea,
                    json={"to_user_id": candidates[0]["user_id"], "reason": "Αλλαγή βάρδιας"}))
    return Day(today, patrol_id, fire, limni, incident["id"])


def _proposed_now(engine, today: date) -> tuple[int, list[int], int, int]:
    """A patrol in Mantoudi whose shift is under way, with three Limni volunteers proposed to it.

    Its shift starts on the Athens day the forms are asked for, whatever the hour the test runs (just after
    midnight in Athens an hour back would be yesterday's form).
    """
    now = utcnow()
    midnight = datetime.combine(today, time(0), ZoneInfo("Europe/Athens")).astimezone(UTC)
    with session_scope(engine) as session:
        limni = session.scalar(select(Organisation).where(Organisation.name_en == "Limni Evia Forest Volunteers"))
        fire = session.scalar(select(Organisation.id).where(
            Organisation.name_en == "Fire Service Regional Command of Central Greece"))
        zone = session.scalar(select(Zone).where(Zone.code == "9153"))
        busy = select(Assignment.volunteer_id)  # the plan may have proposed some of them elsewhere today
        people = list(session.scalars(select(Volunteer).where(Volunteer.organisation_id == limni.id,
                                                              Volunteer.id.not_in(busy))
                                      .order_by(Volunteer.id).limit(3)))
        planned = session.scalars(select(Patrol).where(Patrol.zone_id == zone.id, Patrol.shift_start <= now,
                                                       Patrol.shift_start >= midnight, Patrol.shift_end > now)).first()
        start, end = (planned.shift_start, planned.shift_end) if planned else (max(now - timedelta(hours=1), midnight),
                                                                                now + timedelta(hours=3))
        # A second resource in the division's current operational period, as a dispatcher reinforcing it would add.
        patrol = Patrol(zone_id=zone.id, organisation_id=limni.id, shift_start=start, shift_end=end, crew_size=4,
                        risk_category=4, status="planned", leader_volunteer_id=people[0].id)
        session.add(patrol)
        session.flush()
        for person in people:  # free for this shift, as the planner would have checked
            person.status = "available"
            session.add(Availability(volunteer_id=person.id, starts_at=start - timedelta(hours=1),
                                     ends_at=end + timedelta(hours=1)))
        rows = [Assignment(patrol_id=patrol.id, volunteer_id=v.id, status="proposed") for v in people]
        session.add_all(rows)
        session.flush()
        return patrol.id, [a.id for a in rows], limni.id, fire
