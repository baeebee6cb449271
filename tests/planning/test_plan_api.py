"""Acceptance 1 on the demo data: a category-4 day produces a plan and proposals; the workflow around them."""

from __future__ import annotations

from sqlalchemy import func, select

from iolaos.db import session_scope
from iolaos.journal.models import AuditRecord, Event
from iolaos.organisations.models import Organisation
from iolaos.patrols.models import Assignment, Patrol
from iolaos.responsibility.models import Responsibility
from tests.planning.helpers import category4_day, committed_plan, first_proposal


def _org_users(engine) -> dict[int, str]:
    """Volunteer organisation id → its leader's demo username."""
    from iolaos.demo.seed import VOLUNTEER_ORGS

    with session_scope(engine) as s:
        names = dict(s.execute(select(Organisation.name_en, Organisation.id)).all())
    return {names[name_en]: f"leader.{key}" for key, _, name_en, *_ in VOLUNTEER_ORGS}


def test_category4_day_gives_a_plan_with_proposals_and_reasons(client, sign_in):
    day = category4_day(client, sign_in)
    headers = sign_in(client, "dispatcher.attica")
    preview = client.get("/api/v1/plans/preview", params={"date": day.isoformat(), "region": "GR-I"},
                         headers=headers)
    assert preview.status_code == 200, preview.text
    plan = preview.json()
    assert not plan["committed"]
    assert {p["zone_code"] for p in plan["patrols"]} == {"9220", "9176", "9217", "9232"}
    assert len(plan["patrols"]) == 4 * 6  # round-the-clock at category 4: six shifts, one patrol each
    assert plan["objective"]["filled"] > 0
    crew = [m for p in plan["patrols"] for m in p["crew"]]
    assert crew and all(m["reasons"] for m in crew)
    assert any("km από τη βάση" in r for r in crew[0]["reasons"])  # Greek unless the request asks otherwise
    assert all(p["executing_organisation_name"] for p in plan["patrols"] if p["executing_organisation_id"])
    gaps = [g for p in plan["patrols"] for g in p["open_places"]]
    assert all(g["reason"] and not g["reason"].startswith("i18n:") for g in gaps)
    english = client.get("/api/v1/plans/preview", params={"date": day.isoformat(), "region": "GR-I"},
                         headers={**headers, "Accept-Language": "en-GB,en;q=0.9"}).json()
    assert any("km from home base" in r for p in english["patrols"] for m in p["crew"] for r in m["reasons"])
    print(f"\npreview: {plan['objective']}, {len(gaps)} open places, e.g. {gaps[0]['reason'] if gaps else '-'}")
    again = client.get("/api/v1/plans/preview", params={"date": day.isoformat(), "region": "GR-I"},
                       headers=headers).json()
    assert again["fingerprint"] == plan["fingerprint"] and again["patrols"] == plan["patrols"]  # deterministic
    committed = client.post("/api/v1/plans", json={"date": day.isoformat(), "region_code": "GR-I",
                                                   "fingerprint": plan["fingerprint"]}, headers=headers)
    assert committed.status_code == 201, committed.text
    out = committed.json()
    assert out["committed"] and out["plan_key"].startswith(day.isoformat())
    assert [len(p["crew"]) for p in out["patrols"]] == [len(p["crew"]) for p in plan["patrols"]]


def test_commit_writes_patrols_proposals_holders_and_events(client, engine, sign_in):
    plan = committed_plan(client, sign_in)
    ids = [p["patrol_id"] for p in plan["patrols"]]
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Patrol).where(Patrol.id.in_(ids))) == len(ids)
        proposals = s.scalar(select(func.count()).select_from(Assignment).where(Assignment.patrol_id.in_(ids)))
        assert proposals == plan["objective"]["filled"]
        holders = s.scalar(select(func.count()).select_from(Responsibility)
                           .where(Responsibility.subject_type == "patrol", Responsibility.subject_id.in_(ids)))
        assert holders == len(ids)
        actions = set(s.scalars(select(AuditRecord.action)))
        assert {"risk.set", "patrol.plan", "plan.commit", "responsibility.assign"} <= actions
        topics = " ".join(s.scalars(select(Event.topics).where(Event.kind == "patrol.proposed")))
        assert f"patrol:{ids[0]}" in topics and "region:GR-I" in topics and "volunteer:" in topics
    again = client.post("/api/v1/plans", json={"date": plan["date"], "region_code": "GR-I"},
                        headers=sign_in(client, "dispatcher.attica"))
    assert again.status_code == 201  # a second run only re-staffs open places, it adds no patrols
    assert {p["patrol_id"] for p in again.json()["patrols"]} <= set(ids)


