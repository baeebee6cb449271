"""Patrol lifecycle in the field: crew check-in and check-out, start, end and field status."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from iolaos.auth.permissions import Scope
from iolaos.auth.principal import Principal, organisation_ids
from iolaos.errors import Conflict, InvalidInput, NotFound
from iolaos.journal import service as journal
from iolaos.kit.time import as_utc, utcnow
from iolaos.patrols.models import Assignment, Patrol
from iolaos.planning import workflow
from iolaos.planning.service import patrol_topics
from iolaos.risk import service as risk
from iolaos.volunteers.models import Volunteer

# action → (statuses it may start from, status it leads to)
MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    "start": (("planned", "staffed"), "active"),
    "end": (("active",), "completed"),
}
FIELD_STATUSES = ("on_patrol", "returning", "needs_help")
ATHENS = ZoneInfo("Europe/Athens")


def allowed_actions(patrol: Patrol) -> list[str]:
    """Lifecycle actions possible from the patrol's status."""
    actions = [name for name, (sources, _) in MOVES.items() if patrol.status in sources]
    if patrol.status in ("planned", "staffed", "active"):
        actions += ["check_in", "check_out"]
    if patrol.status == "active":
        actions += ["field_status"]
    return actions


def _illegal(patrol: Patrol, action: str) -> Conflict:
    return Conflict({"message": f"cannot {action.replace('_', ' ')} a patrol that is {patrol.status}",
                     "status": patrol.status, "allowed": allowed_actions(patrol)}, code="illegal_transition")


def operable(session: Session, principal: Principal, patrol_id: int) -> Patrol:
    """A patrol the caller may operate: visible, and within their patrol.operate scope.

    The role is checked before the patrol is looked up, so a role without the permission answers
    403 whatever the id, and a foreign patrol answers 404 exactly like a missing one.
    """
    scope = principal.scope("patrol.operate")
    patrol = workflow.get_visible(session, principal, patrol_id)
    if scope is Scope.OWN:
        crew_orgs = set(session.scalars(select(Volunteer.organisation_id).join(
            Assignment, Assignment.volunteer_id == Volunteer.id).where(Assignment.patrol_id == patrol.id)))
        if principal.organisation_id not in crew_orgs | {patrol.organisation_id}:
            raise NotFound("no such patrol")
    elif scope is not Scope.ALL:
        zones = risk.zones_in_scope(session, principal, "patrol.operate")
        if zones is not None and patrol.zone_id not in zones:
            raise NotFound("no such patrol")
    return patrol


def _crew(session: Session, principal: Principal, patrol: Patrol, volunteer_ids: list[int]
          ) -> list[tuple[Assignment, Volunteer]]:
    rows = session.execute(select(Assignment, Volunteer).join(Volunteer, Volunteer.id == Assignment.volunteer_id)
                           .where(Assignment.patrol_id == patrol.id, Assignment.volunteer_id.in_(volunteer_ids))).all()
    found = {a.volunteer_id for a, _ in rows}
    missing = sorted(set(volunteer_ids) - found)
    if missing:
        raise InvalidInput({"message": "not on this patrol's crew", "volunteer_ids": missing}, code="not_crew")
    if principal.scope("patrol.operate") is Scope.OWN:
        mine = organisation_ids(session, principal, "patrol.operate") or set()
        foreign = sorted(v.id for _, v in rows if v.organisation_id not in mine)
        if foreign:
            raise NotFound({"message": "no such crew members", "volunteer_ids": foreign})
    return list(rows)


def shift_date(patrol: Patrol) -> date:
    """The patrol's day as planned: the Europe/Athens date of its shift start (risk levels are per local day)."""
    return as_utc(patrol.shift_start).astimezone(ATHENS).date()


def _record(session: Session, principal: Principal, patrol: Patrol, action: str, data: dict[str, Any],
            volunteers: set[int] = frozenset()) -> None:
    topics = patrol_topics(session, patrol, volunteers=set(volunteers))
    journal.record(session, actor=principal.actor, action=action, subject_type="patrol", subject_id=patrol.id,
                   data={"patrol_id": patrol.id, "zone_id": patrol.zone_id, "risk_category": patrol.risk_category,
                         "shift_date": shift_date(patrol).isoformat(), **data},
                   topics=topics, event_kind="patrol.updated",
                   payload={"patrol_id": patrol.id, "status": patrol.status, "field_status": patrol.field_status,
                            "action": action, **data})


