"""Patrols after planning: who may see them, leaders accept or decline, dispatchers override or cancel."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session

from iolaos.auth.permissions import Scope
from iolaos.auth.principal import Principal, organisation_ids
from iolaos.config import Settings
from iolaos.errors import Conflict, NotFound
from iolaos.i18n import coded
from iolaos.journal import service as journal
from iolaos.kit.time import utcnow
from iolaos.organisations import names as organisation_names
from iolaos.patrols.models import Assignment, Patrol
from iolaos.planning import instance as builder
from iolaos.planning import service as planning
from iolaos.planning.core import Need, violations
from iolaos.planning.models import UnfilledSlot
from iolaos.planning.schemas import CrewOut, OpenPlaceOut, PatrolOut
from iolaos.responsibility import subjects
from iolaos.risk import service as risk
from iolaos.risk.models import CATEGORIES
from iolaos.volunteers import service as volunteers
from iolaos.volunteers.models import Volunteer

ACTIVE = builder.ACTIVE


def _visible_clause(session: Session, principal: Principal) -> Any:
    """SQL condition for the patrols the caller may see; None: all of them."""
    scope = principal.scope("patrol.read")
    crew_of = select(Assignment.patrol_id).join(Volunteer, Volunteer.id == Assignment.volunteer_id)
    if scope is Scope.SELF:
        return Patrol.id.in_(crew_of.where(Volunteer.user_id == principal.user_id))
    orgs = organisation_ids(session, principal, "patrol.read")
    zones = risk.zones_in_scope(session, principal, "patrol.read") if scope is not Scope.OWN else set()
    if orgs is None or (scope is not Scope.OWN and zones is None):
        return None
    return or_(Patrol.zone_id.in_(zones or {-1}), Patrol.organisation_id.in_(orgs or {-1}),
               Patrol.id.in_(crew_of.where(Volunteer.organisation_id.in_(orgs or {-1}))))


def get_visible(session: Session, principal: Principal, patrol_id: int) -> Patrol:
    """One patrol the caller may see; 404 otherwise."""
    query = select(Patrol).where(Patrol.id == patrol_id)
    clause = _visible_clause(session, principal)
    patrol = session.scalars(query.where(clause) if clause is not None else query).first()
    if patrol is None:
        raise NotFound("no such patrol")
    return patrol


def list_visible(session: Session, principal: Principal, *, day: date | None, status: str | None, limit: int,
                 offset: int) -> list[Patrol]:
    """Patrols the caller may see, by shift start."""
    query = select(Patrol)
    clause = _visible_clause(session, principal)
    if clause is not None:
        query = query.where(clause)
    if day is not None:
        lo, hi = builder.day_bounds(day)
        query = query.where(Patrol.shift_start >= lo, Patrol.shift_start < hi)
    if status:
        query = query.where(Patrol.status == status)
    return list(session.scalars(query.order_by(Patrol.shift_start, Patrol.id).limit(limit).offset(offset)))


def _in_zone_scope(session: Session, principal: Principal, action: str, patrol: Patrol) -> None:
    zones = risk.zones_in_scope(session, principal, action)
    if zones is not None and patrol.zone_id not in zones:
        raise NotFound("no such patrol")


def _assignment(session: Session, principal: Principal, assignment_id: int, action: str
                ) -> tuple[Assignment, Patrol, Volunteer]:
    """An assignment the caller may act on with ``action`` (403 without it, 404 outside its scope)."""
    principal.scope(action)
    row = session.execute(select(Assignment, Patrol, Volunteer).join(Patrol, Patrol.id == Assignment.patrol_id)
                          .join(Volunteer, Volunteer.id == Assignment.volunteer_id)
                          .where(Assignment.id == assignment_id)).first()
    if row is None:
        raise NotFound("no such assignment")
    assignment, patrol, volunteer = row
    if action == "assignment.respond":
        allowed = organisation_ids(session, principal, action)
        if allowed is not None and volunteer.organisation_id not in allowed:
            raise NotFound("no such assignment")
    else:
        try:
            _in_zone_scope(session, principal, action, patrol)
        except NotFound:
            raise NotFound("no such assignment") from None
    return assignment, patrol, volunteer


def accept(session: Session, settings: Settings, *, principal: Principal, assignment_id: int) -> Patrol:
    """A leader accepts a proposal for their volunteer; the hard constraints are checked again."""
    assignment, patrol, volunteer = _assignment(session, principal, assignment_id, "assignment.respond")
    _expect(assignment, ("proposed",))
    _check(session, settings, patrol, volunteer, ignore=assignment.id)
    _set(session, principal, assignment, patrol, volunteer, "accepted", "assignment.accept", None)
    return patrol


def decline(session: Session, *, principal: Principal, assignment_id: int, reason: str) -> Patrol:
    """A leader declines (or withdraws) their volunteer, with a reason; the place opens for re-planning."""
    assignment, patrol, volunteer = _assignment(session, principal, assignment_id, "assignment.respond")
    _expect(assignment, ("proposed", "accepted"))
    _set(session, principal, assignment, patrol, volunteer, "declined", "assignment.decline", reason)
    return patrol


def remove(session: Session, *, principal: Principal, assignment_id: int, reason: str) -> Patrol:
    """A dispatcher takes a volunteer off a patrol, with a reason."""
    assignment, patrol, volunteer = _assignment(session, principal, assignment_id, "assignment.override")
    _expect(assignment, ("proposed", "accepted"))
    _set(session, principal, assignment, patrol, volunteer, "cancelled", "assignment.remove", reason)
    return patrol


def override(session: Session, settings: Settings, *, principal: Principal, patrol_id: int, volunteer_id: int,
             reason: str) -> Patrol:
    """A dispatcher puts a volunteer on a patrol directly (accepted at once); the hard constraints still hold."""
    principal.scope("assignment.override")
    patrol = get_visible(session, principal, patrol_id)
    _in_zone_scope(session, principal, "assignment.override", patrol)
    volunteer = volunteers.get_visible(session, principal, volunteer_id)
    if patrol.status not in ("planned", "staffed"):
        raise Conflict(f"the patrol is {patrol.status}", code="patrol_closed")
    existing = session.scalar(select(Assignment).where(Assignment.patrol_id == patrol.id,
                                                       Assignment.volunteer_id == volunteer.id))
    if existing is not None and existing.status in ACTIVE:
        raise Conflict("the volunteer is already on this patrol", code="already_assigned")
    if _active_count(session, patrol.id) >= patrol.crew_size:
        raise Conflict("the crew is full; remove someone first", code="crew_full")
    _check(session, settings, patrol, volunteer, ignore=None, override=True)
    assignment = existing or Assignment(patrol_id=patrol.id, volunteer_id=volunteer.id)
    assignment.proposed_by = f"user:{principal.user_id}"
    assignment.reasons = json.dumps([coded.encode("reason.plan.assigned_directly", name=principal.full_name,
                                                  reason=reason)], ensure_ascii=False)
    session.add(assignment)
    session.flush()
    _set(session, principal, assignment, patrol, volunteer, "accepted", "assignment.override", reason)
    return patrol


def cancel(session: Session, *, principal: Principal, patrol_id: int, reason: str) -> Patrol:
    """Cancel a planned patrol and its crew's assignments."""
    principal.scope("plan.write")
    patrol = get_visible(session, principal, patrol_id)
    _in_zone_scope(session, principal, "plan.write", patrol)
    if patrol.status not in ("planned", "staffed"):
        raise Conflict(f"the patrol is {patrol.status}", code="patrol_closed")
    crew = list(session.scalars(select(Assignment).where(Assignment.patrol_id == patrol.id,
                                                         Assignment.status.in_(ACTIVE))))
    for a in crew:
        a.status, a.decline_reason, a.updated_at = "cancelled", reason, utcnow()
    patrol.status, patrol.updated_at = "cancelled", utcnow()
    session.flush()
    people = {a.volunteer_id for a in crew}
    orgs = set(session.scalars(select(Volunteer.organisation_id).where(Volunteer.id.in_(people)))) if people else set()
    journal.record(session, actor=principal.actor, action="patrol.cancel", subject_type="patrol",
                   subject_id=patrol.id, data={"reason": reason, "crew": sorted(people)},
                   topics=planning.patrol_topics(session, patrol, orgs, people), event_kind="patrol.cancelled")
    return patrol


