"""Random but plausible planning instances, for the benchmark and the tests (no database)."""

from __future__ import annotations

import numpy as np

from iolaos.planning.core import FIREFIGHTING, PREVENTION, Candidate, Instance, Need, Org, Params
from iolaos.planning.rules import HOUR

SKILLS = ("first_aid", "driver_4x4", "wildfire_basic", "radio", "chainsaw", "navigation", "drone", "water_tender")
SKILL_SHARE = (0.35, 0.35, 0.4, 0.3, 0.15, 0.3, 0.1, 0.1)
DAY0 = 1_784_000_000 - 1_784_000_000 % (24 * HOUR)  # a midnight UTC in July 2026
SHIFTS = [(h, h + 4) for h in (4, 8, 12, 16, 20, 24)]  # 4-hour shifts round the clock (UTC hours)
WINDOWS = [(4, 12), (6, 14), (8, 16), (12, 20), (16, 24), (20, 28), (0, 24)]
POLICY = {  # category → (crew skills, capability)
    3: (("driver_4x4", None), PREVENTION),
    4: (("driver_4x4", "first_aid", None), PREVENTION),
    5: (("driver_4x4", "first_aid", "wildfire_basic", "wildfire_basic"), FIREFIGHTING),
}


def instance(volunteers: int, patrols: int, *, seed: int = 1, box: tuple[float, float, float, float] = (
        21.0, 37.0, 24.5, 40.0), regions: int = 4, zones: int | None = None, per_org: int = 30,
             params: Params | None = None) -> Instance:
    """An instance with ``volunteers`` spread around their organisations and ``patrols`` open patrols."""
    rng = np.random.default_rng(seed)
    zone_count = zones or max(1, patrols // 3)
    zone_xy = _points(rng, zone_count, box)
    region_of_zone = _region(zone_xy, box, regions)
    orgs, org_xy = _orgs(rng, max(1, volunteers // per_org), box, regions, region_of_zone)
    candidates = _candidates(rng, volunteers, orgs, org_xy)
    needs = _needs(rng, patrols, zone_xy)
    return Instance(candidates=tuple(candidates), orgs=tuple(orgs), needs=tuple(needs), params=params or Params())


def _points(rng: np.random.Generator, n: int, box: tuple[float, float, float, float]) -> np.ndarray:
    return np.column_stack([rng.uniform(box[0], box[2], n), rng.uniform(box[1], box[3], n)])


def _region(xy: np.ndarray, box: tuple[float, float, float, float], regions: int) -> np.ndarray:
    """A region number per point: vertical bands of the box."""
    band = (xy[:, 0] - box[0]) / (box[2] - box[0]) * regions
    return np.clip(band.astype(int), 0, regions - 1)


def _orgs(rng: np.random.Generator, n: int, box: tuple[float, float, float, float], regions: int,
          region_of_zone: np.ndarray) -> tuple[list[Org], np.ndarray]:
    xy = _points(rng, n, box)
    region = _region(xy, box, regions)
    zones_in = {r: frozenset(np.nonzero(region_of_zone == r)[0].tolist()) for r in range(regions)}
    orgs = []
    for i in range(n):
        cats = frozenset({"FPA", "FFA"}) if rng.random() < 0.6 else frozenset({"FPA"})
        orgs.append(Org(id=i + 1, categories=cats, area=zones_in[int(region[i])]))
    return orgs, xy


def _candidates(rng: np.random.Generator, n: int, orgs: list[Org], org_xy: np.ndarray) -> list[Candidate]:
    org_of = rng.integers(0, len(orgs), n)
    spread = rng.normal(0, 0.12, (n, 2))
    out = []
    for i in range(n):
        lon, lat = org_xy[org_of[i]] + spread[i]
        skills = {s: _expiry(rng) for s, share in zip(SKILLS, SKILL_SHARE, strict=True) if rng.random() < share}
        windows = tuple((DAY0 + a * HOUR, DAY0 + b * HOUR)
                        for a, b in (WINDOWS[k] for k in sorted(set(rng.integers(0, len(WINDOWS), 2).tolist())))
                        if rng.random() < 0.8)
        commitments = ((DAY0 + 8 * HOUR, DAY0 + 12 * HOUR),) if rng.random() < 0.05 else ()
        out.append(Candidate(id=i + 1, org_id=orgs[org_of[i]].id, lon=float(lon), lat=float(lat), skills=skills,
                             windows=windows, commitments=commitments,
                             recent_hours=float(rng.choice([0, 0, 4, 8, 12, 16, 24]))))
    return out


def _expiry(rng: np.random.Generator) -> int | None:
    roll = rng.random()
    if roll < 0.3:
        return None
    return DAY0 + int(rng.integers(-60, 400)) * 24 * HOUR


def _needs(rng: np.random.Generator, n: int, zone_xy: np.ndarray) -> list[Need]:
    out = []
    for i in range(n):
        zone = int(rng.integers(0, len(zone_xy)))
        category = int(rng.choice([3, 4, 4, 5]))
        slots, capability = POLICY[category]
        start, end = SHIFTS[int(rng.integers(0, len(SHIFTS)))]
        out.append(Need(key=f"p{i}", zone_id=zone, lon=float(zone_xy[zone, 0]), lat=float(zone_xy[zone, 1]),
                        start=DAY0 + start * HOUR, end=DAY0 + end * HOUR, capability=capability,
                        category=category, slots=slots))
    return out