def check_in(session: Session, *, principal: Principal, patrol_id: int, volunteer_ids: list[int]) -> Patrol:
    """Crew members who accepted report for duty (ICS-211-like sign-in)."""
    patrol = operable(session, principal, patrol_id)
    if "check_in" not in allowed_actions(patrol):
        raise _illegal(patrol, "check_in")
    now = utcnow()
    crew = _crew(session, principal, patrol, volunteer_ids)
    wrong = sorted(a.volunteer_id for a, _ in crew if a.status != "accepted")
    if wrong:
        raise Conflict({"message": "only crew who accepted can check in", "volunteer_ids": wrong,
                        "allowed": ["accepted"]}, code="illegal_transition")
    for assignment, volunteer in crew:
        assignment.status, assignment.checked_in_at, assignment.updated_at = "checked_in", now, now
        volunteer.status, volunteer.updated_at = "on_patrol", now
    session.flush()
    _record(session, principal, patrol, "patrol.check_in", {"volunteer_ids": sorted(volunteer_ids)},
            set(volunteer_ids))
    return patrol


def check_out(session: Session, *, principal: Principal, patrol_id: int, volunteer_ids: list[int]) -> Patrol:
    """Crew members sign out; their hours go into the journal (recognition is built from it)."""
    patrol = operable(session, principal, patrol_id)
    crew = _crew(session, principal, patrol, volunteer_ids)
    wrong = sorted(a.volunteer_id for a, _ in crew if a.status != "checked_in")
    if wrong:
        raise Conflict({"message": "only checked-in crew can check out", "volunteer_ids": wrong,
                        "allowed": ["checked_in"]}, code="illegal_transition")
    _sign_out(session, principal, patrol, crew)
    return patrol


def _sign_out(session: Session, principal: Principal, patrol: Patrol, crew: list[tuple[Assignment, Volunteer]]
              ) -> None:
    now = utcnow()
    hours = []
    for assignment, volunteer in crew:
        assignment.status, assignment.checked_out_at, assignment.updated_at = "checked_out", now, now
        volunteer.status, volunteer.updated_at = "available", now
        hours.append({"volunteer_id": volunteer.id, "organisation_id": volunteer.organisation_id,
                      "hours": round((now - as_utc(assignment.checked_in_at)).total_seconds() / 3600, 3)})
    session.flush()
    if hours:
        _record(session, principal, patrol, "patrol.check_out", {"volunteers": hours},
                {h["volunteer_id"] for h in hours})


def start(session: Session, *, principal: Principal, patrol_id: int) -> Patrol:
    """The patrol goes out: needs at least one checked-in crew member."""
    patrol = operable(session, principal, patrol_id)
    sources, target = MOVES["start"]
    if patrol.status not in sources:
        raise _illegal(patrol, "start")
    checked_in = session.scalars(select(Assignment.id).where(Assignment.patrol_id == patrol.id,
                                                             Assignment.status == "checked_in")).all()
    if not checked_in:
        raise Conflict({"message": "check the crew in first", "status": patrol.status,
                        "allowed": allowed_actions(patrol)}, code="no_crew_checked_in")
    patrol.status, patrol.field_status, patrol.updated_at = target, "on_patrol", utcnow()
    session.flush()
    _record(session, principal, patrol, "patrol.start", {})
    return patrol


def end(session: Session, *, principal: Principal, patrol_id: int) -> Patrol:
    """The patrol is over: everyone still checked in is checked out."""
    patrol = operable(session, principal, patrol_id)
    sources, target = MOVES["end"]
    if patrol.status not in sources:
        raise _illegal(patrol, "end")
    crew = session.execute(select(Assignment, Volunteer).join(Volunteer, Volunteer.id == Assignment.volunteer_id)
                           .where(Assignment.patrol_id == patrol.id, Assignment.status == "checked_in")).all()
    _sign_out(session, principal, patrol, list(crew))
    patrol.status, patrol.field_status, patrol.updated_at = target, "none", utcnow()
    session.flush()
    _record(session, principal, patrol, "patrol.end", {})
    return patrol


def set_field_status(session: Session, *, principal: Principal, patrol_id: int, status: str) -> Patrol:
    """On patrol, returning, or needs help (which raises an SOS alert)."""
    patrol = operable(session, principal, patrol_id)
    if patrol.status != "active":
        raise _illegal(patrol, "field_status")
    if status not in FIELD_STATUSES:
        raise InvalidInput(f"field status must be one of {', '.join(FIELD_STATUSES)}", code="invalid_input")
    before, patrol.field_status, patrol.updated_at = patrol.field_status, status, utcnow()
    session.flush()
    _record(session, principal, patrol, "patrol.field_status", {"from": before, "to": status})
    if status == "needs_help":
        from iolaos.field import alerts

        alerts.raise_alert(session, actor=principal.actor, patrol=patrol, kind="sos",
                           details={"by_user_id": principal.user_id, "via": "field_status"})
    return patrol
