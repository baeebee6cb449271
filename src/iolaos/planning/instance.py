"""From the database to the optimiser's plain data: required patrols, volunteers, organisations."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlmodel import Session

from iolaos.config import Settings
from iolaos.organisations.models import Organisation, OrganisationZone
from iolaos.patrols.models import Assignment, Patrol
from iolaos.planning import policy
from iolaos.planning.core import Candidate, Instance, Need, Org, Params
from iolaos.planning.rules import RestRules
from iolaos.risk import service as risk
from iolaos.volunteers.models import Availability, Volunteer, VolunteerSkill
from iolaos.zones.models import Zone

ACTIVE = ("proposed", "accepted", "checked_in")
WORKED = ("accepted", "checked_in", "checked_out")


@dataclass(frozen=True)
class Requirement:
    """A patrol the policy requires, before matching it with existing patrols."""

    zone_id: int
    start: datetime
    end: datetime
    rule: policy.Rule
    category: int


@dataclass
class Built:
    """An instance and what the service needs to turn its result back into rows."""

    instance: Instance
    requirements: dict[str, Requirement] = field(default_factory=dict)  # new patrols by need key
    existing: dict[str, Patrol] = field(default_factory=dict)  # patrols with open places by need key
    names: dict[int, str] = field(default_factory=dict)
    fingerprint: str = ""


def params_from(settings: Settings) -> Params:
    """Optimiser parameters from the settings."""
    return Params(rest=RestRules(settings.planning_max_hours_24h, settings.planning_min_rest_hours),
                  max_travel_km=settings.planning_max_travel_km, risk_weights=dict(settings.planning_risk_weights),
                  fairness_weight=settings.planning_fairness_weight, cohesion_km=settings.planning_cohesion_km)


def epoch(value: datetime) -> int:
    """Seconds since the epoch."""
    return int(value.timestamp())


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def check_day(day: date) -> date:
    """422 for dates outside the years planning makes sense for (2000–2099)."""
    if not FIRST_DAY <= day <= LAST_DAY:
        from iolaos.errors import InvalidInput

        raise InvalidInput(f"date {day.isoformat()} is outside {FIRST_DAY.year}–{LAST_DAY.year}", code="invalid_date")
    return day


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """Local midnight to local midnight of ``day``, in UTC."""
    check_day(day)
    start = datetime.combine(day, time(0), policy.ATHENS)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def requirements(session: Session, day: date, zone_ids: set[int] | None) -> list[Requirement]:
    """Patrols the day's risk map and the policy require in the leaf zones given (None: all)."""
    check_day(day)
    tree = risk.zone_tree(session)
    categories = risk.effective(session, day)
    policies: dict[int | None, dict] = {}
    out = []
    for zone_id in tree.leaves():
        if (zone_ids is not None and zone_id not in zone_ids) or zone_id not in categories:
            continue
        region = tree.region_of(zone_id)
        region_id = region.id if region else None
        if region_id not in policies:
            policies[region_id] = policy.effective(session, region_id)
        rule = policies[region_id][categories[zone_id]][0]
        for shift in rule.shifts:
            start, end = policy.shift_times(day, shift)
            out += [Requirement(zone_id, start, end, rule, categories[zone_id])] * rule.patrols_per_zone
    return out


def build(session: Session, settings: Settings, day: date, zone_ids: set[int] | None,
          volunteer_orgs: set[int] | None) -> Built:
    """The instance of ``day`` for these zones, with volunteers of these organisations (None: all)."""
    built = Built(instance=Instance((), (), ()))
    reqs = requirements(session, day, zone_ids)
    lo, hi = day_bounds(day)
    patrols = _existing_patrols(session, {r.zone_id for r in reqs} | (zone_ids or set()), lo, hi, zone_ids)
    points = _points(session, {r.zone_id for r in reqs} | {p.zone_id for p in patrols})
    needs = _needs_from(session, built, reqs, patrols, points)
    orgs = _orgs(session, volunteer_orgs)
    candidates = _candidates(session, {o.id for o in orgs}, day, settings, built)
    built.instance = Instance(tuple(candidates), tuple(orgs), tuple(needs), params_from(settings))
    built.fingerprint = fingerprint(built.instance)
    return built


