"""Every change of a patrol's status or crew: the only code that makes one (tests/patrols/test_contract.py).

Each function names its transition in ``machine.TRANSITIONS``, checks the caller against it (permission and
scope), its time window relative to the shift, and — where a volunteer takes a place — the one assignment check
(``eligibility.require``). Every change is journalled; where a dispatcher overrides a rule, the record names
the rule and the reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from iolaos.auth.actor import Actor, system_actor
from iolaos.auth.permissions import Scope
from iolaos.auth.principal import Principal, organisation_ids
from iolaos.config import Settings
from iolaos.errors import Conflict, InvalidInput, NotFound
from iolaos.i18n import coded
from iolaos.journal import service as journal
from iolaos.kit.ids import saved_id
from iolaos.kit.time import as_utc, utcnow
from iolaos.patrols import access, eligibility, places
from iolaos.patrols.calendar import shift_date
from iolaos.patrols.machine import CREW_NOW, HOLDING, OPEN, expect, in_window
from iolaos.patrols.models import Assignment, Patrol
from iolaos.volunteers import service as volunteers
from iolaos.volunteers.models import Volunteer

FIELD_STATUSES = ("on_patrol", "returning", "needs_help")


def _locked(session: Session, patrol: Patrol, volunteer_ids: Iterable[int] = ()) -> Patrol:
    """Lock the patrol's row (and its volunteers') for the rest of the unit of work on PostgreSQL.

    Two dispatchers filling the last place, or one volunteer put on two overlapping patrols at once, would
    otherwise both pass their checks under READ COMMITTED. SQLite's writers are serialised by BEGIN IMMEDIATE.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(col(Patrol.id)).where(col(Patrol.id) == patrol.id).with_for_update())
        ids = sorted(set(volunteer_ids))
        if ids:
            session.execute(select(col(Volunteer.id)).where(col(Volunteer.id).in_(ids)).order_by(col(Volunteer.id))
                            .with_for_update())
        session.refresh(patrol)
    return patrol


def _window(name: str, patrol: Patrol, now: datetime, settings: Settings) -> None:
    in_window(name, start=patrol.shift_start, end=patrol.shift_end, now=now, settings=settings)


def _data(patrol: Patrol, **extra: Any) -> dict[str, Any]:
    return {"patrol_id": patrol.id, "zone_id": patrol.zone_id, "risk_category": patrol.risk_category,
            "shift_date": shift_date(patrol).isoformat(), **extra}


def _record_patrol(session: Session, actor: Actor, patrol: Patrol, action: str, data: dict[str, Any],
                   volunteer_ids: Iterable[int] = ()) -> None:
    topics = access.patrol_topics(session, patrol, volunteers=set(volunteer_ids))
    journal.record(session, actor=actor, action=action, subject_type="patrol", subject_id=saved_id(patrol),
                   data=_data(patrol, **data), topics=topics, event_kind="patrol.updated",
                   payload={"patrol_id": patrol.id, "status": patrol.status, "field_status": patrol.field_status,
                            "action": action, **data})


def _record_assignment(session: Session, actor: Actor, assignment: Assignment, patrol: Patrol, volunteer: Volunteer,
                       before: str, action: str, reason: str | None, **extra: Any) -> None:
    journal.record(session, actor=actor, action=action, subject_type="assignment", subject_id=saved_id(assignment),
                   data={"patrol_id": patrol.id, "volunteer_id": volunteer.id, "from": before, "to": assignment.status,
                         "reason": reason, "slot_skill": assignment.slot_skill, "patrol_status": patrol.status,
                         **extra},
                   topics=access.patrol_topics(session, patrol, {volunteer.organisation_id}, {saved_id(volunteer)}),
                   event_kind="assignment.updated")


def _restaff(session: Session, patrol: Patrol) -> None:
    """Planned ⇄ staffed follows the crew: staffed once every place is held by someone who accepted."""
    if patrol.status not in OPEN:
        return
    accepted = len(access.crew_now(session, saved_id(patrol)))
    patrol.status = "staffed" if accepted >= patrol.crew_size else "planned"
    patrol.updated_at = utcnow()
    session.flush()


