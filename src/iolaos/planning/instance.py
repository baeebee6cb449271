"""From the database to the optimiser's plain data: required patrols, volunteers, organisations."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from iolaos.config import Settings
from iolaos.kit.ids import saved_id
from iolaos.kit.time import utcnow
from iolaos.organisations.models import Organisation, OrganisationZone
from iolaos.patrols import eligibility, places
from iolaos.patrols.calendar import check_day, day_bounds  # the planner's days are the patrols' local days
from iolaos.patrols.machine import CREW_NOW, HOLDING
from iolaos.patrols.models import Assignment, Patrol
from iolaos.planning import policy
from iolaos.planning.core import Candidate, Instance, Need, Org, Params
from iolaos.risk import service as risk
from iolaos.volunteers.models import Volunteer
from iolaos.zones.models import Zone

ACTIVE = HOLDING
WORKED = ("accepted", "checked_in", "checked_out")
SECTOR_COVERAGE = 0.99
"""A municipality whose sectors cover less than this share of its area is also planned, for the rest of it."""


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
    upgrades: dict[str, Requirement] = field(default_factory=dict)
    """Existing patrols (by need key) raised to what the day's category needs now."""
    surplus: list[tuple[Patrol, bool, str]] = field(default_factory=list)
    """Patrols the day's map no longer needs: (patrol, staffed, reason); unstaffed ones are cancelled."""
    recategorise: dict[int, int] = field(default_factory=dict)
    """Patrol id → the category it now serves (kind and crew already fit)."""


def params_from(settings: Settings) -> Params:
    """Optimiser parameters from the settings (the assignment check's too)."""
    return eligibility.params_from(settings)


def epoch(value: datetime) -> int:
    """Seconds since the epoch."""
    return int(value.timestamp())


def planning_units(session: Session) -> list[int]:
    """Zones patrols are planned for: leaves, and municipalities whose sectors leave part of them uncovered."""
    tree = risk.zone_tree(session)
    parents = [z for z in tree.children if tree.by_id[z].kind == "municipality"]
    extra = []
    if parents:
        areas = dict(session.execute(select(col(Zone.id), col(Zone.geom)).where(
            col(Zone.id).in_(set(parents) | {c for p in parents for c in tree.children[p]}))).all())
        for parent in parents:
            covered = sum(areas[c].area for c in tree.children[parent] if c in areas)
            if parent in areas and covered < SECTOR_COVERAGE * areas[parent].area:
                extra.append(parent)
    return sorted([*tree.leaves(), *extra])


def requirements(session: Session, day: date, zone_ids: set[int] | None, now: datetime | None = None
                 ) -> list[Requirement]:
    """Patrols the day's risk map and the policy require in the planning units given (None: all).

    Shifts that have ended by ``now`` need nobody any more.
    """
    check_day(day)
    now = now or utcnow()
    tree = risk.zone_tree(session)
    categories = risk.effective(session, day)
    policies: dict[int | None, dict] = {}
    out = []
    for zone_id in planning_units(session):
        if (zone_ids is not None and zone_id not in zone_ids) or zone_id not in categories:
            continue
        region = tree.region_of(zone_id)
        region_id = region.id if region else None
        if region_id not in policies:
            policies[region_id] = policy.effective(session, region_id)
        rule = policies[region_id][categories[zone_id]][0]
        for shift in rule.shifts:
            start, end = policy.shift_times(day, shift)
            if end <= now:
                continue
            out += [Requirement(zone_id, start, end, rule, categories[zone_id])] * rule.patrols_per_zone
    return out


def build(session: Session, settings: Settings, day: date, zone_ids: set[int] | None,
          volunteer_orgs: set[int] | None, now: datetime | None = None) -> Built:
    """The instance of ``day`` for these zones, with volunteers of these organisations (None: all).

    Only shifts that have not ended by ``now`` are planned or staffed.
    """
    now = now or utcnow()
    built = Built(instance=Instance((), (), ()))
    reqs = requirements(session, day, zone_ids, now)
    lo, hi = day_bounds(day)
    patrols = _existing_patrols(session, {r.zone_id for r in reqs} | (zone_ids or set()), max(lo, now), hi,
                                zone_ids, lo)
    points = _points(session, {r.zone_id for r in reqs} | {p.zone_id for p in patrols})
    needs = _needs_from(session, built, reqs, patrols, points)
    orgs = _orgs(session, volunteer_orgs)
    candidates = _candidates(session, {o.id for o in orgs}, day, settings, built, now)
    built.instance = Instance(tuple(candidates), tuple(orgs), tuple(needs), params_from(settings))
    built.fingerprint = fingerprint(built.instance)
    return built


