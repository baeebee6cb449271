"""A patrol's crew places: each keeps its skill through proposals, declines, removals and re-plans."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from iolaos.config import Settings
from iolaos.kit.ids import saved_id
from iolaos.patrols import eligibility
from iolaos.patrols.machine import HOLDING
from iolaos.patrols.models import Assignment, Patrol
from iolaos.planning.core import Candidate, skill_valid
from iolaos.volunteers.models import Volunteer


def all_places(patrol: Patrol) -> list[str | None]:
    """One entry per crew place: the skill it needs (required skills first) or None."""
    return [*patrol.skills, *([None] * patrol.crew_size)][:patrol.crew_size]


def merged_skills(kept: list[str], needed: list[str]) -> list[str]:
    """Skills a patrol keeps and the new category needs, each as often as either asks (an upgrade never drops a
    skilled place someone may hold)."""
    counts = Counter(kept) | Counter(needed)
    order = [*needed, *kept]
    out: list[str] = []
    for skill in order:
        if out.count(skill) < counts[skill]:
            out.append(skill)
    return out


def open_places(session: Session, patrol: Patrol) -> list[str | None]:
    """The places no proposed, accepted or checked-in crew member holds, with their skills."""
    held = list(session.scalars(select(col(Assignment.slot_skill)).where(col(Assignment.patrol_id) == patrol.id,
                                                                    col(Assignment.status).in_(HOLDING))))
    return open_from(all_places(patrol), held)


def open_from(places: list[str | None], held: list[str | None]) -> list[str | None]:
    """Places minus the held ones (a holder without a recorded place takes an unskilled one first)."""
    left = Counter(places)
    unknown = 0
    for skill in held:
        if left[skill] > 0:
            left[skill] -= 1
        else:
            unknown += 1
    out: list[str | None] = []
    for skill in places:
        if left[skill] > 0:
            out.append(skill)
            left[skill] -= 1
    while unknown and out:
        out.remove(None if None in out else out[0])
        unknown -= 1
    return out


def best_place(session: Session, open_list: list[str | None], volunteer: Volunteer, patrol: Patrol) -> str | None:
    """The open place a volunteer should take: a skilled one they hold the skill for, else an unskilled one."""
    volunteer_id = saved_id(volunteer)
    held = eligibility.skills_of(session, [volunteer_id]).get(volunteer_id, {})
    person = Candidate(volunteer_id, volunteer.organisation_id, None, None, held, ())
    until = eligibility.epoch(patrol.shift_end)
    for skill in open_list:
        if skill is not None and skill_valid(person, skill, until):
            return skill
    if None in open_list:
        return None
    return open_list[0]


def start_problems(session: Session, patrol: Patrol, settings: Settings, now: datetime) -> list[tuple[str, str]]:
    """Why the crew checked in now cannot take the patrol out: too few, or a required skill missing."""
    checked_in = list(session.scalars(select(col(Assignment.volunteer_id)).where(col(Assignment.patrol_id) == patrol.id,
                                                                            col(Assignment.status) == "checked_in")))
    found = []
    minimum = min(patrol.crew_size, settings.patrol_min_crew)
    if len(checked_in) < minimum:
        found.append(("minimum_crew", f"{len(checked_in)} of the {minimum} crew needed are checked in"))
    skills = eligibility.skills_of(session, checked_in)
    until = eligibility.epoch(patrol.shift_end)
    for skill in sorted(set(patrol.skills)):
        holders = [v for v in checked_in
                   if skill_valid(Candidate(v, 0, None, None, skills.get(v, {}), ()), skill, until)]
        if not holders:
            found.append(("required_skills", f"no checked-in crew member holds a valid {skill}"))
    return found