def _move(session: Session, assignment: Assignment, status: str, now: datetime) -> str:
    before = assignment.status
    assignment.status, assignment.updated_at = status, now
    session.flush()
    return before


# --- assignments: proposals, answers, direct assignment, removal -----------------------------------------------

def _assignment(session: Session, principal: Principal, assignment_id: int, action: str
                ) -> tuple[Assignment, Patrol, Volunteer]:
    """An assignment the caller may act on with ``action`` (403 without it, 404 outside its scope)."""
    principal.scope(action)
    row = session.execute(select(Assignment, Patrol, Volunteer).join(Patrol, col(Patrol.id) == Assignment.patrol_id)
                          .join(Volunteer, col(Volunteer.id) == Assignment.volunteer_id)
                          .where(col(Assignment.id) == assignment_id)).first()
    if row is None:
        raise NotFound("no such assignment")
    assignment, patrol, volunteer = row
    _locked(session, patrol, [volunteer.id])
    session.refresh(assignment)
    if action == "assignment.respond":
        allowed = organisation_ids(session, principal, action)
        if allowed is not None and volunteer.organisation_id not in allowed:
            raise NotFound("no such assignment")
    else:
        try:
            access.in_zone_scope(session, principal, action, patrol)
        except NotFound:
            raise NotFound("no such assignment") from None
    return assignment, patrol, volunteer


def propose(session: Session, *, actor: Actor, patrol: Patrol, volunteer_id: int, slot_skill: str | None,
            reasons: list[str], now: datetime | None = None) -> Assignment:
    """The planner proposes a volunteer for a place (the planner has applied the assignment check)."""
    if patrol.status not in OPEN or patrol.shift_end <= (now or utcnow()):
        raise Conflict("proposals are for patrols not yet out whose shift has not ended", code="patrol_closed")
    existing = session.scalar(select(Assignment).where(col(Assignment.patrol_id) == patrol.id,
                                                       col(Assignment.volunteer_id) == volunteer_id))
    if existing is not None and existing.status in HOLDING:
        raise Conflict("the volunteer is already on this patrol", code="already_assigned")
    assignment = existing or Assignment(patrol_id=saved_id(patrol), volunteer_id=volunteer_id)
    assignment.status, assignment.proposed_by, assignment.slot_skill = "proposed", "engine", slot_skill
    assignment.reasons, assignment.updated_at = json.dumps(reasons, ensure_ascii=False), utcnow()
    session.add(assignment)
    session.flush()
    return assignment


def accept(session: Session, settings: Settings, *, principal: Principal, assignment_id: int,
           now: datetime | None = None) -> Patrol:
    """A leader accepts a proposal for their volunteer, before the shift ends; the assignment check runs again."""
    now = now or utcnow()
    assignment, patrol, volunteer = _assignment(session, principal, assignment_id, "assignment.respond")
    expect("accept", assignment.status)
    _window("accept", patrol, now, settings)
    if patrol.status not in OPEN:
        raise Conflict({"message": f"the patrol is {patrol.status}", "status": patrol.status, "allowed": []},
                       code="patrol_closed")
    eligibility.require(session, settings, patrol, volunteer, slot_skill=assignment.slot_skill, now=now)
    before = _move(session, assignment, "accepted", now)
    _restaff(session, patrol)
    _record_assignment(session, principal.actor, assignment, patrol, volunteer, before, "assignment.accept", None)
    return patrol


def decline(session: Session, settings: Settings, *, principal: Principal, assignment_id: int, reason: str,
            now: datetime | None = None) -> Patrol:
    """A leader declines (or withdraws) their volunteer, with a reason; the place, and its skill, stay open."""
    return _release(session, settings, principal, assignment_id, reason, now, "decline", "assignment.respond",
                    "declined")