def _existing_patrols(session: Session, zones: set[int], lo: datetime, hi: datetime,
                      scope: set[int] | None) -> list[Patrol]:
    query = select(Patrol).where(Patrol.status.in_(("planned", "staffed")), Patrol.shift_start >= lo,
                                 Patrol.shift_start < hi)
    if scope is not None:
        query = query.where(Patrol.zone_id.in_(zones or {-1}))
    return list(session.scalars(query.order_by(Patrol.id)))


def _points(session: Session, zone_ids: set[int]) -> dict[int, tuple[float, float]]:
    """A representative point (inside the polygon) per zone."""
    if not zone_ids:
        return {}
    rows = session.execute(select(Zone.id, Zone.geom).where(Zone.id.in_(zone_ids)))
    out = {}
    for zone_id, geom in rows:
        point = geom.representative_point()
        out[zone_id] = (point.x, point.y)
    return out


def _needs_from(session: Session, built: Built, reqs: list[Requirement], patrols: list[Patrol],
                points: dict[int, tuple[float, float]]) -> list[Need]:
    """Requirements not met by existing patrols become new patrols; existing ones with open places too."""
    tree = risk.zone_tree(session)
    crews = _crews(session, [p.id for p in patrols])
    available = {}
    for p in patrols:
        available.setdefault((p.zone_id, p.shift_start, p.shift_end), []).append(p)
    needs = []
    counters: dict[tuple[int, datetime], int] = {}
    for req in sorted(reqs, key=lambda r: (tree.by_id[r.zone_id].code, r.start)):
        matching = available.get((req.zone_id, req.start, req.end))
        if matching:
            matching.pop(0)
            continue
        n = counters[(req.zone_id, req.start)] = counters.get((req.zone_id, req.start), 0) + 1
        key = f"new:{tree.by_id[req.zone_id].code}:{req.start:%Y%m%dT%H%M}:{n}"
        built.requirements[key] = req
        lon, lat = points[req.zone_id]
        needs.append(Need(key, req.zone_id, lon, lat, epoch(req.start), epoch(req.end), req.rule.capability,
                          req.category, req.rule.places()))
    for p in patrols:
        active = [a for a in crews.get(p.id, []) if a[1] in ACTIVE]
        open_count = p.crew_size - len(active)
        if open_count <= 0:
            continue
        key = f"patrol:{p.id}"
        built.existing[key] = p
        lon, lat = points[p.zone_id]
        needs.append(Need(key, p.zone_id, lon, lat, epoch(p.shift_start), epoch(p.shift_end), p.capability,
                          p.risk_category or 3, _open_places(p, open_count), tuple(a[2] for a in active),
                          frozenset(a[0] for a in crews.get(p.id, []))))
    return needs


def _open_places(patrol: Patrol, open_count: int) -> tuple[str | None, ...]:
    """The open places of a patrol: its required skills first (the crew already there is not re-checked)."""
    places = [*patrol.skills, *([None] * patrol.crew_size)][:patrol.crew_size]
    return tuple(places[patrol.crew_size - open_count:]) if open_count < patrol.crew_size else tuple(places)


def _crews(session: Session, patrol_ids: list[int]) -> dict[int, list[tuple[int, str, int]]]:
    """(volunteer id, status, organisation id) of everyone ever on these patrols."""
    if not patrol_ids:
        return {}
    rows = session.execute(select(Assignment.patrol_id, Assignment.volunteer_id, Assignment.status,
                                  Volunteer.organisation_id).join(Volunteer, Volunteer.id == Assignment.volunteer_id)
                           .where(Assignment.patrol_id.in_(patrol_ids)).order_by(Assignment.id))
    out: dict[int, list[tuple[int, str, int]]] = {}
    for patrol_id, volunteer_id, status, org_id in rows:
        out.setdefault(patrol_id, []).append((volunteer_id, status, org_id))
    return out


