"""Patrols after planning, as the pages read them: lists, one patrol, crews and open places.

Every change of a patrol's status or crew lives in ``iolaos.patrols.service``; visibility in
``iolaos.patrols.access`` (re-exported here for the features that read patrols through planning).
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select
from sqlmodel import Session, col

from iolaos.auth.principal import Principal, organisation_ids
from iolaos.i18n import coded
from iolaos.kit.ids import saved_id
from iolaos.organisations import names as organisation_names
from iolaos.patrols import access, places
from iolaos.patrols.access import get_visible
from iolaos.patrols.machine import HOLDING
from iolaos.patrols.models import Assignment, Patrol
from iolaos.planning import instance as builder
from iolaos.planning import service as planning
from iolaos.planning.models import UnfilledSlot
from iolaos.planning.schemas import CrewOut, OpenPlaceOut, PatrolOut
from iolaos.responsibility import subjects
from iolaos.risk import service as risk
from iolaos.risk.models import CATEGORIES
from iolaos.volunteers.models import Volunteer

ACTIVE = HOLDING


def list_visible(session: Session, principal: Principal, *, day: date | None, status: str | None, limit: int,
                 offset: int) -> list[Patrol]:
    """Patrols the caller may see, by shift start."""
    query = select(Patrol)
    clause = access.visible_clause(session, principal)
    if clause is not None:
        query = query.where(clause)
    if day is not None:
        lo, hi = builder.day_bounds(day)
        query = query.where(col(Patrol.shift_start) >= lo, col(Patrol.shift_start) < hi)
    if status:
        query = query.where(col(Patrol.status) == status)
    return list(session.scalars(query.order_by(col(Patrol.shift_start), col(Patrol.id)).limit(limit).offset(offset)))


def to_out(session: Session, principal: Principal, patrols: list[Patrol]) -> list[PatrolOut]:
    """Patrols with crews (names only where the caller may read the volunteer) and open places."""
    tree = risk.zone_tree(session)
    ids = [p.id for p in patrols]
    crews: dict[int, list[tuple[Assignment, Volunteer]]] = {}
    for a, v in session.execute(select(Assignment, Volunteer)
                                .join(Volunteer, col(Volunteer.id) == Assignment.volunteer_id)
                                .where(col(Assignment.patrol_id).in_(ids or [-1])).order_by(col(Assignment.id))):
        crews.setdefault(a.patrol_id, []).append((a, v))
    gaps: dict[int, dict[str | None, str]] = {}
    for g in session.scalars(select(UnfilledSlot).where(col(UnfilledSlot.patrol_id).in_(ids or [-1]))
                             .order_by(col(UnfilledSlot.id))):
        gaps.setdefault(g.patrol_id, {})[g.skill] = g.reason
    readable = organisation_ids(session, principal, "volunteer.read") if principal.can("volunteer.read") else set()
    return organisation_names.fill_patrols(
        session, [_patrol_out(tree, p, crews.get(saved_id(p), []), gaps.get(saved_id(p), {}), readable, principal)
                  for p in patrols])


def _patrol_out(tree, p: Patrol, crew: list[tuple[Assignment, Volunteer]], gaps: dict[str | None, str],
                readable: set[int] | None, principal: Principal) -> PatrolOut:
    zone = tree.by_id[p.zone_id]
    members = [CrewOut(assignment_id=saved_id(a), volunteer_id=saved_id(v), organisation_id=v.organisation_id,
                       status=a.status,
                       volunteer_name=v.full_name if readable is None or v.organisation_id in readable
                       or v.user_id == principal.user_id else None,
                       reasons=json.loads(a.reasons or "[]"), decline_reason=a.decline_reason,
                       slot_skill=a.slot_skill) for a, v in crew]
    still_open = places.open_from(places.all_places(p), [a.slot_skill for a, _ in crew if a.status in ACTIVE])
    unfilled = coded.encode("reason.plan.not_filled_yet")
    open_places = [OpenPlaceOut(skill=skill, reason=gaps.get(skill) or unfilled) for skill in still_open
                   ] if p.status in ("planned", "staffed") else []
    return PatrolOut(key=f"patrol:{p.id}", patrol_id=p.id, zone_code=zone.code, zone_name_el=zone.name_el,
                     zone_name_en=zone.name_en, risk_category=p.risk_category,
                     colour=CATEGORIES[p.risk_category][2] if p.risk_category in CATEGORIES else None,
                     shift_start=p.shift_start, shift_end=p.shift_end, capability=p.capability,
                     crew_size=p.crew_size, required_skills=p.skills, status=p.status,
                     field_status=p.field_status, executing_organisation_id=p.organisation_id,
                     plan_key=p.plan_key, crew=members,
                     open_places=open_places)


def _load_subject(session: Session, principal: Principal, patrol_id: int) -> subjects.SubjectRef:
    patrol = access.get_visible(session, principal, patrol_id)
    return planning._ref(session, patrol)


def register_subject() -> None:
    """Make patrols a subject of responsibility (called by ``iolaos.wiring.wire``, never at import)."""
    subjects.register("patrol", _load_subject)


__all__ = ["get_visible", "list_visible", "register_subject", "to_out"]