def remove(session: Session, settings: Settings, *, principal: Principal, assignment_id: int, reason: str,
           now: datetime | None = None) -> Patrol:
    """A dispatcher takes a volunteer off a patrol, with a reason; the place keeps its skill."""
    return _release(session, settings, principal, assignment_id, reason, now, "remove", "assignment.override",
                    "cancelled")


def _release(session: Session, settings: Settings, principal: Principal, assignment_id: int, reason: str,
             now: datetime | None, move: str, permission: str, status: str) -> Patrol:
    """Take someone off a place (decline or removal): the place, with its skill, opens again."""
    now = now or utcnow()
    assignment, patrol, volunteer = _assignment(session, principal, assignment_id, permission)
    transition = expect(move, assignment.status)
    _window(move, patrol, now, settings)
    before = _move(session, assignment, status, now)
    assignment.decline_reason = reason
    _restaff(session, patrol)
    _record_assignment(session, principal.actor, assignment, patrol, volunteer, before, transition.action, reason)
    return patrol


def assign(session: Session, settings: Settings, *, principal: Principal, patrol_id: int, volunteer_id: int,
           reason: str, overrides: tuple[str, ...] = (), now: datetime | None = None) -> Patrol:
    """A dispatcher puts a volunteer on an open place directly (accepted at once).

    The place is one the volunteer holds the skill for (a skilled place first); the assignment check applies,
    and only the rules the transition lists as overridable may be waived, named, with the reason.
    """
    now = now or utcnow()
    principal.scope("assignment.override")
    patrol = access.get_visible(session, principal, patrol_id)
    access.in_zone_scope(session, principal, "assignment.override", patrol)
    volunteer = volunteers.get_visible(session, principal, volunteer_id)
    _locked(session, patrol, [saved_id(volunteer)])
    if patrol.status not in OPEN:
        raise Conflict({"message": f"the patrol is {patrol.status}", "status": patrol.status, "allowed": []},
                       code="patrol_closed")
    existing = session.scalar(select(Assignment).where(col(Assignment.patrol_id) == patrol.id,
                                                       col(Assignment.volunteer_id) == volunteer.id))
    if existing is not None and existing.status in HOLDING:
        raise Conflict("the volunteer is already on this patrol", code="already_assigned")
    move = expect("assign", existing.status if existing is not None else "none")
    _window("assign", patrol, now, settings)
    open_places = places.open_places(session, patrol)
    if not open_places:
        raise Conflict("the crew is full; remove someone first", code="crew_full")
    slot = places.best_place(session, open_places, volunteer, patrol)
    waived = eligibility.require(session, settings, patrol, volunteer, slot_skill=slot, now=now, overrides=overrides,
                                 may_override=move.overridable)
    assignment = existing or Assignment(patrol_id=saved_id(patrol), volunteer_id=saved_id(volunteer))
    before = assignment.status if existing is not None else "none"
    assignment.proposed_by, assignment.slot_skill = f"user:{principal.user_id}", slot
    assignment.reasons = json.dumps([coded.encode("reason.plan.assigned_directly", name=principal.full_name,
                                                  reason=reason)], ensure_ascii=False)
    assignment.status, assignment.updated_at = "accepted", now
    session.add(assignment)
    session.flush()
    _restaff(session, patrol)
    _record_assignment(session, principal.actor, assignment, patrol, volunteer, before, "assignment.override",
                       reason, overrides=[{**w, "reason": reason} for w in waived])
    return patrol


# --- patrols: cancel, check-in/out, start, field status, end -------------------------------------------------

def cancel(session: Session, *, principal: Principal, patrol_id: int, reason: str) -> Patrol:
    """A dispatcher cancels a patrol not yet out, with its crew's assignments."""
    principal.scope("plan.write")
    patrol = access.get_visible(session, principal, patrol_id)
    access.in_zone_scope(session, principal, "plan.write", patrol)
    if patrol.status not in OPEN:
        raise Conflict({"message": f"the patrol is {patrol.status}", "status": patrol.status, "allowed": []},
                       code="patrol_closed")
    _cancel(session, principal.actor, patrol, reason)
    return patrol