def _existing_patrols(session: Session, zones: set[int], ends_after: datetime, hi: datetime,
                      scope: set[int] | None, lo: datetime) -> list[Patrol]:
    """Patrols of the day not yet out whose shift has not ended."""
    query = select(Patrol).where(col(Patrol.status).in_(("planned", "staffed")), col(Patrol.shift_start) >= lo,
                                 col(Patrol.shift_start) < hi, col(Patrol.shift_end) > ends_after)
    if scope is not None:
        query = query.where(col(Patrol.zone_id).in_(zones or {-1}))
    return list(session.scalars(query.order_by(col(Patrol.id))))


def _points(session: Session, zone_ids: set[int]) -> dict[int, tuple[float, float]]:
    """A representative point (inside the polygon) per zone."""
    if not zone_ids:
        return {}
    rows = session.execute(select(col(Zone.id), col(Zone.geom)).where(col(Zone.id).in_(zone_ids)))
    out = {}
    for zone_id, geom in rows:
        point = geom.representative_point()
        out[zone_id] = (point.x, point.y)
    return out


def _fits(patrol: Patrol, req: Requirement) -> bool:
    """The patrol already is what the requirement asks: same kind, enough places, the skills it needs."""
    return (patrol.capability == req.rule.capability and patrol.crew_size >= req.rule.crew_size
            and set(req.rule.required_skills) <= set(patrol.skills))


def _needs_from(session: Session, built: Built, reqs: list[Requirement], patrols: list[Patrol],
                points: dict[int, tuple[float, float]]) -> list[Need]:
    """Match the day's requirements with the patrols already planned.

    A patrol that fits is kept (and carries today's category); one of the same kind is upgraded in place (places
    added, crew kept); one of another kind nobody accepted yet is converted; otherwise a new patrol is planned.
    Patrols left over are surplus: cancelled when nobody accepted them, else kept and reported, never cancelled
    silently. Existing patrols with open places become needs with their places' skills.
    """
    tree = risk.zone_tree(session)
    crews = _crews(session, [saved_id(p) for p in patrols])
    pool: dict[tuple[int, datetime, datetime], list[Patrol]] = {}
    for p in patrols:
        pool.setdefault((p.zone_id, p.shift_start, p.shift_end), []).append(p)
    staffed = {saved_id(p) for p in patrols if any(a[1] in CREW_NOW for a in crews.get(saved_id(p), []))}
    needs, kept = [], []
    counters: dict[tuple[int, datetime], int] = {}
    for req in sorted(reqs, key=lambda r: (tree.by_id[r.zone_id].code, r.start)):
        candidates = pool.get((req.zone_id, req.start, req.end), [])
        chosen = next((p for p in candidates if _fits(p, req)), None) \
            or next((p for p in candidates if p.capability == req.rule.capability), None) \
            or next((p for p in candidates if p.id not in staffed), None)
        if chosen is not None:
            candidates.remove(chosen)
            if not _fits(chosen, req):
                built.upgrades[f"patrol:{chosen.id}"] = req
            elif chosen.risk_category != req.category:
                built.recategorise[saved_id(chosen)] = req.category
            kept.append((chosen, req))
            continue
        n = counters[(req.zone_id, req.start)] = counters.get((req.zone_id, req.start), 0) + 1
        key = f"new:{tree.by_id[req.zone_id].code}:{req.start:%Y%m%dT%H%M}:{n}"
        built.requirements[key] = req
        lon, lat = points[req.zone_id]
        needs.append(Need(key, req.zone_id, lon, lat, epoch(req.start), epoch(req.end), req.rule.capability,
                          req.category, req.rule.places()))
    for left in pool.values():
        for p in left:
            built.surplus.append((p, p.id in staffed, _surplus_reason(p, p.id in staffed)))
    for p, req in kept:
        need = _existing_need(built, p, req, crews.get(saved_id(p), []), points)
        if need is not None:
            needs.append(need)
    return needs


def _surplus_reason(patrol: Patrol, staffed: bool) -> str:
    if staffed:
        return ("the day's risk map no longer needs this patrol; its crew has accepted, so it is kept until a "
                "dispatcher cancels it")
    return "the day's risk map no longer needs this patrol (risk category changed); nobody had accepted it"


def _existing_need(built: Built, patrol: Patrol, req: Requirement, crew: list[tuple[int, str, int, str | None]],
                   points: dict[int, tuple[float, float]]) -> Need | None:
    """An existing patrol's open places as a need (after its upgrade, when one is due)."""
    key = f"patrol:{patrol.id}"
    converting = patrol.capability != req.rule.capability
    holding = [a for a in crew if a[1] in (CREW_NOW if converting else HOLDING)]
    if key in built.upgrades and converting:  # a new kind: the new category's crew, nothing of the old
        skills, size = list(req.rule.required_skills), req.rule.crew_size
        all_places = [*skills, *([None] * size)][:size]
    elif key in built.upgrades:
        skills = places.merged_skills(patrol.skills, list(req.rule.required_skills))
        size = max(req.rule.crew_size, patrol.crew_size)
        all_places = [*skills, *([None] * size)][:size]
    else:
        all_places = places.all_places(patrol)
    open_places = places.open_from(all_places, [a[3] for a in holding])
    if not open_places:
        return None
    built.existing[key] = patrol
    lon, lat = points[patrol.zone_id]
    return Need(key, patrol.zone_id, lon, lat, epoch(patrol.shift_start), epoch(patrol.shift_end),
                req.rule.capability, req.category, tuple(open_places), tuple(a[2] for a in holding),
                frozenset(a[0] for a in crew if a[1] in ("declined", "cancelled") or a in holding))