def _expect(assignment: Assignment, statuses: tuple[str, ...]) -> None:
    if assignment.status not in statuses:
        raise Conflict({"message": f"the assignment is {assignment.status}", "status": assignment.status},
                       code="illegal_transition")


def _active_count(session: Session, patrol_id: int) -> int:
    return len(list(session.scalars(select(Assignment.id).where(Assignment.patrol_id == patrol_id,
                                                                Assignment.status.in_(ACTIVE)))))


def _check(session: Session, settings: Settings, patrol: Patrol, volunteer: Volunteer, *, ignore: int | None,
           override: bool = False) -> None:
    """409 listing every hard constraint the volunteer on this patrol would break."""
    day = patrol.shift_start.astimezone(builder.policy.ATHENS).date()
    built = builder.Built(instance=builder.Instance((), (), ()))
    people = builder._candidates(session, {volunteer.organisation_id}, day, settings, built)
    person = next((c for c in people if c.id == volunteer.id), None)
    if person is None:
        raise Conflict({"message": "the volunteer cannot take this patrol", "problems": ["marked unavailable"]},
                       code="constraint_violated")
    shift = (builder.epoch(patrol.shift_start), builder.epoch(patrol.shift_end))
    mine = shift if ignore is not None else None
    commitments = list(person.commitments)
    if mine in commitments:
        commitments.remove(mine)  # the proposal being accepted is counted once, as the shift itself
    person = builder.Candidate(person.id, person.org_id, person.lon, person.lat, person.skills, person.windows,
                               tuple(commitments), person.recent_hours)
    org = next(iter(builder._orgs(session, {volunteer.organisation_id})), None)
    lon, lat = builder._points(session, {patrol.zone_id})[patrol.zone_id]
    need = Need(f"patrol:{patrol.id}", patrol.zone_id, lon, lat, shift[0], shift[1], patrol.capability,
                patrol.risk_category or 3, (None,))
    problems = violations(person, org, need, None, builder.params_from(settings))
    if problems:
        raise Conflict({"message": "the volunteer cannot take this patrol", "problems": problems},
                       code="constraint_violated")