def _cancel(session: Session, actor: Actor, patrol: Patrol, reason: str, **extra: Any) -> None:
    crew = list(session.scalars(select(Assignment).where(col(Assignment.patrol_id) == patrol.id,
                                                         col(Assignment.status).in_(HOLDING))))
    now = utcnow()
    for a in crew:
        if a.status == "checked_in":
            volunteer = session.get_one(Volunteer, a.volunteer_id)
            volunteer.status, volunteer.updated_at = "available", now
        a.status, a.decline_reason, a.updated_at = "cancelled", reason, now
    patrol.status, patrol.updated_at = "cancelled", now
    session.flush()
    people = {a.volunteer_id for a in crew}
    orgs = set(session.scalars(select(col(Volunteer.organisation_id)).where(col(Volunteer.id).in_(people)))) \
        if people else set()
    journal.record(session, actor=actor, action="patrol.cancel", subject_type="patrol", subject_id=saved_id(patrol),
                   data={"reason": reason, "crew": sorted(people), **extra},
                   topics=access.patrol_topics(session, patrol, orgs, people), event_kind="patrol.cancelled")


def _named_crew(session: Session, patrol: Patrol, volunteer_ids: list[int]) -> list[tuple[Assignment, Volunteer]]:
    rows = session.execute(select(Assignment, Volunteer).join(Volunteer, col(Volunteer.id) == Assignment.volunteer_id)
                           .where(col(Assignment.patrol_id) == patrol.id,
                                  col(Assignment.volunteer_id).in_(volunteer_ids))).all()
    missing = sorted(set(volunteer_ids) - {a.volunteer_id for a, _ in rows})
    if missing:
        raise InvalidInput({"message": "not on this patrol's crew", "volunteer_ids": missing}, code="not_crew")
    return [(a, v) for a, v in rows]


def _operable_for_crew(session: Session, principal: Principal, patrol_id: int, volunteer_ids: list[int]
                       ) -> tuple[Patrol, list[tuple[Assignment, Volunteer]]]:
    """The patrol and the named crew members, when the caller may operate on each of them."""
    scope = principal.scope("patrol.operate")
    patrol = _locked(session, access.get_visible(session, principal, patrol_id))
    crew = _named_crew(session, patrol, volunteer_ids)
    executing = None
    if scope is Scope.OWN:  # only a leader's reach depends on whose patrol it is: worked out once, here
        mine = organisation_ids(session, principal, "patrol.operate")
        executing = access.executing_organisation(session, patrol)
        if mine is not None and executing not in mine:
            foreign = sorted(saved_id(v) for _, v in crew if v.organisation_id not in mine)
            if foreign:
                raise NotFound({"message": "no such crew members", "volunteer_ids": foreign})
    access.require_operable(session, principal, patrol, crew_member_orgs={v.organisation_id for _, v in crew},
                            executing=executing)
    return patrol, crew


def check_in(session: Session, settings: Settings, *, principal: Principal, patrol_id: int, volunteer_ids: list[int],
             now: datetime | None = None) -> Patrol:
    """Crew members who accepted report for duty, in the check-in window; each passes the assignment check."""
    now = now or utcnow()
    patrol, crew = _operable_for_crew(session, principal, patrol_id, volunteer_ids)
    if patrol.status not in (*OPEN, "active"):
        raise Conflict({"message": f"cannot check in on a patrol that is {patrol.status}", "status": patrol.status,
                        "allowed": []}, code="illegal_transition")
    wrong = sorted(a.volunteer_id for a, _ in crew if a.status != "accepted")
    if wrong:
        raise Conflict({"message": "only crew who accepted can check in", "volunteer_ids": wrong,
                        "allowed": ["accepted"]}, code="illegal_transition")
    _window("check_in", patrol, now, settings)
    for assignment, volunteer in crew:
        eligibility.require(session, settings, patrol, volunteer, slot_skill=assignment.slot_skill, now=now,
                            only=eligibility.AT_CHECK_IN)
    for assignment, volunteer in crew:
        assignment.status, assignment.checked_in_at, assignment.updated_at = "checked_in", now, now
        volunteer.status, volunteer.updated_at = "on_patrol", now
    session.flush()
    _record_patrol(session, principal.actor, patrol, "patrol.check_in", {"volunteer_ids": sorted(volunteer_ids)},
                   volunteer_ids)
    return patrol


