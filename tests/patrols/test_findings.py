"""Each finding of the patrol-rules report (issue 14) as a regression test: skills, rest, the clock, who may act,
risk into plans, lost-contact alerts. Service functions are driven with an explicit clock."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from shapely.geometry import MultiPolygon
from sqlalchemy import func, select

from iolaos.auth.actor import system_actor
from iolaos.errors import Conflict, Forbidden, NotFound
from iolaos.field import alerts
from iolaos.field.models import SafetyAlert
from iolaos.journal.models import AuditRecord
from iolaos.patrols import places
from iolaos.patrols import service as patrols
from iolaos.patrols.models import Assignment, Patrol
from iolaos.planning import instance as builder
from iolaos.planning import service as planning
from iolaos.planning import workflow
from iolaos.risk import service as risk
from iolaos.risk.schemas import LevelIn
from iolaos.zones.models import Zone
from tests.patrols.world import DAY, World, at

FIRE_SKILLS = ("driver_4x4", "first_aid", "wildfire_basic", "wildfire_basic")
VALID = date(2027, 1, 1)


def _propose(world: World, patrol_id: int, volunteer_id: int, skill: str | None) -> int:
    with world.session() as s:
        a = patrols.propose(s, actor=system_actor("planner"), patrol=s.get(Patrol, patrol_id),
                            volunteer_id=volunteer_id, slot_skill=skill, reasons=["test"], now=at(5))
        s.commit()
        return int(a.id)


def _call(world: World, fn, *args, **kwargs):
    with world.session() as s:
        out = fn(s, *args, **kwargs)
        s.commit()
        return out


def _dispatcher(world: World):
    return world.principal("dispatcher.sterea")


def _assign(world: World, patrol_id: int, volunteer_id: int, now, **kw):
    return _call(world, patrols.assign, world.settings, principal=_dispatcher(world), patrol_id=patrol_id,
                 volunteer_id=volunteer_id, reason="needed on the crew", now=now, **kw)


# --- skills ---------------------------------------------------------------------------------------------------

def test_direct_assignment_checks_the_place_skill(world):
    patrol = world.patrol(start=10, end=14, crew=4, skills=FIRE_SKILLS, capability="firefighting", category=5)
    radio_only = world.volunteer("limni", {"radio": None})
    with pytest.raises(Conflict) as refused:
        _assign(world, patrol, radio_only, at(6))
    assert refused.value.code == "constraint_violated" and "skill" in refused.value.detail["rules"]
    expired = world.volunteer("limni", {"first_aid": date(2026, 6, 30), "driver_4x4": date(2026, 6, 30)})
    with pytest.raises(Conflict):
        _assign(world, patrol, expired, at(6))


def test_direct_assignment_over_http_refuses_a_missing_skill(client, sign_in, world):
    patrol = world.patrol(start=10, end=14, crew=4, skills=FIRE_SKILLS, capability="firefighting", category=5,
                          day=date.today() + timedelta(days=2))
    radio_only = world.volunteer("limni", {"radio": None})
    resp = client.post(f"/api/v1/patrols/{patrol}/crew", json={"volunteer_id": radio_only, "reason": "short"},
                       headers=sign_in(client, "dispatcher.sterea"))
    assert resp.status_code == 409 and resp.json()["error"] == "constraint_violated", resp.text


def test_a_place_keeps_its_skill_through_decline_and_replan(world):
    _set(world, 3)  # the day still needs the patrol: it stays, its open places go back to the planner
    patrol = world.patrol(start=10, end=14, crew=2, skills=("driver_4x4", "first_aid"))
    medic = world.volunteer("limni", {"first_aid": VALID})
    assignment = _propose(world, patrol, medic, "first_aid")
    _call(world, patrols.decline, world.settings, principal=world.principal("leader.limni"),
          assignment_id=assignment, reason="ill", now=at(6))
    with world.session() as s:
        p = s.get(Patrol, patrol)
        assert places.open_places(s, p) == ["driver_4x4", "first_aid"]
        out = workflow.to_out(s, _dispatcher(world), [p])[0]
        assert [o.skill for o in out.open_places] == ["driver_4x4", "first_aid"]
        assert out.crew[0].slot_skill == "first_aid"
        built = builder.build(s, world.settings, DAY, {world.zone_id}, None, at(6))
        assert f"patrol:{patrol}" in {n.key for n in built.instance.needs}
        need = next(n for n in built.instance.needs if n.key == f"patrol:{patrol}")
        assert "first_aid" in need.slots


# --- rest, counting patrols actually worked --------------------------------------------------------------------

def test_rest_counts_a_patrol_actually_worked(world):
    first = world.patrol(start=12, end=20)
    leader = world.volunteer("limni", {})
    mate = world.volunteer("limni", {})
    for v in (leader, mate):
        _assign(world, first, v, at(8))
    who = world.principal("leader.limni")
    _call(world, patrols.check_in, world.settings, principal=who, patrol_id=first, volunteer_ids=[leader, mate],
          now=at(11.5))
    _call(world, patrols.start, world.settings, principal=who, patrol_id=first, now=at(12))
    _call(world, patrols.end, principal=who, patrol_id=first, now=at(20))
    second = world.patrol(start=20, end=24)
    with pytest.raises(Conflict) as refused:
        _assign(world, second, leader, at(20.1))
    assert "rest" in refused.value.detail["rules"]


def test_a_proposal_of_a_finished_shift_binds_nobody(world):
    finished = world.patrol(start=6, end=10)
    volunteer = world.volunteer("limni", {})
    _propose(world, finished, volunteer, None)
    real = world.patrol(start=10, end=14)
    _assign(world, real, volunteer, at(10.5))
    assert world.get(real).status in ("planned", "staffed")


# --- the clock ------------------------------------------------------------------------------------------------

def test_todays_plan_staffs_only_shifts_not_ended(world):
    with world.session() as s:
        risk.set_levels(s, principal=_dispatcher(world),
                        items=[LevelIn(zone_code="9153", date=DAY.isoformat(), category=4)])
        s.commit()
        built = builder.build(s, world.settings, DAY, {world.zone_id}, None, at(15))
    assert built.instance.needs and all(n.end > at(15).timestamp() for n in built.instance.needs)


def test_transitions_keep_their_windows(world):
    patrol = world.patrol(start=10, end=14)
    a, b = world.volunteer("limni", {}), world.volunteer("limni", {})
    proposal = _propose(world, patrol, a, None)
    leader = world.principal("leader.limni")
    with pytest.raises(Conflict) as late:
        _call(world, patrols.accept, world.settings, principal=leader, assignment_id=proposal, now=at(14))
    assert late.value.code == "outside_window"
    _call(world, patrols.accept, world.settings, principal=leader, assignment_id=proposal, now=at(6))
    _assign(world, patrol, b, at(6))
    with pytest.raises(Conflict) as early:
        _call(world, patrols.check_in, world.settings, principal=leader, patrol_id=patrol, volunteer_ids=[a, b],
              now=at(10 - 24))
    assert early.value.code == "outside_window"
    _call(world, patrols.check_in, world.settings, principal=leader, patrol_id=patrol, volunteer_ids=[a, b],
          now=at(9))
    with pytest.raises(Conflict) as day_before:
        _call(world, patrols.start, world.settings, principal=leader, patrol_id=patrol, now=at(8))
    assert day_before.value.code == "outside_window"
    with pytest.raises(Conflict):
        _call(world, patrols.start, world.settings, principal=leader, patrol_id=patrol, now=at(14))
    _call(world, patrols.start, world.settings, principal=leader, patrol_id=patrol, now=at(9.5))


def test_start_needs_the_minimum_crew_with_its_skills_unless_overridden(world):
    patrol = world.patrol(start=10, end=14, crew=3, skills=("driver_4x4", "first_aid"))
    alone = world.volunteer("limni", {"radio": None})
    _assign(world, patrol, alone, at(6), overrides=())  # an unskilled place is open
    leader = world.principal("leader.limni")
    _call(world, patrols.check_in, world.settings, principal=leader, patrol_id=patrol, volunteer_ids=[alone],
          now=at(9))
    with pytest.raises(Conflict) as short:
        _call(world, patrols.start, world.settings, principal=leader, patrol_id=patrol, now=at(10))
    assert short.value.code == "crew_not_ready"
    assert set(short.value.detail["rules"]) == {"minimum_crew", "required_skills"}
    with pytest.raises(Conflict):  # a leader cannot override
        _call(world, patrols.start, world.settings, principal=leader, patrol_id=patrol, now=at(10),
              override_reason="we go anyway")
    _call(world, patrols.start, world.settings, principal=_dispatcher(world), patrol_id=patrol, now=at(10),
          override_reason="second crew joins at 11:00")
    with world.session() as s:
        record = s.scalars(select(AuditRecord).where(AuditRecord.action == "patrol.start")).all()[-1]
    data = json.loads(record.data) if isinstance(record.data, str) else record.data
    assert {o["rule"] for o in data["overrides"]} == {"minimum_crew", "required_skills"}
    assert all(o["reason"] == "second crew joins at 11:00" for o in data["overrides"])


def test_ended_shifts_expire_and_stop_counting(world):
    patrol = world.patrol(start=6, end=10)
    volunteer = world.volunteer("limni", {})
    assignment = _propose(world, patrol, volunteer, None)
    counts = _call(world, patrols.expire_ended, now=at(10))
    assert counts == {"assignments": 1, "patrols": 1}
    with world.session() as s:
        assert s.get(Assignment, assignment).status == "expired"
        assert s.get(Patrol, patrol).status == "expired"
        assert s.scalar(select(func.count()).select_from(AuditRecord)
                        .where(AuditRecord.action.in_(("assignment.expire", "patrol.expire")))) == 2


# --- who may act ----------------------------------------------------------------------------------------------

def test_a_declined_volunteers_leader_cannot_operate_the_patrol(world):
    patrol = world.patrol(start=10, end=14, team="north_evia")
    outsider = world.volunteer("limni", {})
    mine = [world.volunteer("north_evia", {}), world.volunteer("north_evia", {})]
    proposal = _propose(world, patrol, outsider, None)
    limni = world.principal("leader.limni")
    _call(world, patrols.decline, world.settings, principal=limni, assignment_id=proposal, reason="busy",
          now=at(6))
    for v in mine:
        _assign(world, patrol, v, at(6))
    own = world.principal("leader.north_evia")
    _call(world, patrols.check_in, world.settings, principal=own, patrol_id=patrol, volunteer_ids=mine, now=at(9))
    _call(world, patrols.start, world.settings, principal=own, patrol_id=patrol, now=at(10))
    for attempt in (lambda s: patrols.set_field_status(s, principal=limni, patrol_id=patrol, status="returning"),
                    lambda s: patrols.end(s, principal=limni, patrol_id=patrol, now=at(11))):
        with world.session() as s, pytest.raises(NotFound):
            attempt(s)
    with world.session() as s, pytest.raises((NotFound, Forbidden)):
        alerts.sos(s, principal=limni, patrol_id=patrol, note="not ours")


def test_a_patrol_committed_empty_belongs_to_its_crew_as_it_is_now(world):
    patrol = world.patrol(start=10, end=14, team=None)
    withdrawn = world.volunteer("limni", {})
    limni = world.principal("leader.limni")
    proposal = _propose(world, patrol, withdrawn, None)
    _call(world, patrols.accept, world.settings, principal=limni, assignment_id=proposal, now=at(6))
    _call(world, patrols.decline, world.settings, principal=limni, assignment_id=proposal, reason="ill", now=at(7))
    crew = [world.volunteer("north_evia", {}), world.volunteer("north_evia", {})]
    for v in crew:
        _assign(world, patrol, v, at(7))
    own = world.principal("leader.north_evia")
    _call(world, patrols.check_in, world.settings, principal=own, patrol_id=patrol, volunteer_ids=crew, now=at(9))
    _call(world, patrols.start, world.settings, principal=own, patrol_id=patrol, now=at(10))
    with world.session() as s, pytest.raises(NotFound):
        patrols.end(s, principal=limni, patrol_id=patrol, now=at(11))


def test_a_crew_checked_in_on_a_patrol_that_never_went_out_is_released(world):
    patrol = world.patrol(start=10, end=14)
    crew = [world.volunteer("limni", {}), world.volunteer("limni", {})]
    for v in crew:
        _assign(world, patrol, v, at(6))
    _call(world, patrols.check_in, world.settings, principal=world.principal("leader.limni"), patrol_id=patrol,
          volunteer_ids=crew, now=at(9))
    _call(world, patrols.expire_ended, now=at(14))
    tomorrow = world.patrol(start=32, end=36)  # 08–12 the next day
    _assign(world, tomorrow, crew[0], at(23))  # nothing was worked: no rest or hours are owed


def test_an_incident_handed_to_another_agency_can_be_acted_on(client, sign_in):
    fire = sign_in(client, "dispatcher.attica")
    made = client.post("/api/v1/incidents", json={"kind": "smoke", "severity": "high", "description": "Καπνός",
                                                  "point": {"type": "Point", "coordinates": [23.87, 38.06]}},
                       headers=fire)
    assert made.status_code == 201, made.text
    incident = made.json()["id"]
    police = sign_in(client, "officer.police")
    me = client.get("/api/v1/auth/me", headers=police).json()
    handed = client.post(f"/api/v1/responsibility/incident/{incident}/handover",
                         json={"to_user_id": me["id"], "reason": "police lead on arson suspicion"}, headers=fire)
    assert handed.status_code in (200, 201), handed.text
    moved = client.post(f"/api/v1/incidents/{incident}/status", json={"status": "acknowledged", "note": "ok"},
                        headers=police)
    assert moved.status_code == 200, moved.text
    leader = client.get("/api/v1/auth/me", headers=sign_in(client, "leader.penteli")).json()
    refused = client.post(f"/api/v1/responsibility/incident/{incident}/handover",
                          json={"to_user_id": leader["id"], "reason": "the team is close"}, headers=police)
    assert refused.status_code == 422 and refused.json()["error"] in ("holder_cannot_act", "invalid_holder"), \
        refused.text


# --- risk flows into plans ------------------------------------------------------------------------------------

def _set(world: World, category: int) -> None:
    with world.session() as s:
        risk.set_levels(s, principal=_dispatcher(world),
                        items=[LevelIn(zone_code="9153", date=DAY.isoformat(), category=category)])
        s.commit()


def _commit(world: World, now):
    with world.session() as s:
        out = planning.commit(s, world.settings, principal=_dispatcher(world), day=DAY, region_code="GR-H",
                              expected=None, now=now)
        s.commit()
        return out


def test_lowering_the_risk_cancels_unstaffed_patrols_and_keeps_staffed_ones(world):
    _set(world, 4)
    plan = _commit(world, at(0))
    ids = [p.patrol_id for p in plan.patrols if p.zone_code == "9153"]
    assert len(ids) > 1
    kept = ids[-1]
    with world.session() as s:  # the planner's proposals for it are withdrawn by their leaders
        proposals = [(a.id, a.volunteer_id) for a in s.scalars(select(Assignment).where(
            Assignment.patrol_id == kept, Assignment.status == "proposed"))]
    for assignment_id, volunteer_id in proposals:
        leader = _leader_of(world, volunteer_id)
        _call(world, patrols.decline, world.settings, principal=world.principal(leader), assignment_id=assignment_id,
              reason="replaced", now=at(0))
    for skills in ({"driver_4x4": VALID}, {"first_aid": VALID}, {}):
        _assign(world, kept, world.volunteer("limni", skills), at(0))
    assert world.get(kept).status == "staffed"
    _set(world, 1)
    with world.session() as s:
        preview = planning.preview(s, world.settings, principal=_dispatcher(world), day=DAY, region_code="GR-H",
                                   now=at(1))
    kinds = {c.patrol_id: c.kind for c in preview.changes}
    assert kinds[kept] == "keep_surplus" and all(kinds[i] == "cancel" for i in ids if i != kept)
    _commit(world, at(1))
    with world.session() as s:
        statuses = {p.id: p.status for p in s.scalars(select(Patrol).where(Patrol.id.in_(ids)))}
    assert statuses[kept] == "staffed"
    assert all(statuses[i] == "cancelled" for i in ids if i != kept)


def _leader_of(world: World, volunteer_id: int) -> str:
    from iolaos.demo.seed import VOLUNTEER_ORGS
    from iolaos.organisations.models import Organisation
    from iolaos.volunteers.models import Volunteer

    with world.session() as s:
        name = s.scalar(select(Organisation.name_en).join(Volunteer, Volunteer.organisation_id == Organisation.id)
                        .where(Volunteer.id == volunteer_id))
    return next(f"leader.{key}" for key, _, name_en, *_ in VOLUNTEER_ORGS if name_en == name)


def test_raising_the_risk_does_not_count_a_prevention_crew_as_firefighting(world):
    _set(world, 3)
    plan = _commit(world, at(0))
    prevention = [p.patrol_id for p in plan.patrols if p.zone_code == "9153"]
    _set(world, 5)
    _commit(world, at(1))
    with world.session() as s:
        fire = s.scalars(select(Patrol).where(Patrol.zone_id == world.zone_id, Patrol.status.in_(
            ("planned", "staffed")), Patrol.capability == "firefighting")).all()
        left = s.scalars(select(Patrol).where(Patrol.id.in_(prevention))).all()
    assert fire, "category 5 needs firefighting patrols"
    assert all(p.capability == "firefighting" or p.status == "cancelled" for p in left)


def test_a_municipality_with_sectors_keeps_coverage_outside_them(world):
    with world.session() as s:
        mun = s.get(Zone, world.zone_id)
        sector_geom = mun.geom.intersection(mun.geom.representative_point().buffer(0.02))
        if sector_geom.geom_type == "Polygon":
            sector_geom = MultiPolygon([sector_geom])
        s.add(Zone(code="9153-S1", kind="sector", name_el="Τομέας 1", name_en="Sector 1", parent_id=mun.id,
                   geom=sector_geom))
        s.commit()
        s.info.pop("iolaos_zone_tree", None)
        units = builder.planning_units(s)
        sector = s.scalar(select(Zone.id).where(Zone.code == "9153-S1"))
    assert sector in units and world.zone_id in units


# --- alerts ---------------------------------------------------------------------------------------------------

def test_an_acknowledged_lost_contact_stays_quiet_until_contact_resumes_or_the_interval(world):
    patrol = world.patrol(start=10, end=14)
    crew = [world.volunteer("limni", {}), world.volunteer("limni", {})]
    for v in crew:
        _assign(world, patrol, v, at(6))
    leader = world.principal("leader.limni")
    _call(world, patrols.check_in, world.settings, principal=leader, patrol_id=patrol, volunteer_ids=crew, now=at(9))
    _call(world, patrols.start, world.settings, principal=leader, patrol_id=patrol, now=at(10))

    def sweep(now):
        return _call(world, alerts.sweep_lost_contact, now=now, after_minutes=15, realert_minutes=30)

    raised = sweep(at(10.5))
    assert len(raised) == 1
    _call(world, alerts.acknowledge, principal=_dispatcher(world), alert_id=raised[0].id, note="calling them",
          now=at(10.5))
    assert sweep(at(10.55)) == []
    assert sweep(at(10.9)) == []
    assert len(sweep(at(11.1))) == 1  # 30 minutes of further silence after the acknowledgement
    with world.session() as s:
        assert s.scalar(select(func.count()).select_from(SafetyAlert).where(SafetyAlert.patrol_id == patrol)) == 2
