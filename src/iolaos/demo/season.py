"""A synthetic fire season (1 May – 31 October) for the demo and the season benchmark.

Day by day: a risk map (each region's category following the season's curve and its own weather, a share of
municipalities with an entry of their own, the rest inheriting the region's), published through the risk
service (audited like any import); then patrols where the coverage policy asks for them, more of them in
well-served municipalities than in others (the skew the equity view is there to show), crews that accept,
decline, check in and out, and positions for a sample of them. Patrols, crews and positions are bulk
inserted (one journal record per day says how many): a season is ~10⁵–10⁶ rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import shapely
from sqlalchemy import Engine, insert, select
from sqlmodel import Session, col

from iolaos.auth.actor import system_actor
from iolaos.config import Settings
from iolaos.db import session_scope
from iolaos.field.models import PositionReport
from iolaos.journal import service as journal
from iolaos.kit.ids import id_column
from iolaos.kit.time import utcnow
from iolaos.organisations.models import Organisation
from iolaos.patrols.models import Assignment, Patrol
from iolaos.planning import policy
from iolaos.risk import importer
from iolaos.risk import service as risk
from iolaos.volunteers.models import Availability, Volunteer
from iolaos.zones.models import Zone

ACTOR = system_actor("demo-season")
DEMO_REGIONS = ("GR-I", "GR-H")  # where the demo's organisations and volunteers are
DEMO_PATROLS_PER_DAY = 220
OWN_ENTRY_SHARE = 0.3  # municipalities with an entry of their own on a day; the rest inherit their region's


def season_days(year: int) -> list[date]:
    """1 May – 31 October of ``year`` (184 days)."""
    first = date(year, 5, 1)
    return [first + timedelta(days=i) for i in range((date(year, 10, 31) - first).days + 1)]


@dataclass
class Counts:
    """What a fill wrote."""

    days: int = 0
    risk_levels: int = 0
    patrols: int = 0
    assignments: int = 0
    positions: int = 0
    availability: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class _World:
    regions: list[int]
    municipalities: dict[int, list[int]]  # region → municipality ids
    capacity: dict[int, float]  # municipality → how well served (0.05 … 1.6)
    volunteers: dict[int, np.ndarray]  # region → volunteer ids
    points: dict[int, tuple[float, float]]
    codes: dict[int, str]


def _world(session: Session, region_codes: set[str] | None, rng: np.random.Generator) -> _World:
    tree = risk.zone_tree(session)
    regions = sorted(z.id for z in tree.by_id.values() if z.kind == "region"
                     and (region_codes is None or z.code in region_codes))
    municipalities = {r: sorted(c for c in tree.children.get(r, []) if tree.by_id[c].kind == "municipality")
                      for r in regions}
    capacity = {m: float(np.clip(rng.lognormal(-0.35, 0.6), 0.05, 1.6)) for ms in municipalities.values() for m in ms}
    volunteers: dict[int, np.ndarray] = {}
    for region_id in regions:
        ids = session.scalars(select(id_column(Volunteer.id))
                              .join(Organisation, col(Organisation.id) == col(Volunteer.organisation_id))
                              .where(col(Organisation.region_id) == region_id)).all()
        volunteers[region_id] = np.array(sorted(ids), dtype=np.int64)
    ids = [m for ms in municipalities.values() for m in ms]
    points = {}
    for zone_id, geom in session.execute(select(col(Zone.id), col(Zone.geom)).where(col(Zone.id).in_(ids or [-1]))):
        point = geom.representative_point()
        points[zone_id] = (point.x, point.y)
    return _World(regions, municipalities, capacity, volunteers, points, {z: tree.by_id[z].code for z in tree.by_id})


def _region_categories(days: list[date], regions: list[int], rng: np.random.Generator) -> np.ndarray:
    """day × region categories: a curve peaking in late July–August, each region's own offset and weather."""
    t = np.linspace(0.0, 1.0, len(days))
    curve = 1.8 + 2.4 * np.exp(-(((t - 0.52) / 0.24) ** 2))
    offset = rng.normal(0.0, 0.35, len(regions))
    weather = np.zeros((len(days), len(regions)))
    for i in range(1, len(days)):  # persistent spells of hot, windy days
        weather[i] = 0.75 * weather[i - 1] + rng.normal(0.0, 0.45, len(regions))
    return np.clip(np.rint(curve[:, None] + offset[None, :] + weather), 1, 5).astype(int)