def check_out(session: Session, *, principal: Principal, patrol_id: int, volunteer_ids: list[int],
              now: datetime | None = None) -> Patrol:
    """Crew members sign out; their real hours go into the journal and count for rest from now on."""
    patrol, crew = _operable_for_crew(session, principal, patrol_id, volunteer_ids)
    wrong = sorted(a.volunteer_id for a, _ in crew if a.status != "checked_in")
    if wrong:
        raise Conflict({"message": "only checked-in crew can check out", "volunteer_ids": wrong,
                        "allowed": ["checked_in"]}, code="illegal_transition")
    _sign_out(session, principal.actor, patrol, crew, now or utcnow())
    return patrol


def _sign_out(session: Session, actor: Actor, patrol: Patrol, crew: list[tuple[Assignment, Volunteer]],
              now: datetime) -> None:
    hours: list[dict[str, Any]] = []
    for assignment, volunteer in crew:
        checked_in = as_utc(assignment.checked_in_at) if assignment.checked_in_at else now
        out_at = max(now, checked_in)
        assignment.status, assignment.checked_out_at, assignment.updated_at = "checked_out", out_at, out_at
        volunteer.status, volunteer.updated_at = "available", out_at
        hours.append({"volunteer_id": saved_id(volunteer), "organisation_id": volunteer.organisation_id,
                      "hours": round((out_at - checked_in).total_seconds() / 3600, 3)})
    session.flush()
    if hours:
        _record_patrol(session, actor, patrol, "patrol.check_out", {"volunteers": hours},
                       {h["volunteer_id"] for h in hours})


def start(session: Session, settings: Settings, *, principal: Principal, patrol_id: int,
          override_reason: str | None = None, now: datetime | None = None) -> Patrol:
    """The patrol goes out, in its start window, with its minimum crew checked in holding the required skills.

    A dispatcher (assignment.override) may start it short-handed or without a skill, naming the reason; the
    journal records which rule was overridden.
    """
    now = now or utcnow()
    patrol = access.operable(session, principal, patrol_id)
    move = expect("start", patrol.status)
    _window("start", patrol, now, settings)
    short = places.start_problems(session, patrol, settings, now)
    overrides: list[dict[str, str]] = []
    if short:
        if not override_reason or not principal.can("assignment.override"):
            raise Conflict({"message": "the crew is not ready to start", "problems": [t for _, t in short],
                            "rules": [r for r, _ in short], "overridable": list(move.overridable)},
                           code="crew_not_ready")
        overrides = [{"rule": rule, "problem": text, "reason": override_reason} for rule, text in short]
    patrol.status, patrol.field_status, patrol.updated_at = "active", "on_patrol", now
    session.flush()
    _record_patrol(session, principal.actor, patrol, "patrol.start", {"overrides": overrides} if overrides else {})
    return patrol


def end(session: Session, *, principal: Principal, patrol_id: int, now: datetime | None = None) -> Patrol:
    """The patrol is over: everyone still checked in is checked out."""
    now = now or utcnow()
    patrol = access.operable(session, principal, patrol_id)
    expect("end", patrol.status)
    crew = session.execute(select(Assignment, Volunteer).join(Volunteer, col(Volunteer.id) == Assignment.volunteer_id)
                           .where(col(Assignment.patrol_id) == patrol.id, col(Assignment.status) == "checked_in")).all()
    _sign_out(session, principal.actor, patrol, [(a, v) for a, v in crew], now)
    patrol.status, patrol.field_status, patrol.updated_at = "completed", "none", now
    session.flush()
    _record_patrol(session, principal.actor, patrol, "patrol.end", {})
    pending = session.execute(select(Assignment, Volunteer)
                              .join(Volunteer, col(Volunteer.id) == Assignment.volunteer_id)
                              .where(col(Assignment.patrol_id) == patrol.id,
                                     col(Assignment.status).in_(("proposed", "accepted")))).all()
    for assignment, volunteer in pending:  # never came: their place ended with the patrol
        before = _move(session, assignment, "expired", now)
        _record_assignment(session, principal.actor, assignment, patrol, volunteer, before, "assignment.expire",
                           "the patrol ended")
    return patrol


