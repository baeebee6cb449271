"""The one assignment check: may this volunteer hold this place of this patrol, now?

The planner, a dispatcher's direct assignment, a leader's accept, a re-plan and check-in all ask it. Its rules
are the optimiser's pure ones (planning/core.py: organisation category and area, distance, the place's skill
valid for the shift, availability, rest and maximum hours) fed with the same data the planner reads, so the two
never disagree. What a volunteer has already committed to counts: every assignment proposed, accepted or
checked in on a shift that has not ended, and every patrol actually worked, with its real check-in and
check-out times.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlmodel import Session, col

from iolaos.config import Settings
from iolaos.errors import Conflict
from iolaos.kit.ids import saved_id
from iolaos.organisations.models import Organisation, OrganisationZone
from iolaos.patrols.calendar import day_bounds
from iolaos.patrols.models import Assignment, Patrol
from iolaos.planning.core import Candidate, Need, Org, Params, problems
from iolaos.planning.rules import RestRules
from iolaos.risk import service as risk
from iolaos.volunteers.models import Availability, Volunteer, VolunteerSkill
from iolaos.zones.models import Zone

Interval = tuple[int, int]
PLANNED_HOLDS = ("proposed", "accepted")


def epoch(value: datetime) -> int:
    """Seconds since the epoch."""
    return int(value.timestamp())


def params_from(settings: Settings) -> Params:
    """Rule parameters from the settings (the optimiser's too)."""
    return Params(rest=RestRules(settings.planning_max_hours_24h, settings.planning_min_rest_hours),
                  max_travel_km=settings.planning_max_travel_km, risk_weights=dict(settings.planning_risk_weights),
                  fairness_weight=settings.planning_fairness_weight, cohesion_km=settings.planning_cohesion_km)


def commitments(session: Session, volunteer_ids: list[int] | None, lo: datetime, hi: datetime, now: datetime,
                *, skip_patrol: int | None = None) -> dict[int, list[Interval]]:
    """Time each volunteer is bound to patrols near [lo, hi) (a day either side, for rest and 24-hour limits).

    Proposals and acceptances count with their shift while it has not ended (an ended one will expire and binds
    nobody); a check-in counts from the earlier of check-in and shift start to the later of shift end and now;
    a checked-out assignment counts with its real check-in and check-out times. A check-in counts until the
    later of shift end and now only while the patrol is active (working overtime).
    """
    query = (select(col(Assignment.volunteer_id), col(Assignment.status), col(Assignment.checked_in_at),
                    col(Assignment.checked_out_at), col(Patrol.shift_start), col(Patrol.shift_end), col(Patrol.status))
             .join(Patrol, col(Patrol.id) == Assignment.patrol_id)
             .where(col(Patrol.status) != "cancelled",
                    or_(col(Assignment.status).in_(("checked_in", "checked_out")),
                        col(Assignment.status).in_(PLANNED_HOLDS) & (col(Patrol.shift_end) > now)),
                    col(Patrol.shift_end) > lo - timedelta(days=1), col(Patrol.shift_start) < hi + timedelta(days=1)))
    if volunteer_ids is not None:
        query = query.where(col(Assignment.volunteer_id).in_(volunteer_ids or [-1]))
    if skip_patrol is not None:
        query = query.where(col(Assignment.patrol_id) != skip_patrol)
    out: dict[int, list[Interval]] = {}
    for volunteer_id, status, checked_in, checked_out, start, end, patrol_status in session.execute(query):
        if status == "checked_out" and checked_in is not None and checked_out is not None:
            interval = (epoch(checked_in), epoch(checked_out))
        elif status == "checked_in" and checked_in is not None:
            # out on an active patrol past its end: still working until checked out
            interval = (epoch(min(checked_in, start)), epoch(max(end, now) if patrol_status == "active" else end))
        else:
            interval = (epoch(start), epoch(end))
        out.setdefault(volunteer_id, []).append(interval)
    return out


def skills_of(session: Session, volunteer_ids: list[int]) -> dict[int, dict[str, int | None]]:
    """skill → end of validity (epoch seconds of the local midnight after ``valid_until``), per volunteer."""
    out: dict[int, dict[str, int | None]] = {}
    rows = session.execute(select(col(VolunteerSkill.volunteer_id), col(VolunteerSkill.skill),
                                  col(VolunteerSkill.valid_until))
                           .where(col(VolunteerSkill.volunteer_id).in_(volunteer_ids or [-1])))
    for volunteer_id, skill, valid_until in rows:
        out.setdefault(volunteer_id, {})[skill] = None if valid_until is None else epoch(day_bounds(valid_until)[1])
    return out


def windows_of(session: Session, volunteer_ids: list[int], lo: datetime, hi: datetime
               ) -> dict[int, list[Interval]]:
    """Availability windows near [lo, hi), per volunteer."""
    out: dict[int, list[Interval]] = {}
    for volunteer_id, start, end in session.execute(
            select(col(Availability.volunteer_id), col(Availability.starts_at), col(Availability.ends_at))
            .where(col(Availability.volunteer_id).in_(volunteer_ids or [-1]),
                   col(Availability.ends_at) > lo - timedelta(days=1),
                   col(Availability.starts_at) < hi + timedelta(days=1))):
        out.setdefault(volunteer_id, []).append((epoch(start), epoch(end)))
    return out


def organisation(session: Session, org_id: int) -> Org | None:
    """The volunteer organisation as the rules see it (None when inactive or not a volunteer organisation)."""
    org = session.get(Organisation, org_id)
    if org is None or not org.active or org.kind != "volunteer_org":
        return None
    tree = risk.zone_tree(session)
    roots = set(session.scalars(select(col(OrganisationZone.zone_id))
                                .where(col(OrganisationZone.organisation_id) == org_id)))
    if org.region_id:
        roots.add(org.region_id)
    return Org(saved_id(org), frozenset(org.categories), frozenset(tree.below(roots)))


def need_of(session: Session, patrol: Patrol) -> Need:
    """The patrol as the rules see it (one open place; the place's skill is passed separately)."""
    point = session.scalars(select(col(Zone.geom)).where(col(Zone.id) == patrol.zone_id)).one().representative_point()
    return Need(f"patrol:{patrol.id}", patrol.zone_id, point.x, point.y, epoch(patrol.shift_start),
                epoch(patrol.shift_end), patrol.capability, patrol.risk_category or 3, (None,),
                excluded=frozenset(excluded(session, saved_id(patrol))))


def excluded(session: Session, patrol_id: int) -> set[int]:
    """Volunteers who declined this patrol or were taken off it: not proposed again by the engine."""
    return set(session.scalars(select(col(Assignment.volunteer_id)).where(
        col(Assignment.patrol_id) == patrol_id, col(Assignment.status).in_(("declined", "cancelled")))))


def problems_for(session: Session, settings: Settings, patrol: Patrol, volunteer: Volunteer, *,
                 slot_skill: str | None, now: datetime, engine_rules: bool = False, from_time: datetime | None = None
                 ) -> list[tuple[str, str]]:
    """Every rule (name, why) the volunteer on this place of this patrol would break now.

    ``engine_rules``: also refuse volunteers who declined or were removed (the engine never proposes them again;
    a leader's accept or a dispatcher's direct assignment may bring them back). ``from_time``: the work starts
    then rather than at the shift's start (a check-in before the shift counts from the check-in).
    """
    found: list[tuple[str, str]] = []
    if patrol.shift_end <= now:
        found.append(("shift_over", "the shift has ended"))
    if volunteer.status == "unavailable":
        found.append(("availability", "marked unavailable"))
    volunteer_id = saved_id(volunteer)
    ids = [volunteer_id]
    bound = commitments(session, ids, patrol.shift_start, patrol.shift_end, now, skip_patrol=saved_id(patrol))
    person = Candidate(volunteer_id, volunteer.organisation_id,
                       volunteer.home_base.x if volunteer.home_base is not None else None,
                       volunteer.home_base.y if volunteer.home_base is not None else None,
                       skills_of(session, ids).get(volunteer_id, {}),
                       tuple(windows_of(session, ids, patrol.shift_start, patrol.shift_end).get(volunteer_id, ())),
                       tuple(bound.get(volunteer_id, ())))
    need = need_of(session, patrol)
    start = min(need.start, epoch(from_time)) if from_time is not None else need.start
    if not engine_rules or start != need.start:
        need = Need(need.key, need.zone_id, need.lon, need.lat, start, need.end, need.capability,
                    need.category, need.slots, excluded=need.excluded if engine_rules else frozenset())
    found += problems(person, organisation(session, volunteer.organisation_id), need, slot_skill,
                      params_from(settings))
    return found


AT_CHECK_IN = ("shift_over", "skill", "rest")
"""What check-in asks again: the person is there, so availability and distance no longer matter, but an expired
skill or a breach of rest (a patrol worked since the acceptance) does."""


def require(session: Session, settings: Settings, patrol: Patrol, volunteer: Volunteer, *, slot_skill: str | None,
            now: datetime, overrides: tuple[str, ...] = (), may_override: tuple[str, ...] = (),
            only: tuple[str, ...] | None = None) -> list[dict[str, str]]:
    """409 ``constraint_violated`` listing every rule broken and not overridden; returns the overridden ones.

    ``overrides`` are rule names a dispatcher asked to override; only those in ``may_override`` can be.
    ``only`` limits the check to these rules.
    """
    found = problems_for(session, settings, patrol, volunteer, slot_skill=slot_skill, now=now,
                         from_time=now if only == AT_CHECK_IN else None)
    if only is not None:
        found = [(rule, text) for rule, text in found if rule in only]
    waived = [{"rule": rule, "problem": text} for rule, text in found if rule in overrides and rule in may_override]
    left = [(rule, text) for rule, text in found if not (rule in overrides and rule in may_override)]
    if left:
        raise Conflict({"message": "the volunteer cannot take this place", "problems": [t for _, t in left],
                        "rules": [r for r, _ in left],
                        "overridable": sorted({r for r, _ in left} & set(may_override))},
                       code="constraint_violated")
    return waived