def _levels(world: _World, day: date, by_region: np.ndarray, rng: np.random.Generator
            ) -> tuple[list[importer.Line], dict[int, int]]:
    lines: list[importer.Line] = []
    effective: dict[int, int] = {}
    for r_index, region_id in enumerate(world.regions):
        category = int(by_region[r_index])
        lines.append(importer.Line(len(lines) + 1, world.codes[region_id], day.isoformat(), category))
        for municipality in world.municipalities[region_id]:
            own = category
            if rng.random() < OWN_ENTRY_SHARE:
                own = int(np.clip(category + rng.choice([-1, 0, 1, 1]), 1, 5))
                lines.append(importer.Line(len(lines) + 1, world.codes[municipality], day.isoformat(), own))
            effective[municipality] = own
    return lines, effective


def _slots(session: Session, world: _World, day: date, effective: dict[int, int]) -> list[tuple[int, int, str]]:
    """(municipality, category, shift) of every patrol the policy asks for on ``day``."""
    out = []
    rules = {r: policy.effective(session, r) for r in world.regions}
    for region_id in world.regions:
        for municipality in world.municipalities[region_id]:
            rule = rules[region_id][effective[municipality]][0]
            out += [(municipality, rule.category, s) for s in rule.shifts for _ in range(rule.patrols_per_zone)]
    return out


def _pick(world: _World, slots: list, per_day: int, rng: np.random.Generator) -> list:
    """``per_day`` of the slots, favouring well-served municipalities (all of them when fewer)."""
    if len(slots) <= per_day:
        return slots
    weight = np.array([world.capacity[m] for m, _, _ in slots])
    chosen = rng.choice(len(slots), size=per_day, replace=False, p=weight / weight.sum())
    return [slots[i] for i in sorted(chosen)]


def fill(engine: Engine, settings: Settings, *, days: list[date], regions: set[str] | None = None,
         patrols_per_day: int = 1000, seed: int = 2026, positions_share: float = 0.1, availability: bool = True,
         progress: Callable[[int], None] | None = None, clock: Callable[[], datetime] = utcnow) -> Counts:
    """Write a synthetic season for these days and regions (None: all); days before the clock's are over
    (completed, checked out), later ones planned (proposed or accepted). ``availability``: also give the
    volunteers availability windows on each day (so that re-planning a past day, as the planner-vs-greedy
    comparison does, has people to place)."""
    rng = np.random.default_rng(seed)
    counts = Counts(days=len(days))
    with session_scope(engine) as session:
        world = _world(session, regions, rng)
    by_region = _region_categories(days, world.regions, rng)
    now = clock()
    for index, day in enumerate(days):
        with session_scope(engine) as session:
            lines, effective = _levels(world, day, by_region[index], rng)
            risk.import_lines(session, actor=ACTOR, lines=lines, source="demo-season")
            counts.risk_levels += len(lines)
            picked = _pick(world, _slots(session, world, day, effective), patrols_per_day, rng)
            made = _patrols(session, world, day, picked, now, rng, positions_share)
            if availability:
                made["availability"] = _availability(session, world, day, rng)
            for key, value in made.items():
                setattr(counts, key, getattr(counts, key) + value)
            journal.record(session, actor=ACTOR, action="demo.season", subject_type="demo", subject_id=str(day),
                           data={"levels": len(lines), **made})
        if progress is not None:
            progress(1)
    return counts