def set_field_status(session: Session, *, principal: Principal, patrol_id: int, status: str) -> Patrol:
    """On patrol, returning, or needs help (which raises an SOS alert)."""
    patrol = access.operable(session, principal, patrol_id)
    expect("field_status", patrol.status)
    if status not in FIELD_STATUSES:
        raise InvalidInput(f"field status must be one of {', '.join(FIELD_STATUSES)}", code="invalid_input")
    before, patrol.field_status, patrol.updated_at = patrol.field_status, status, utcnow()
    session.flush()
    _record_patrol(session, principal.actor, patrol, "patrol.field_status", {"from": before, "to": status})
    if status == "needs_help":
        from iolaos.field import alerts  # alerts belong to field operations; an SOS is raised there

        alerts.raise_alert(session, actor=principal.actor, patrol=patrol, kind="sos",
                           details={"by_user_id": principal.user_id, "via": "field_status"})
    return patrol


# --- the clock and the planner -----------------------------------------------------------------------------

def expire_ended(session: Session, *, now: datetime) -> dict[str, int]:
    """Proposals and acceptances of ended shifts expire, and so do patrols that never went out; journalled."""
    actor = system_actor("patrols")
    ended = list(session.scalars(select(Patrol).where(col(Patrol.status).in_(OPEN), col(Patrol.shift_end) <= now)
                                 .order_by(col(Patrol.id)).with_for_update(skip_locked=True)))
    stale = list(session.execute(select(Assignment, Patrol, Volunteer)
                                 .join(Patrol, col(Patrol.id) == Assignment.patrol_id)
                                 .join(Volunteer, col(Volunteer.id) == Assignment.volunteer_id)
                                 .where(col(Assignment.status).in_(("proposed", "accepted")),
                                        col(Patrol.shift_end) <= now)
                                 .order_by(col(Assignment.id)).with_for_update(of=Assignment, skip_locked=True)).all())
    for assignment, patrol, volunteer in stale:
        before = _move(session, assignment, "expired", now)
        _record_assignment(session, actor, assignment, patrol, volunteer, before, "assignment.expire",
                           "the shift ended")
    waiting = list(session.execute(
        select(Assignment, Volunteer).join(Volunteer, col(Volunteer.id) == Assignment.volunteer_id)
        .where(col(Assignment.patrol_id).in_([p.id for p in ended] or [-1]), col(Assignment.status) == "checked_in")
        .order_by(col(Assignment.id))).all())
    for patrol in ended:
        before, patrol.status, patrol.updated_at = patrol.status, "expired", now
        released = [(a, v) for a, v in waiting if a.patrol_id == patrol.id]
        for assignment, volunteer in released:  # checked in, but the patrol never went out: nothing was worked
            assignment.status, assignment.updated_at = "expired", now
            volunteer.status, volunteer.updated_at = "available", now
        session.flush()
        _record_patrol(session, actor, patrol, "patrol.expire",
                       {"from": before, "reason": "the shift ended", "released": [v.id for _, v in released]},
                       [v.id for _, v in released])
    return {"assignments": len(stale) + len(waiting), "patrols": len(ended)}