def test_leader_accepts_and_declines_dispatcher_overrides(client, engine, sign_in):
    plan = committed_plan(client, sign_in)
    patrol_id, assignment_id, org_id = first_proposal(plan)
    leader = sign_in(client, _org_users(engine)[org_id])
    other = next(u for o, u in _org_users(engine).items() if o != org_id)
    assert client.post(f"/api/v1/assignments/{assignment_id}/accept",
                       headers=sign_in(client, other)).status_code == 404
    assert client.post(f"/api/v1/assignments/{assignment_id}/accept",
                       headers=sign_in(client, "dispatcher.attica")).status_code == 403
    resp = client.post(f"/api/v1/assignments/{assignment_id}/accept", headers=leader)
    assert resp.status_code == 200, resp.text
    member = next(m for m in resp.json()["crew"] if m["assignment_id"] == assignment_id)
    assert member["status"] == "accepted"
    assert client.post(f"/api/v1/assignments/{assignment_id}/accept", headers=leader).status_code == 409
    resp = client.post(f"/api/v1/assignments/{assignment_id}/decline", json={"reason": "car broke down"},
                       headers=leader)
    assert resp.status_code == 200
    member = next(m for m in resp.json()["crew"] if m["assignment_id"] == assignment_id)
    assert (member["status"], member["decline_reason"]) == ("declined", "car broke down")
    dispatcher = sign_in(client, "dispatcher.attica")
    resp = client.post(f"/api/v1/patrols/{patrol_id}/crew",
                       json={"volunteer_id": member["volunteer_id"], "reason": "repaired, confirmed by phone"},
                       headers=dispatcher)
    assert resp.status_code in (200, 409), resp.text  # 409 only when a hard constraint now fails
    if resp.status_code == 200:
        assert any(m["status"] == "accepted" and m["volunteer_id"] == member["volunteer_id"]
                   for m in resp.json()["crew"])
    resp = client.get(f"/api/v1/patrols/{patrol_id}", headers=sign_in(client, "dispatcher.sterea"))
    assert resp.status_code == 404  # another region's dispatcher does not see it
    resp = client.get("/api/v1/responsibility/patrol/" + str(patrol_id), headers=dispatcher)
    assert resp.status_code == 200 and resp.json()["current"]["holder_user_id"] is not None


def test_dispatcher_override_checks_hard_constraints(client, engine, sign_in):
    plan = committed_plan(client, sign_in)
    patrol_id = plan["patrols"][0]["patrol_id"]
    from iolaos.volunteers.models import Volunteer

    with session_scope(engine) as s:
        evia = s.scalar(select(Organisation.id).where(Organisation.name_en == "Limni Evia Forest Volunteers"))
        far = s.scalar(select(Volunteer.id).where(Volunteer.organisation_id == evia))
    resp = client.post(f"/api/v1/patrols/{patrol_id}/crew", json={"volunteer_id": far, "reason": "try it"},
                       headers=sign_in(client, "dispatcher.attica"))
    assert resp.status_code == 404  # a volunteer of another region is not even visible
    resp = client.post(f"/api/v1/patrols/{patrol_id}/crew", json={"volunteer_id": far, "reason": "try it"},
                       headers=sign_in(client, "admin"))
    assert resp.status_code == 403  # admins may not override