def _patrols(session: Session, world: _World, day: date, picked: list, now: datetime, rng: np.random.Generator,
             positions_share: float) -> dict[str, int]:
    rules = {r: policy.effective(session, r) for r in world.regions}
    region_of = {m: r for r, ms in world.municipalities.items() for m in ms}
    rows: list[dict[str, object]] = []
    crews: list[list[tuple[int, str, datetime, datetime]]] = []
    for municipality, category, shift in picked:
        start, end = policy.shift_times(day, shift)
        rule = rules[region_of[municipality]][category][0]
        over = end <= now
        pool = world.volunteers[region_of[municipality]]
        size = min(rule.crew_size, len(pool))
        drawn: np.ndarray | list[int] = rng.choice(pool, size=size, replace=False) if len(pool) else []
        statuses = [_crew_status(over, rng) for _ in drawn]
        staffed = sum(s in ("accepted", "checked_in", "checked_out") for s in statuses)
        status = ("completed" if over else "staffed" if staffed >= rule.crew_size else "planned")
        rows.append({"zone_id": municipality, "shift_start": start, "shift_end": end, "crew_size": rule.crew_size,
                     "required_skills": ",".join(rule.required_skills), "capability": rule.capability,
                     "risk_category": category, "status": status, "plan_key": f"season:{day.isoformat()}",
                     "created_at": now, "updated_at": now})
        crews.append([(int(v), s, start, end) for v, s in zip(drawn, statuses, strict=True)])
    ids = session.scalars(insert(Patrol).returning(id_column(Patrol.id), sort_by_parameter_order=True), rows).all() \
        if rows else []
    assignments, positions = [], []
    for patrol_id, crew, (municipality, _, _) in zip(ids, crews, picked, strict=True):
        for volunteer_id, status, start, end in crew:
            checked_in = start + timedelta(minutes=int(rng.integers(0, 20))) if status == "checked_out" else None
            checked_out = end - timedelta(minutes=int(rng.integers(0, 30))) if status == "checked_out" else None
            assignments.append({"patrol_id": patrol_id, "volunteer_id": volunteer_id, "status": status,
                                "proposed_by": "engine", "reasons": "[]", "checked_in_at": checked_in,
                                "checked_out_at": checked_out, "created_at": now, "updated_at": now,
                                "decline_reason": "unavailable" if status == "declined" else None})
            if checked_in is not None and checked_out is not None and rng.random() < positions_share:
                positions += _track(patrol_id, volunteer_id, world.points[municipality], checked_in, checked_out,
                                    rng, now)
    if assignments:
        session.execute(insert(Assignment), assignments)
    if positions:
        session.execute(insert(PositionReport), positions)
    return {"patrols": len(rows), "assignments": len(assignments), "positions": len(positions)}


def _availability(session: Session, world: _World, day: date, rng: np.random.Generator) -> int:
    """An 8-hour window (06–14, 10–18 or 14–22 local) for about 60% of the volunteers."""
    rows = []
    for pool in world.volunteers.values():
        for volunteer_id in pool[rng.random(len(pool)) < 0.6]:
            start = policy.shift_times(day, str(rng.choice(["06:00-14:00", "10:00-18:00", "14:00-22:00"])))
            rows.append({"volunteer_id": int(volunteer_id), "starts_at": start[0], "ends_at": start[1]})
    if rows:
        session.execute(insert(Availability), rows)
    return len(rows)


def _crew_status(over: bool, rng: np.random.Generator) -> str:
    roll = rng.random()
    if over:
        return "checked_out" if roll < 0.84 else "declined" if roll < 0.95 else "accepted"  # accepted: a no-show
    return "accepted" if roll < 0.55 else "proposed" if roll < 0.9 else "declined"


def _track(patrol_id: int, volunteer_id: int, centre: tuple[float, float], start: datetime, end: datetime,
           rng: np.random.Generator, now: datetime) -> list[dict]:
    """Four positions of a crew member along a short loop around the zone's point."""
    out = []
    for k in range(4):
        angle = 2 * math.pi * k / 4 + float(rng.random())
        at = start + (end - start) * (k / 3)
        point = shapely.Point(centre[0] + 0.01 * math.cos(angle), centre[1] + 0.01 * math.sin(angle))
        out.append({"patrol_id": patrol_id, "volunteer_id": volunteer_id, "at": at, "received_at": now,
                    "point": point, "accuracy_m": 15.0})
    return out