def create_planned(session: Session, *, principal: Principal, zone_id: int, organisation_id: int | None,
                   shift_start: datetime, shift_end: datetime, crew_size: int, required_skills: list[str],
                   capability: str, risk_category: int, plan_key: str) -> Patrol:
    """A new planned patrol from the risk map (the planner records it with its proposals)."""
    patrol = Patrol(zone_id=zone_id, organisation_id=organisation_id, shift_start=shift_start, shift_end=shift_end,
                    crew_size=crew_size, required_skills=",".join(required_skills), capability=capability,
                    risk_category=risk_category, status="planned", plan_key=plan_key,
                    created_by_user_id=principal.user_id)
    session.add(patrol)
    session.flush()
    return patrol


def set_executing(session: Session, patrol: Patrol, organisation_id: int | None) -> None:
    """A patrol committed empty gets the organisation the planner chose for it."""
    if patrol.organisation_id is None and organisation_id is not None:
        patrol.organisation_id = organisation_id
        session.flush()


def replan_cancel(session: Session, *, principal: Principal, patrol: Patrol, reason: str, plan_key: str) -> None:
    """A re-plan cancels a surplus patrol nobody accepted yet (proposals are withdrawn with it)."""
    if access.crew_now(session, saved_id(patrol)):
        raise Conflict("a staffed patrol is never cancelled by a re-plan", code="patrol_staffed")
    expect("replan_cancel", patrol.status)
    _cancel(session, principal.actor, patrol, reason, plan_key=plan_key, by="replan")


def upgrade(session: Session, *, principal: Principal, patrol: Patrol, crew_size: int, required_skills: list[str],
            capability: str, risk_category: int, reason: str, plan_key: str) -> None:
    """A re-plan raises a patrol to what the new risk category needs.

    Same capability: places are added and the crew stays. Another capability (prevention → firefighting): only
    for a patrol nobody accepted yet; its proposals are withdrawn, since they were checked for the old kind.
    """
    expect("upgrade", patrol.status)
    before = {"crew_size": patrol.crew_size, "required_skills": patrol.skills, "capability": patrol.capability,
              "risk_category": patrol.risk_category}
    if capability != patrol.capability:
        if access.crew_now(session, saved_id(patrol)):
            raise Conflict("a staffed patrol keeps its kind; a new patrol is planned instead", code="patrol_staffed")
        withdrawn = session.execute(
            select(Assignment, Volunteer).join(Volunteer, col(Volunteer.id) == Assignment.volunteer_id)
            .where(col(Assignment.patrol_id) == patrol.id, col(Assignment.status) == "proposed")).all()
        for a, v in withdrawn:  # checked for the old kind; the planner may propose them again for the new one
            before_status = _move(session, a, "expired", utcnow())
            a.decline_reason = reason
            _record_assignment(session, principal.actor, a, patrol, v, before_status, "assignment.withdraw", reason)
        patrol.crew_size, patrol.required_skills = crew_size, ",".join(required_skills)
    else:
        patrol.crew_size = max(crew_size, patrol.crew_size)
        patrol.required_skills = ",".join(places.merged_skills(patrol.skills, required_skills))
    patrol.capability, patrol.risk_category, patrol.updated_at = capability, risk_category, utcnow()
    session.flush()
    _restaff(session, patrol)
    _record_patrol(session, principal.actor, patrol, "patrol.upgrade",
                   {"from": before, "to": {"crew_size": patrol.crew_size, "required_skills": patrol.skills,
                                           "capability": capability, "risk_category": risk_category},
                    "reason": reason, "plan_key": plan_key})


def set_category(session: Session, *, principal: Principal, patrol: Patrol, category: int, plan_key: str) -> None:
    """A matched patrol carries the day's current category (its crew and kind already fit)."""
    if patrol.risk_category != category:
        before, patrol.risk_category, patrol.updated_at = patrol.risk_category, category, utcnow()
        session.flush()
        _record_patrol(session, principal.actor, patrol, "patrol.recategorise",
                       {"from": before, "to": category, "plan_key": plan_key})


__all__ = ["CREW_NOW", "accept", "assign", "cancel", "check_in", "check_out", "create_planned", "decline", "end",
           "expire_ended", "propose", "remove", "replan_cancel", "set_category", "set_executing",
           "set_field_status", "start", "upgrade"]