def test_cancel_and_reports(client, sign_in):
    plan = committed_plan(client, sign_in)
    day = plan["date"]
    dispatcher = sign_in(client, "dispatcher.attica")
    patrol_id = plan["patrols"][0]["patrol_id"]
    resp = client.post(f"/api/v1/patrols/{patrol_id}/cancel", json={"reason": "road closed"}, headers=dispatcher)
    assert resp.status_code == 200 and resp.json()["status"] == "cancelled"
    assert client.post(f"/api/v1/patrols/{patrol_id}/cancel", json={"reason": "again"},
                       headers=dispatcher).status_code == 409
    report = client.get("/api/v1/coverage/report", params={"start": day, "end": day}, headers=dispatcher)
    assert report.status_code == 200
    rows = {r["zone_code"]: r for r in report.json()}
    assert set(rows) == {"9220", "9176", "9217", "9232"}  # Attica only for Attica's dispatcher
    assert all(r["required"] == 6 * 3 and r["category"] == 4 for r in rows.values())
    equity = client.get("/api/v1/coverage/equity", params={"start": day, "end": day},
                        headers=sign_in(client, "reviewer.attica"))
    assert equity.status_code == 200, equity.text
    body = equity.json()
    assert body["municipalities"] == 4 and 0 <= body["gini"] <= 1
    assert {f["zone_code"] for f in body["flagged"]} == {"9220", "9176", "9217", "9232"}  # nothing accepted yet
    assert client.get("/api/v1/coverage/equity", params={"start": day, "end": day},
                      headers=sign_in(client, "leader.penteli")).status_code == 403


def test_bad_planning_input_answers_in_the_one_error_shape(client, sign_in):
    headers = sign_in(client, "dispatcher.attica")
    for resp in (
        client.get("/api/v1/plans/preview", params={"date": "2026-13-01"}, headers=headers),
        client.get("/api/v1/plans/preview", params={"date": "2026-07-01", "region": "GR-H"}, headers=headers),
        client.post("/api/v1/plans", json={"date": "2026-07-01"}, headers=headers),
        client.post("/api/v1/plans", json={"date": "2026-07-01"}, headers=sign_in(client, "leader.penteli")),
        client.get("/api/v1/coverage/report", params={"start": "2026-07-10", "end": "2026-07-01"}, headers=headers),
    ):
        assert 400 <= resp.status_code < 500, resp.text
        assert set(resp.json()) == {"error", "detail"}


def test_a_municipal_coordinator_plans_only_their_municipality(client, sign_in):
    day = category4_day(client, sign_in)
    resp = client.get("/api/v1/plans/preview", params={"date": day.isoformat()},
                      headers=sign_in(client, "coordinator.marathon"))
    assert resp.status_code == 200, resp.text
    assert {p["zone_code"] for p in resp.json()["patrols"]} == {"9220"}
    resp = client.get("/api/v1/plans/preview", params={"date": day.isoformat(), "region": "GR-H"},
                      headers=sign_in(client, "coordinator.marathon"))
    assert resp.status_code == 404


def test_policy_defaults_and_regional_override(client, sign_in):
    headers = sign_in(client, "dispatcher.attica")
    policy = client.get("/api/v1/coverage/policy", headers=headers).json()
    assert [r["origin"] for r in policy["rules"]] == ["default"] * 5
    assert policy["rules"][3]["shifts"][0] == "06:00-10:00" and policy["rules"][4]["capability"] == "firefighting"
    rule = {"category": 4, "patrols_per_zone": 2, "crew_size": 2, "required_skills": ["first_aid"],
            "capability": "prevention", "shifts": ["08:00-16:00"]}
    resp = client.put("/api/v1/coverage/policy", json={"rules": [rule]}, headers=headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["region_code"] == "GR-I" and resp.json()["rules"][3]["origin"] == "region"
    assert client.put("/api/v1/coverage/policy", json={"region_code": "GR-H", "rules": [rule]},
                      headers=headers).status_code == 404
    bad = {**rule, "required_skills": ["a1", "b2", "c3"]}
    resp = client.put("/api/v1/coverage/policy", json={"rules": [bad]}, headers=headers)
    assert resp.status_code == 422 and resp.json()["error"] == "invalid_policy"
    day = category4_day(client, sign_in)
    plan = client.get("/api/v1/plans/preview", params={"date": day.isoformat(), "region": "GR-I"},
                      headers=headers).json()
    assert len(plan["patrols"]) == 4 * 2 and all(p["crew_size"] == 2 for p in plan["patrols"])
    evia = client.get("/api/v1/plans/preview", params={"date": day.isoformat()},
                      headers=sign_in(client, "dispatcher.sterea")).json()
    assert len(evia["patrols"]) == 2 * 6  # Central Greece keeps the national default