def _orgs(session: Session, allowed: set[int] | None) -> list[Org]:
    """Active volunteer organisations with their area of operation: region and jurisdiction, and all within."""
    tree = risk.zone_tree(session)
    query = select(Organisation).where(Organisation.kind == "volunteer_org", Organisation.active.is_(True))
    if allowed is not None:
        query = query.where(Organisation.id.in_(allowed or {-1}))
    orgs = list(session.scalars(query.order_by(Organisation.id)))
    jurisdiction: dict[int, set[int]] = {}
    for org_id, zone_id in session.execute(select(OrganisationZone.organisation_id, OrganisationZone.zone_id)):
        jurisdiction.setdefault(org_id, set()).add(zone_id)
    out = []
    for org in orgs:
        roots = jurisdiction.get(org.id, set()) | ({org.region_id} if org.region_id else set())
        out.append(Org(org.id, frozenset(org.categories), frozenset(tree.below(roots))))
    return out


def _candidates(session: Session, org_ids: set[int], day: date, settings: Settings, built: Built
                ) -> list[Candidate]:
    """Volunteers of these organisations (not marked unavailable) as the optimiser sees them."""
    if not org_ids:
        return []
    lo, hi = day_bounds(day)
    people = list(session.scalars(select(Volunteer).where(Volunteer.organisation_id.in_(org_ids),
                                                          Volunteer.status != "unavailable").order_by(Volunteer.id)))
    ids = [v.id for v in people]
    built.names = {v.id: v.full_name for v in people}
    skills = _skills(session, ids)
    windows = _by_volunteer(session.execute(select(Availability.volunteer_id, Availability.starts_at,
                                                   Availability.ends_at).where(
        Availability.ends_at > lo - timedelta(days=1), Availability.starts_at < hi + timedelta(days=1))))
    commitments = _shifts(session, ACTIVE, lo - timedelta(days=2), hi + timedelta(days=2))
    recent = _shifts(session, WORKED, lo - timedelta(days=settings.planning_fairness_days), lo)
    return [Candidate(v.id, v.organisation_id, v.home_base.x if v.home_base is not None else None,
                      v.home_base.y if v.home_base is not None else None, skills.get(v.id, {}),
                      tuple(windows.get(v.id, ())), tuple(commitments.get(v.id, ())),
                      sum(e - s for s, e in recent.get(v.id, ())) / 3600) for v in people]


def _skills(session: Session, ids: list[int]) -> dict[int, dict[str, int | None]]:
    """skill → end of validity (the local midnight after ``valid_until``), per volunteer."""
    out: dict[int, dict[str, int | None]] = {}
    for volunteer_id, skill, valid_until in session.execute(select(
            VolunteerSkill.volunteer_id, VolunteerSkill.skill, VolunteerSkill.valid_until)):
        if valid_until is None:
            out.setdefault(volunteer_id, {})[skill] = None
        else:
            out.setdefault(volunteer_id, {})[skill] = epoch(day_bounds(valid_until)[1])
    return out


def _by_volunteer(rows) -> dict[int, list[tuple[int, int]]]:
    out: dict[int, list[tuple[int, int]]] = {}
    for volunteer_id, start, end in rows:
        out.setdefault(volunteer_id, []).append((epoch(start), epoch(end)))
    return out


def _shifts(session: Session, statuses: tuple[str, ...], lo: datetime, hi: datetime) -> dict[int, list]:
    """Shifts of patrols (not cancelled) overlapping [lo, hi) that volunteers hold in these statuses."""
    return _by_volunteer(session.execute(
        select(Assignment.volunteer_id, Patrol.shift_start, Patrol.shift_end)
        .join(Patrol, Patrol.id == Assignment.patrol_id)
        .where(Assignment.status.in_(statuses), Patrol.status != "cancelled", Patrol.shift_end > lo,
               Patrol.shift_start < hi)))


def fingerprint(instance: Instance) -> str:
    """A digest of everything the optimiser reads: equal digests give equal plans."""
    def plain(value):
        if isinstance(value, frozenset | set):
            return sorted(value)
        if isinstance(value, dict):
            return sorted(value.items())
        return value

    data = [[[plain(getattr(c, f)) for f in c.__dataclass_fields__] for c in part]
            for part in (instance.candidates, instance.orgs, instance.needs)]
    data.append([plain(getattr(instance.params, f)) for f in ("max_travel_km", "fairness_weight", "cohesion_km")])
    text = json.dumps(data, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
