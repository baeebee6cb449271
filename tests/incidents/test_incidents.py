"""Incidents are routed to their lead agency, move only along allowed paths, and always have a holder."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from iolaos.db import session_scope
from iolaos.journal.models import Event
from iolaos.organisations.models import Organisation
from iolaos.responsibility.models import Responsibility

MANTOUDI = (23.45, 38.80)
ATHENS = (23.7348, 37.9755)


def _org_id(engine, name_en: str) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(Organisation.id).where(Organisation.name_en == name_en))


def _report(client, headers, point=MANTOUDI, kind="smoke"):
    resp = client.post("/api/v1/incidents", headers=headers,
                       json={"kind": kind, "point": {"type": "Point", "coordinates": list(point)},
                             "severity": "high", "description": "καπνός πάνω από το δάσος"})
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_smoke_in_mantoudi_goes_to_the_central_greece_fire_command(client, engine, sign_in):
    leader = sign_in(client, "leader.limni")
    incident = _report(client, leader)
    fire_sterea = _org_id(engine, "Fire Service Regional Command of Central Greece")
    assert incident["lead_organisation_id"] == fire_sterea
    assert incident["zone_name_el"] == "Δήμος Μαντουδίου - Λίμνης - Αγίας Άννας"
    assert incident["region_code"] == "GR-H"
    assert incident["status"] == "reported"
    # Routed to the command's duty desk: the organisation holds it until a person takes it.
    assert incident["holder_organisation_id"] == fire_sterea and incident["holder_user_id"] is None
    with session_scope(engine) as session:
        event = session.scalars(select(Event).where(Event.kind == "incident.reported")).one()
    assert f" org:{fire_sterea} " in event.topics and f" incident:{incident['id']} " in event.topics


def test_road_blocked_in_athens_goes_to_the_municipality(client, engine, sign_in):
    incident = _report(client, sign_in(client, "officer.police"), point=ATHENS, kind="road_blocked")
    assert incident["lead_organisation_id"] == _org_id(engine, "Municipality of Athens")
    assert _org_id(engine, "Attica Police Directorate") in incident["notified_organisation_ids"]


def test_lifecycle_allows_only_listed_moves(client, sign_in):
    incident = _report(client, sign_in(client, "leader.limni"))
    dispatcher = sign_in(client, "dispatcher.sterea")
    url = f"/api/v1/incidents/{incident['id']}/status"
    bad = client.post(url, headers=dispatcher, json={"status": "contained"})
    assert bad.status_code == 409
    assert bad.json()["error"] == "illegal_transition"
    assert bad.json()["detail"]["allowed"] == ["acknowledged", "closed"]
    for status in ("acknowledged", "dispatched", "contained", "resolved", "closed"):
        resp = client.post(url, headers=dispatcher, json={"status": status})
        assert resp.status_code == 200, resp.text
    final = client.post(url, headers=dispatcher, json={"status": "dispatched"})
    assert final.status_code == 409 and final.json()["detail"]["allowed"] == []


def test_only_the_lead_agency_manages_and_foreigners_see_nothing(client, sign_in):
    incident = _report(client, sign_in(client, "leader.limni"))
    url = f"/api/v1/incidents/{incident['id']}"
    for outsider in ("leader.penteli", "dispatcher.attica", "reviewer.attica"):
        headers = sign_in(client, outsider)
        assert client.get(url, headers=headers).status_code == 404
        assert client.post(f"{url}/status", headers=headers, json={"status": "acknowledged"}).status_code == 404
    coordinator = sign_in(client, "coordinator.mantoudi")
    assert client.post(f"{url}/status", headers=coordinator, json={"status": "acknowledged"}).status_code in (403, 404)
    assert client.get(url, headers=sign_in(client, "reviewer.sterea")).status_code == 200


def test_acknowledge_takes_responsibility_and_handover_keeps_the_chain(client, engine, sign_in):
    incident = _report(client, sign_in(client, "leader.limni"))
    dispatcher = sign_in(client, "dispatcher.sterea")
    me = client.get("/api/v1/auth/me", headers=dispatcher).json()
    client.post(f"/api/v1/incidents/{incident['id']}/status", headers=dispatcher, json={"status": "acknowledged"})
    chain_url = f"/api/v1/responsibility/incident/{incident['id']}"
    after_ack = client.get(chain_url, headers=dispatcher).json()
    assert after_ack["current"]["holder_user_id"] == me["id"]
    coordinator_id = _user_id(engine, "coordinator.mantoudi")
    resp = client.post(f"{chain_url}/handover", headers=dispatcher,
                       json={"to_user_id": coordinator_id, "reason": "road access coordination on site"})
    assert resp.status_code == 200, resp.text
    chain = resp.json()["chain"]
    assert [h["holder_user_id"] for h in chain] == [None, me["id"], coordinator_id]
    assert chain[0]["until"] == chain[1]["since"] and chain[-1]["until"] is None
    middle = chain[1]["since"]
    at = client.get(f"{chain_url}/at", headers=dispatcher, params={"at": middle}).json()
    assert at["holder_user_id"] == me["id"]
    before = client.get(f"{chain_url}/at", headers=dispatcher,
                        params={"at": "2020-01-01T00:00:00+00:00"})
    assert before.status_code == 200 and before.json() is None
    again = client.post(f"{chain_url}/handover", headers=dispatcher,
                        json={"to_user_id": coordinator_id, "reason": "again"})
    assert again.status_code == 409  # the dispatcher's command has authority, but the holder is the same


def test_handover_needs_authority_and_a_reason(client, engine, sign_in):
    incident = _report(client, sign_in(client, "leader.limni"))
    chain_url = f"/api/v1/responsibility/incident/{incident['id']}/handover"
    target = _user_id(engine, "dispatcher.sterea")
    leader = sign_in(client, "leader.limni")
    denied = client.post(chain_url, headers=leader, json={"to_user_id": target, "reason": "not mine to give"})
    assert denied.status_code in (403, 404)
    no_reason = client.post(chain_url, headers=sign_in(client, "dispatcher.sterea"),
                            json={"to_user_id": target, "reason": ""})
    assert no_reason.status_code == 422


def test_responsibility_rows_are_append_only(client, engine, sign_in):
    _report(client, sign_in(client, "leader.limni"))
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE responsibility SET reason = 'rewritten'"))
    with session_scope(engine) as session:
        assert session.scalars(select(Responsibility.reason)).all() == ["i18n:reason.resp.routed"]  # a catalogue key


def test_bad_reports_are_rejected(client, sign_in):
    headers = sign_in(client, "leader.limni")
    for body in ({"kind": "smoke", "point": {"type": "Point", "coordinates": [200, 38]}},
                 {"kind": "meteor", "point": {"type": "Point", "coordinates": list(MANTOUDI)}},
                 {"kind": "smoke", "point": {"type": "Point", "coordinates": list(MANTOUDI)}, "status": "closed"},
                 {"kind": "smoke"}):
        resp = client.post("/api/v1/incidents", headers=headers, json=body)
        assert resp.status_code == 422, body
        assert resp.json()["error"] == "validation_error"


def _user_id(engine, username: str) -> int:
    from iolaos.auth.models import User

    with session_scope(engine) as session:
        return session.scalar(select(User.id).where(User.username == username))


def test_reports_at_sea_still_reach_someone(client, sign_in):
    incident = _report(client, sign_in(client, "dispatcher.attica"), point=(25.0, 37.5))
    assert incident["zone_code"] is None
    assert incident["lead_organisation_id"] >= 1




def test_local_volunteer_team_is_told_and_may_follow_the_incident(client, engine, sign_in):
    dispatcher = sign_in(client, "dispatcher.sterea")
    incident = _report(client, dispatcher)
    limni = _org_id(engine, "Limni Evia Forest Volunteers")
    assert incident["lead_organisation_id"] == _org_id(engine, "Fire Service Regional Command of Central Greece")
    assert limni in incident["notified_organisation_ids"]  # Mantoudi is in Limni's area of operation
    leader = sign_in(client, "leader.limni")
    assert client.get(f"/api/v1/incidents/{incident['id']}", headers=leader).status_code == 200
    assert incident["id"] in [i["id"] for i in client.get("/api/v1/incidents", headers=leader).json()]
    assert client.get(f"/api/v1/incidents/{incident['id']}", headers=sign_in(client, "leader.north_evia")
                      ).status_code == 404
