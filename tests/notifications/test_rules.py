"""The rules table: who gets what, read from real audit records written through the API, in the same transaction."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from iolaos.auth.models import User
from iolaos.db import session_scope
from iolaos.journal.models import AuditRecord
from iolaos.notifications.models import Notification, NotificationDelivery
from iolaos.notifications.rules import DEFAULT_RULES, merged_rules
from iolaos.patrols.models import Assignment
from iolaos.volunteers.models import Volunteer
from tests.planning.helpers import committed_plan, set_risk, tomorrow


def _notified(engine, rule: str) -> dict[int, list[Notification]]:
    with session_scope(engine) as s:
        rows = s.scalars(select(Notification).where(Notification.rule == rule)).all()
    found: dict[int, list[Notification]] = {}
    for n in rows:
        found.setdefault(n.user_id, []).append(n)
    return found


def test_a_plan_commit_notifies_each_proposed_volunteer_and_their_leader(nclient, engine, sign_in):
    plan = committed_plan(nclient, sign_in)
    proposal = _notified(engine, "proposal")
    with session_scope(engine) as s:
        proposed = s.execute(select(Volunteer.user_id, Volunteer.organisation_id)
                             .join(Assignment, Assignment.volunteer_id == Volunteer.id)
                             .where(Assignment.status == "proposed")).all()
        leaders = {o: set(s.scalars(select(User.id).where(User.organisation_id == o, User.role == "leader")))
                   for o in {org for _, org in proposed}}
        seqs = {n.audit_seq for ns in proposal.values() for n in ns}
        actions = set(s.scalars(select(AuditRecord.action).where(AuditRecord.seq.in_(seqs))))
    assert plan["patrols"] and proposed
    expected = {u for u, _ in proposed if u} | set().union(*leaders.values())
    assert set(proposal) == expected
    assert actions <= {"patrol.plan", "patrol.restaff"}
    assert all(len({n.audit_seq for n in ns}) == len(ns) for ns in proposal.values()), "once per person and record"
    some = next(iter(proposal.values()))[0]
    assert some.title.startswith("Πρόταση") and "#" in some.body and some.url == "/field"


def test_category_5_tomorrow_notifies_the_areas_leaders_only(nclient, engine, sign_in):
    headers = sign_in(nclient, "dispatcher.sterea")
    assert set_risk(nclient, headers, ["9153"], tomorrow(), category=3).status_code == 201
    assert _notified(engine, "risk_tomorrow") == {}  # below the threshold
    assert set_risk(nclient, headers, ["9153"], tomorrow(), category=5).status_code == 201
    risk = _notified(engine, "risk_tomorrow")
    with session_scope(engine) as s:
        limni = s.scalar(select(User.id).where(User.username == "leader.limni"))
        lamia = s.scalar(select(User.id).where(User.username == "leader.lamia"))
    assert limni in risk and lamia not in risk  # Limni's area is Mantoudi; Lamia's is elsewhere
    assert risk[limni][0].title.startswith("Κίνδυνος 5 αύριο")
    assert set_risk(nclient, headers, ["9153"], tomorrow(), category=4).status_code == 201
    assert len(_notified(engine, "risk_tomorrow")[limni]) == 1, "no new notice for a zone already at 4 or more"


def test_notices_commit_and_roll_back_with_their_record(nclient, engine, sign_in):
    # A failing request writes neither the record nor notices (a report smuggling a status is refused).
    before = _count(engine)
    resp = nclient.post("/api/v1/incidents", headers=sign_in(nclient, "leader.limni"),
                        json={"kind": "smoke", "point": {"type": "Point", "coordinates": [23.45, 38.80]},
                              "status": "closed"})
    assert resp.status_code == 422 and _count(engine) == before
    ok = nclient.post("/api/v1/incidents", headers=sign_in(nclient, "dispatcher.sterea"),
                      json={"kind": "smoke", "point": {"type": "Point", "coordinates": [23.45, 38.80]}})
    assert ok.status_code == 201
    with session_scope(engine) as s:
        seq = s.scalar(select(AuditRecord.seq).where(AuditRecord.action == "incident.report",
                                                     AuditRecord.subject_id == str(ok.json()["id"])))
        rows = s.scalars(select(Notification).where(Notification.audit_seq == seq)).all()
    assert rows and all(n.rule == "incident_nearby" for n in rows)  # Limni's area holds Mantoudi


def test_rules_can_be_switched_off_and_tuned_in_settings(db, engine, sign_in):
    from fastapi.testclient import TestClient

    from iolaos.app import create_app

    assert merged_rules({"incident_nearby": {"radius_km": 3}})["incident_nearby"]["kinds"] == ["smoke", "wildfire"]
    settings = db.model_copy(update={"notify_rules": {"incident_nearby": {"enabled": False}}})
    with TestClient(create_app(settings)) as client:
        assert client.post("/api/v1/incidents", headers=sign_in(client, "dispatcher.sterea"),
                           json={"kind": "smoke", "point": {"type": "Point", "coordinates": [23.45, 38.80]}}
                           ).status_code == 201
    assert _notified(engine, "incident_nearby") == {}
    assert json.dumps(DEFAULT_RULES)  # the documented table is plain JSON


def _count(engine) -> int:
    with session_scope(engine) as s:
        return (s.scalar(select(func.count()).select_from(Notification)) or 0) + (
            s.scalar(select(func.count()).select_from(NotificationDelivery)) or 0)
