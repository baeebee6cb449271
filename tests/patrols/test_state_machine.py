"""A stateful property test of the patrol's rules across every path (issue 14, acceptance 1).

Hypothesis drives random sequences of plan, direct assignment, accept, decline, removal, check-in, start (with
and without a dispatcher's override), end, risk change and re-plan, expiry and clock advances, by random
callers of two volunteer organisations and the dispatcher, on both backends. A refused call must change
nothing; after every step the invariants of docs/patrols.md are checked against the database:

1. no filled place's holder lacks its valid skill (skills are never overridable);
2. no volunteer's work breaks rest or maximum hours, counting patrols actually worked with their real times;
3. no patrol went active outside its start window, or below its minimum crew without a recorded override;
4. each transition in the journal was made by a role the transition table allows;
5. every successful change wrote to the journal;
6. a leader who started or ended a patrol belongs to its executing organisation as the crew is at that moment.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import func, select

from iolaos.auth.permissions import scope_for
from iolaos.db import make_engine
from iolaos.errors import IolaosError
from iolaos.journal.models import AuditRecord
from iolaos.patrols import access, eligibility
from iolaos.patrols import service as patrols
from iolaos.patrols.machine import TRANSITIONS
from iolaos.patrols.models import Assignment, Patrol
from iolaos.planning import service as planning
from iolaos.planning.core import Candidate, skill_valid
from iolaos.planning.rules import RestRules, rest_problem
from iolaos.risk import service as risk
from iolaos.risk.schemas import LevelIn
from tests.conftest import _TEMPLATE, Backend
from tests.patrols.world import World, at, build_world

SKILLS = ("driver_4x4", "first_aid", "wildfire_basic")
CALLERS = ("leader.limni", "leader.north_evia", "dispatcher.sterea")
SHIFTS = ((6, 10), (10, 14), (14, 18), (18, 22))
DAY = date(2026, 7, 20)  # inside the world's availability (July)
DONE: dict[str, int] = {}
"""Successful calls per service function over a run: the test fails if the paths it claims to cover never ran."""


class PatrolRules(RuleBasedStateMachine):
    """A fire-season day in North Evia, from a fresh copy of the demo database each example."""

    backend: Backend
    world: World

    def __init__(self) -> None:
        super().__init__()
        self.backend.clone(_TEMPLATE, "sm")
        settings_ = self.backend.settings("sm")
        self.engine = make_engine(settings_)
        self.world = build_world(self.engine, settings_)
        self.day = DAY
        self.clock = at(5, self.day)
        self.people: list[int] = []
        self.patrol_ids: list[int] = []
        self.started: dict[int, tuple] = {}
        self.audits = self._audit_count()

    def teardown(self) -> None:
        self.engine.dispose()

    # --- setup ---------------------------------------------------------------------------------------------
    @initialize(skill_sets=st.lists(st.sets(st.sampled_from(SKILLS), max_size=2), min_size=8, max_size=8))
    def people_of_two_teams(self, skill_sets):
        for i, skills in enumerate(skill_sets):
            team = "limni" if i % 2 == 0 else "north_evia"
            expiry = {s: (self.day + timedelta(days=(-1 if (i + len(s)) % 5 == 0 else 30))) for s in skills}
            self.people.append(self.world.volunteer(team, expiry, name=f"Εθελοντής {i}"))
        self.audits = self._audit_count()

    # --- helpers -------------------------------------------------------------------------------------------
    def _audit_count(self) -> int:
        with self.world.session() as s:
            return s.scalar(select(func.count()).select_from(AuditRecord)) or 0

    def _do(self, fn, *args, **kwargs) -> bool:
        """Run one service call in its own unit of work: committed on success, rolled back when refused."""
        before = self._audit_count()
        with self.world.session() as s:
            try:
                fn(s, *args, **kwargs)
            except IolaosError:
                s.rollback()
                return False
            s.commit()
        after = self._audit_count()
        assert after > before, f"{fn.__name__} changed state without a journal record"
        self.audits = after
        DONE[fn.__name__] = DONE.get(fn.__name__, 0) + 1
        return True

    def _leader_of(self, volunteer_id: int) -> str:
        with self.world.session() as s:
            org = s.get(eligibility.Volunteer, volunteer_id).organisation_id
        team = next((t for t, o in self.world.orgs.items() if o == org), None)
        return f"leader.{team}" if team else "dispatcher.sterea"

    def _assignments(self, statuses: tuple[str, ...]) -> list[Assignment]:
        with self.world.session() as s:
            return list(s.scalars(select(Assignment).where(Assignment.status.in_(statuses),
                                                           Assignment.patrol_id.in_(self.patrol_ids or [-1]))
                                  .order_by(Assignment.id)))

    # --- rules ---------------------------------------------------------------------------------------------
    @rule(shift=st.sampled_from(SHIFTS), team=st.sampled_from(("limni", "north_evia", None)),
          skills=st.lists(st.sampled_from(SKILLS), max_size=2), crew=st.integers(2, 3))
    def plan_a_patrol(self, shift, team, skills, crew):
        self.patrol_ids.append(self.world.patrol(start=shift[0], end=shift[1], crew=crew, skills=tuple(skills),
                                                 team=team, day=self.day))
        self.audits = self._audit_count()

    @rule(category=st.integers(1, 5))
    def risk_change_and_replan(self, category):
        with self.world.session() as s:
            risk.set_levels(s, principal=self.world.principal("dispatcher.sterea"),
                            items=[LevelIn(zone_code="9153", date=self.day.isoformat(), category=category)])
            s.commit()
        self._do(planning.commit, self.world.settings, principal=self.world.principal("dispatcher.sterea"),
                 day=self.day, region_code="GR-H", expected=None, now=self.clock)
        with self.world.session() as s:
            lo, hi = at(0, self.day), at(30, self.day)
            self.patrol_ids = sorted(set(self.patrol_ids) | set(s.scalars(select(Patrol.id).where(
                Patrol.zone_id == self.world.zone_id, Patrol.shift_start >= lo, Patrol.shift_start < hi))))
        self.audits = self._audit_count()

    @precondition(lambda self: self.patrol_ids)
    @rule(data=st.data(), overrides=st.sets(st.sampled_from(("availability", "distance", "area", "skill", "rest"))))
    def direct_assignment(self, data, overrides):
        self._do(patrols.assign, self.world.settings, principal=self.world.principal("dispatcher.sterea"),
                 patrol_id=data.draw(st.sampled_from(self.patrol_ids)), volunteer_id=data.draw(
                     st.sampled_from(self.people)), reason="short-handed", overrides=tuple(overrides),
                 now=self.clock)

    @precondition(lambda self: self.patrol_ids)
    @rule(data=st.data())
    def propose_as_the_planner(self, data):
        patrol_id = data.draw(st.sampled_from(self.patrol_ids))
        with self.world.session() as s:  # like the planner: the first person the assignment check lets through
            patrol = s.get(Patrol, patrol_id)
            open_places = patrols.places.open_places(s, patrol)
            if patrol.status not in ("planned", "staffed") or not open_places:
                return
            volunteer = next((v for v in data.draw(st.permutations(self.people)) if not eligibility.problems_for(
                s, self.world.settings, patrol, s.get(eligibility.Volunteer, v), slot_skill=open_places[0],
                now=self.clock, engine_rules=True)), None)
            if volunteer is None:
                return
        from iolaos.auth.actor import system_actor

        def propose(s):
            patrols.propose(s, actor=system_actor("planner"), patrol=s.get(Patrol, patrol_id), volunteer_id=volunteer,
                            slot_skill=open_places[0], reasons=["property test"], now=self.clock)
            from iolaos.journal import service as journal

            journal.record(s, actor=system_actor("planner"), action="patrol.plan", subject_type="patrol",
                           subject_id=patrol_id, data={"proposed": [volunteer]})
        self._do(propose)

    @rule(data=st.data(), answer=st.sampled_from(("accept", "decline", "remove")))
    def answer_a_proposal(self, data, answer):
        pending = self._assignments(("proposed", "accepted"))
        if not pending:
            return
        target = data.draw(st.sampled_from(pending))
        who = data.draw(st.sampled_from((*CALLERS, "own leader", "own leader")))
        caller = self.world.principal(self._leader_of(target.volunteer_id) if who == "own leader" else who)
        if answer == "accept":
            self._do(patrols.accept, self.world.settings, principal=caller, assignment_id=target.id, now=self.clock)
        elif answer == "decline":
            self._do(patrols.decline, self.world.settings, principal=caller, assignment_id=target.id,
                     reason="not available", now=self.clock)
        else:
            self._do(patrols.remove, self.world.settings, principal=caller, assignment_id=target.id,
                     reason="replaced", now=self.clock)

    @rule(data=st.data())
    def check_in(self, data):
        ready = sorted({a.patrol_id for a in self._assignments(("accepted",))})
        if not ready:
            return
        patrol_id = data.draw(st.sampled_from(ready))
        accepted = [a.volunteer_id for a in self._assignments(("accepted",)) if a.patrol_id == patrol_id]
        chosen = data.draw(st.lists(st.sampled_from(accepted), min_size=1, unique=True))
        self._do(patrols.check_in, self.world.settings, principal=self.world.principal(
            data.draw(st.sampled_from(CALLERS))), patrol_id=patrol_id, volunteer_ids=chosen, now=self.clock)

    @precondition(lambda self: self.patrol_ids)
    @rule(data=st.data(), override=st.booleans())
    def start(self, data, override):
        patrol_id = data.draw(st.sampled_from(self.patrol_ids))
        caller = data.draw(st.sampled_from(CALLERS))
        with self.world.session() as s:
            checked_in = s.scalar(select(func.count()).select_from(Assignment).where(
                Assignment.patrol_id == patrol_id, Assignment.status == "checked_in"))
        if self._do(patrols.start, self.world.settings, principal=self.world.principal(caller), patrol_id=patrol_id,
                    override_reason="second crew on its way" if override else None, now=self.clock):
            self.started[patrol_id] = (self.clock, checked_in)
            self._leader_owns(caller, patrol_id)

    @precondition(lambda self: self.started)
    @rule(data=st.data())
    def end(self, data):
        caller, patrol_id = data.draw(st.sampled_from(CALLERS)), data.draw(st.sampled_from(sorted(self.started)))
        with self.world.session() as s:
            owner = access.executing_organisation(s, s.get(Patrol, patrol_id))
        if self._do(patrols.end, principal=self.world.principal(caller), patrol_id=patrol_id, now=self.clock) \
                and caller.startswith("leader."):
            assert self.world.principal(caller).organisation_id == owner, f"{caller} ended another's patrol"

    def _leader_owns(self, caller: str, patrol_id: int) -> None:
        if not caller.startswith("leader."):
            return
        with self.world.session() as s:
            owner = access.executing_organisation(s, s.get(Patrol, patrol_id))
        assert self.world.principal(caller).organisation_id == owner, f"{caller} started another's patrol"

    @rule(data=st.data())
    def a_crew_goes_out(self, data):
        """The whole morning routine on one fresh patrol of the current shift, each step through its rule."""
        hour = (self.clock - at(0, self.day)).total_seconds() / 3600
        shift = next(((a, b) for a, b in SHIFTS if a - 1 <= hour < b), None)
        if shift is None:
            return
        self.patrol_ids.append(self.world.patrol(start=shift[0], end=shift[1], crew=2, team="limni", day=self.day))
        self.audits = self._audit_count()
        patrol_id = self.patrol_ids[-1]
        crew = data.draw(st.lists(st.sampled_from(self.people[::2]), min_size=2, max_size=2, unique=True))
        placed = [v for v in crew if self._do(patrols.assign, self.world.settings,
                                              principal=self.world.principal("dispatcher.sterea"),
                                              patrol_id=patrol_id, volunteer_id=v, reason="morning", now=self.clock)]
        leader = self.world.principal("leader.limni")
        if placed and self._do(patrols.check_in, self.world.settings, principal=leader, patrol_id=patrol_id,
                               volunteer_ids=placed, now=self.clock) and self._do(
                patrols.start, self.world.settings, principal=leader, patrol_id=patrol_id, now=self.clock):
            self.started[patrol_id] = (self.clock, len(placed))

    @rule(hours=st.sampled_from((0.5, 1, 2, 4, 6)))
    def time_passes(self, hours):
        self.clock += timedelta(hours=hours)
        with self.world.session() as s:
            patrols.expire_ended(s, now=self.clock)
            s.commit()
        self.audits = self._audit_count()

    # --- invariants ----------------------------------------------------------------------------------------
    @invariant()
    def every_place_holder_has_its_skill(self):
        with self.world.session() as s:
            rows = s.execute(select(Assignment, Patrol).join(Patrol, Patrol.id == Assignment.patrol_id).where(
                Assignment.status.in_(("proposed", "accepted", "checked_in")), Assignment.slot_skill.is_not(None),
                Patrol.id.in_(self.patrol_ids or [-1]))).all()
            skills = eligibility.skills_of(s, [a.volunteer_id for a, _ in rows])
        for a, p in rows:
            person = Candidate(a.volunteer_id, 0, None, None, skills.get(a.volunteer_id, {}), ())
            assert skill_valid(person, a.slot_skill, eligibility.epoch(p.shift_end)), \
                f"volunteer {a.volunteer_id} holds a {a.slot_skill} place on patrol {p.id} without it"

    @invariant()
    def nobody_works_without_rest(self):
        rules = RestRules(self.world.settings.planning_max_hours_24h, self.world.settings.planning_min_rest_hours)
        with self.world.session() as s:
            rows = s.execute(select(Assignment, Patrol).join(Patrol, Patrol.id == Assignment.patrol_id).where(
                Assignment.status.in_(("checked_in", "checked_out")), Assignment.volunteer_id.in_(self.people))).all()
        worked: dict[int, list] = {}
        for a, p in rows:
            begin = min(a.checked_in_at, p.shift_start)
            finish = a.checked_out_at if a.status == "checked_out" else max(p.shift_end, a.checked_in_at)
            worked.setdefault(a.volunteer_id, []).append((eligibility.epoch(begin), eligibility.epoch(finish)))
        for volunteer, intervals in worked.items():
            assert rest_problem(intervals, rules) is None, f"volunteer {volunteer}: {rest_problem(intervals, rules)}"

    @invariant()
    def patrols_start_in_their_window_with_crew_or_override(self):
        lead = timedelta(minutes=self.world.settings.patrol_start_lead_minutes)
        with self.world.session() as s:
            for patrol_id, (when, checked_in) in self.started.items():
                p = s.get(Patrol, patrol_id)
                assert p.shift_start - lead <= when < p.shift_end
                if checked_in < min(p.crew_size, self.world.settings.patrol_min_crew):
                    record = s.scalars(select(AuditRecord).where(AuditRecord.action == "patrol.start",
                                                                 AuditRecord.subject_id == str(patrol_id))).first()
                    data = json.loads(record.data) if isinstance(record.data, str) else record.data
                    assert data.get("overrides"), f"patrol {patrol_id} started short-handed without an override"

    @invariant()
    def transitions_were_made_by_permitted_roles(self):
        allowed: dict[str, set[str | None]] = {}
        for t in TRANSITIONS.values():
            allowed.setdefault(t.action, set()).update({t.permission, None} if t.who == "system" else {t.permission})
        with self.world.session() as s:
            rows = s.execute(select(AuditRecord.action, AuditRecord.actor_role).where(
                AuditRecord.action.in_(list(allowed)))).all()
        for action, role in rows:
            if role == "system":
                assert None in allowed[action], f"{action} by the system"
                continue
            assert any(p is not None and scope_for(role, p) is not None for p in allowed[action]), \
                f"{action} made by a {role}"


PatrolRules.TestCase.settings = settings(max_examples=25, stateful_step_count=30, deadline=None, derandomize=True,
                                         suppress_health_check=list(HealthCheck))


@pytest.mark.slow
def test_patrol_rules_hold_on_every_path(backend, template_settings):
    PatrolRules.backend = backend
    DONE.clear()
    PatrolRules.TestCase().runTest()
    print(f"\nsuccessful transitions: {dict(sorted(DONE.items()))}")
    assert {"assign", "accept", "propose", "check_in", "start", "end", "commit"} <= set(DONE), DONE