def _set(session: Session, principal: Principal, assignment: Assignment, patrol: Patrol, volunteer: Volunteer,
         status: str, action: str, reason: str | None) -> None:
    before = assignment.status
    assignment.status, assignment.updated_at = status, utcnow()
    if reason is not None and status in ("declined", "cancelled"):
        assignment.decline_reason = reason
    session.flush()
    filled = _active_count(session, patrol.id) - len(list(session.scalars(
        select(Assignment.id).where(Assignment.patrol_id == patrol.id, Assignment.status == "proposed"))))
    patrol.status = "staffed" if filled >= patrol.crew_size else "planned"
    patrol.updated_at = utcnow()
    session.flush()
    journal.record(session, actor=principal.actor, action=action, subject_type="assignment", subject_id=assignment.id,
                   data={"patrol_id": patrol.id, "volunteer_id": volunteer.id, "from": before, "to": status,
                         "reason": reason, "patrol_status": patrol.status},
                   topics=planning.patrol_topics(session, patrol, {volunteer.organisation_id}, {volunteer.id}),
                   event_kind="assignment.updated")


def to_out(session: Session, principal: Principal, patrols: list[Patrol]) -> list[PatrolOut]:
    """Patrols with crews (names only where the caller may read the volunteer) and open places."""
    tree = risk.zone_tree(session)
    ids = [p.id for p in patrols]
    crews: dict[int, list[tuple[Assignment, Volunteer]]] = {}
    for a, v in session.execute(select(Assignment, Volunteer).join(Volunteer, Volunteer.id == Assignment.volunteer_id)
                                .where(Assignment.patrol_id.in_(ids or [-1])).order_by(Assignment.id)):
        crews.setdefault(a.patrol_id, []).append((a, v))
    gaps: dict[int, list[OpenPlaceOut]] = {}
    for g in session.scalars(select(UnfilledSlot).where(UnfilledSlot.patrol_id.in_(ids or [-1]))
                             .order_by(UnfilledSlot.id)):
        gaps.setdefault(g.patrol_id, []).append(OpenPlaceOut(skill=g.skill, reason=g.reason))
    readable = organisation_ids(session, principal, "volunteer.read") if principal.can("volunteer.read") else set()
    return organisation_names.fill_patrols(
        session, [_patrol_out(tree, p, crews.get(p.id, []), gaps.get(p.id, []), readable, principal) for p in patrols])


def _patrol_out(tree, p: Patrol, crew: list[tuple[Assignment, Volunteer]], gaps: list[OpenPlaceOut],
                readable: set[int] | None, principal: Principal) -> PatrolOut:
    zone = tree.by_id[p.zone_id]
    members = [CrewOut(assignment_id=a.id, volunteer_id=v.id, organisation_id=v.organisation_id, status=a.status,
                       volunteer_name=v.full_name if readable is None or v.organisation_id in readable
                       or v.user_id == principal.user_id else None,
                       reasons=json.loads(a.reasons or "[]"), decline_reason=a.decline_reason) for a, v in crew]
    active = sum(1 for a, _ in crew if a.status in ACTIVE)
    open_places = gaps[-(p.crew_size - active):] if p.crew_size > active and p.status != "cancelled" else []
    return PatrolOut(key=f"patrol:{p.id}", patrol_id=p.id, zone_code=zone.code, zone_name_el=zone.name_el,
                     zone_name_en=zone.name_en, risk_category=p.risk_category,
                     colour=CATEGORIES[p.risk_category][2] if p.risk_category in CATEGORIES else None,
                     shift_start=p.shift_start, shift_end=p.shift_end, capability=p.capability,
                     crew_size=p.crew_size, required_skills=p.skills, status=p.status,
                     field_status=p.field_status, executing_organisation_id=p.organisation_id,
                     plan_key=p.plan_key, crew=members,
                     open_places=open_places)


def _load_subject(session: Session, principal: Principal, patrol_id: int) -> subjects.SubjectRef:
    patrol = get_visible(session, principal, patrol_id)
    return planning._ref(session, patrol)


subjects.register("patrol", _load_subject)
__all__ = ["accept", "cancel", "decline", "get_visible", "list_visible", "override", "remove", "to_out"]