def _crews(session: Session, patrol_ids: list[int]) -> dict[int, list[tuple[int, str, int, str | None]]]:
    """(volunteer id, status, organisation id, place skill) of everyone ever on these patrols."""
    if not patrol_ids:
        return {}
    rows = session.execute(select(col(Assignment.patrol_id), col(Assignment.volunteer_id), col(Assignment.status),
                                  col(Volunteer.organisation_id), col(Assignment.slot_skill))
                           .join(Volunteer, col(Volunteer.id) == Assignment.volunteer_id)
                           .where(col(Assignment.patrol_id).in_(patrol_ids)).order_by(col(Assignment.id)))
    out: dict[int, list[tuple[int, str, int, str | None]]] = {}
    for patrol_id, volunteer_id, status, org_id, skill in rows:
        out.setdefault(patrol_id, []).append((volunteer_id, status, org_id, skill))
    return out


def _orgs(session: Session, allowed: set[int] | None) -> list[Org]:
    """Active volunteer organisations with their area of operation: region and jurisdiction, and all within."""
    tree = risk.zone_tree(session)
    query = select(Organisation).where(col(Organisation.kind) == "volunteer_org", col(Organisation.active).is_(True))
    if allowed is not None:
        query = query.where(col(Organisation.id).in_(allowed or {-1}))
    orgs = list(session.scalars(query.order_by(col(Organisation.id))))
    jurisdiction: dict[int, set[int]] = {}
    pairs = select(col(OrganisationZone.organisation_id), col(OrganisationZone.zone_id))
    for org_id, zone_id in session.execute(pairs):
        jurisdiction.setdefault(org_id, set()).add(zone_id)
    out = []
    for org in orgs:
        roots = jurisdiction.get(saved_id(org), set()) | ({org.region_id} if org.region_id else set())
        out.append(Org(saved_id(org), frozenset(org.categories), frozenset(tree.below(roots))))
    return out


def _candidates(session: Session, org_ids: set[int], day: date, settings: Settings, built: Built,
                now: datetime | None = None) -> list[Candidate]:
    """Volunteers of these organisations (not marked unavailable) as the optimiser sees them.

    Their commitments are what the assignment check counts (patrols/eligibility.py): proposals and acceptances
    of shifts not yet ended, and patrols actually worked, with their real times.
    """
    if not org_ids:
        return []
    now = now or utcnow()
    lo, hi = day_bounds(day)
    people = list(session.scalars(select(Volunteer).where(col(Volunteer.organisation_id).in_(org_ids),
                                                          col(Volunteer.status) != "unavailable")
                                  .order_by(col(Volunteer.id))))
    ids = [saved_id(v) for v in people]
    built.names = {vid: v.full_name for vid, v in zip(ids, people, strict=True)}
    skills = eligibility.skills_of(session, ids)
    windows = eligibility.windows_of(session, ids, lo, hi)
    commitments = eligibility.commitments(session, ids, lo - timedelta(days=1), hi + timedelta(days=1), now)
    recent = _worked(session, ids, lo - timedelta(days=settings.planning_fairness_days), lo)
    return [Candidate(vid, v.organisation_id, v.home_base.x if v.home_base is not None else None,
                      v.home_base.y if v.home_base is not None else None, skills.get(vid, {}),
                      tuple(windows.get(vid, ())), tuple(sorted(commitments.get(vid, ()))),
                      recent.get(vid, 0.0) / 3600) for vid, v in zip(ids, people, strict=True)]


def _worked(session: Session, ids: list[int], lo: datetime, hi: datetime) -> dict[int, float]:
    """Seconds of patrols accepted or worked in [lo, hi), per volunteer (the fairness look-back)."""
    out: dict[int, float] = {}
    for volunteer_id, start, end in session.execute(
            select(col(Assignment.volunteer_id), col(Patrol.shift_start), col(Patrol.shift_end))
            .join(Patrol, col(Patrol.id) == Assignment.patrol_id)
            .where(col(Assignment.volunteer_id).in_(ids or [-1]), col(Assignment.status).in_(WORKED),
                   col(Patrol.status) != "cancelled", col(Patrol.shift_end) > lo, col(Patrol.shift_start) < hi)):
        out[volunteer_id] = out.get(volunteer_id, 0.0) + (end - start).total_seconds()
    return out


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
