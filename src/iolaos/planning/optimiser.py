"""The optimiser: volunteers to crew places, maximising risk-weighted coverage first.

Model (docs/planning.md): every open crew place of a patrol belongs to a *group* (the patrol and the
skill the place needs). A volunteer may fill a place when every hard constraint holds
(``core.violations``). Each *round* solves a min-cost flow (OR-Tools) source → volunteer (capacity 1)
→ group (capacity = open places) → sink, with arc cost ``-BIG·risk_weight + secondary`` where
``BIG`` exceeds any possible sum of secondary costs, so coverage is maximised exactly before travel,
fairness and crew cohesion are traded. Further rounds give volunteers a second compatible shift
only when places are still open. Crew cohesion (a pairwise preference) is handled by re-solving with
each patrol *anchored* to its crew's main organisation and keeping the best plan by the true objective.
Everything is deterministic for a given instance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from time import perf_counter

import numpy as np
from ortools.graph.python import min_cost_flow

from iolaos.planning import diagnose
from iolaos.planning.core import (
    NEEDED_CATEGORY,
    Instance,
    Objective,
    Placement,
    Result,
    evaluate,
    main_org,
)
from iolaos.planning.rules import HOUR, Interval, haversine_km_many, merge_windows, rest_ok

SCALE = 100  # integer costs in units of 10 m (km-equivalent × 100)
KM_PER_DEG_LAT = 111.2
PRUNE_K = 30  # cheapest arcs kept per open place in the first solve of a round; widened when it may matter


@dataclass
class Prepared:
    """An instance turned into arrays, with the static masks the rounds reuse."""

    instance: Instance
    lon: np.ndarray
    lat: np.ndarray
    org_idx: np.ndarray
    recent: np.ndarray
    org_ids: list[int]
    shifts: list[Interval]
    need_shift: np.ndarray
    avail: np.ndarray  # shift × volunteer
    compat: np.ndarray  # shift × volunteer (existing commitments only)
    zone_orgs: dict[int, np.ndarray]
    org_cat: dict[str, np.ndarray]
    by_lat: np.ndarray
    sorted_lat: np.ndarray
    groups: list[tuple[int, str | None, list[int]]] = field(default_factory=list)
    group_need: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    shift_hours: np.ndarray = field(default_factory=lambda: np.empty(0))
    expiry: dict[str, np.ndarray] = field(default_factory=dict)

    def skill_expiry(self, skill: str) -> np.ndarray:
        """End of validity of ``skill`` per volunteer (+inf: never expires, -inf: not held)."""
        if skill not in self.expiry:
            values = np.full(len(self.lon), -np.inf)
            for i, c in enumerate(self.instance.candidates):
                if skill in c.skills:
                    until = c.skills[skill]
                    values[i] = np.inf if until is None else float(until)
            self.expiry[skill] = values
        return self.expiry[skill]

    def org_allowed(self, need_idx: int) -> np.ndarray:
        """Per volunteer: the organisation may send them to this patrol (area and action category)."""
        need = self.instance.needs[need_idx]
        allowed = np.zeros(len(self.org_ids) + 1, dtype=bool)
        allowed[self.zone_orgs.get(need.zone_id, np.empty(0, dtype=np.int64))] = True
        allowed[:-1] &= self.org_cat[NEEDED_CATEGORY.get(need.capability, "FPA")]
        return allowed[self.org_idx]


@dataclass
class Arcs:
    """Static eligible (volunteer, group) pairs with their travel distances."""

    vol: np.ndarray
    grp: np.ndarray
    km: np.ndarray


def prepare(instance: Instance) -> Prepared:
    """Arrays and masks of an instance."""
    cands = instance.candidates
    org_ids = [o.id for o in instance.orgs]
    org_pos = {oid: i for i, oid in enumerate(org_ids)}
    lon = np.array([np.nan if c.lon is None else c.lon for c in cands], dtype=float)
    lat = np.array([np.nan if c.lat is None else c.lat for c in cands], dtype=float)
    shifts = sorted({n.shift for n in instance.needs})
    shift_pos = {s: i for i, s in enumerate(shifts)}
    zone_orgs: dict[int, list[int]] = {}
    for i, org in enumerate(instance.orgs):
        for zone in org.area:
            zone_orgs.setdefault(zone, []).append(i)
    by_lat = np.argsort(lat, kind="stable")
    prep = Prepared(
        instance=instance, lon=lon, lat=lat,
        org_idx=np.array([org_pos.get(c.org_id, len(org_ids)) for c in cands], dtype=np.int64),
        recent=np.array([c.recent_hours for c in cands], dtype=float), org_ids=org_ids, shifts=shifts,
        need_shift=np.array([shift_pos[n.shift] for n in instance.needs], dtype=np.int64),
        avail=_availability(instance, shifts), compat=_compatibility(instance, shifts),
        zone_orgs={z: np.array(v, dtype=np.int64) for z, v in zone_orgs.items()},
        org_cat={cat: np.array([cat in o.categories for o in instance.orgs], dtype=bool) for cat in ("FPA", "FFA")},
        by_lat=by_lat, sorted_lat=lat[by_lat],
    )
    prep.groups = _groups(instance)
    prep.group_need = np.array([n for n, _, _ in prep.groups], dtype=np.int64)
    prep.shift_hours = np.array([(e - s) / HOUR for s, e in shifts])
    return prep


def _availability(instance: Instance, shifts: list[Interval]) -> np.ndarray:
    """shift × volunteer: one merged availability window holds the whole shift."""
    owner, starts, ends = [], [], []
    for i, c in enumerate(instance.candidates):
        for s, e in merge_windows(c.windows):
            owner.append(i)
            starts.append(s)
            ends.append(e)
    owner_a, starts_a, ends_a = np.array(owner, dtype=np.int64), np.array(starts), np.array(ends)
    out = np.zeros((len(shifts), len(instance.candidates)), dtype=bool)
    for k, (s, e) in enumerate(shifts):
        if len(owner_a):
            out[k, owner_a[(starts_a <= s) & (ends_a >= e)]] = True
    return out


def _compatibility(instance: Instance, shifts: list[Interval]) -> np.ndarray:
    """shift × volunteer: taking the shift keeps the rules given the volunteer's existing patrols."""
    out = np.ones((len(shifts), len(instance.candidates)), dtype=bool)
    rules = instance.params.rest
    for i, c in enumerate(instance.candidates):
        if c.commitments:
            for k, shift in enumerate(shifts):
                out[k, i] = rest_ok([*c.commitments, shift], rules)
    return out


def _groups(instance: Instance) -> list[tuple[int, str | None, list[int]]]:
    """(need index, skill, slot indices) for every distinct skill of every patrol, in order."""
    groups = []
    for n_idx, need in enumerate(instance.needs):
        by_skill: dict[str | None, list[int]] = {}
        for slot, skill in enumerate(need.slots):
            by_skill.setdefault(skill, []).append(slot)
        groups += [(n_idx, skill, slots) for skill, slots in by_skill.items()]
    return groups


def near(prep: Prepared, need_idx: int) -> tuple[np.ndarray, np.ndarray]:
    """Volunteers within the travel limit of a patrol's zone, and their distances (km)."""
    need = prep.instance.needs[need_idx]
    limit = prep.instance.params.max_travel_km
    dlat = limit / KM_PER_DEG_LAT
    lo, hi = np.searchsorted(prep.sorted_lat, [need.lat - dlat, need.lat + dlat], side="left")
    idx = prep.by_lat[lo:hi]
    cos = max(math.cos(math.radians(min(abs(need.lat) + dlat, 89.0))), 1e-6)
    idx = idx[np.abs(prep.lon[idx] - need.lon) <= dlat / cos]
    km = haversine_km_many(prep.lon[idx], prep.lat[idx], need.lon, need.lat)
    keep = km <= limit
    order = np.argsort(idx[keep], kind="stable")
    return idx[keep][order], km[keep][order]


def static_arcs(prep: Prepared) -> Arcs:
    """Every (volunteer, group) pair allowed by the hard constraints, before this plan's own shifts."""
    vols, grps, kms = [], [], []
    groups_of: dict[int, list[int]] = {}
    for g, (n_idx, _, _) in enumerate(prep.groups):
        groups_of.setdefault(n_idx, []).append(g)
    ids = np.array([c.id for c in prep.instance.candidates], dtype=np.int64)
    for n_idx, need in enumerate(prep.instance.needs):
        idx, km = near(prep, n_idx)
        shift = prep.need_shift[n_idx]
        ok = prep.avail[shift, idx] & prep.compat[shift, idx] & prep.org_allowed(n_idx)[idx]
        if need.excluded:
            ok &= ~np.isin(ids[idx], np.fromiter(need.excluded, dtype=np.int64))
        idx, km = idx[ok], km[ok]
        for g in groups_of.get(n_idx, []):
            skill = prep.groups[g][1]
            keep = prep.skill_expiry(skill)[idx] >= need.end if skill else np.ones(len(idx), dtype=bool)
            vols.append(idx[keep])
            kms.append(km[keep])
            grps.append(np.full(int(keep.sum()), g, dtype=np.int64))
    def cat(parts, dt):
        return (np.concatenate(parts).astype(dt) if parts else np.empty(0, dtype=dt))
    return Arcs(vol=cat(vols, np.int64), grp=cat(grps, np.int64), km=cat(kms, float))


@dataclass
class Plan:
    """Chosen arcs of one solve sequence (all rounds)."""

    chosen: list[tuple[int, int, float]]  # (volunteer index, group index, km)


def _round_arcs(prep: Prepared, arcs: Arcs, remaining: np.ndarray, taken: dict[int, list[Interval]],
                cache: dict[tuple[int, int, int], bool]) -> np.ndarray:
    """Indices of static arcs usable in this round: open group, and rules kept with this plan's shifts."""
    usable = remaining[arcs.grp] > 0
    if taken:
        busy = np.fromiter(taken, dtype=np.int64)
        for a in np.nonzero(usable & np.isin(arcs.vol, busy))[0]:
            v, g = int(arcs.vol[a]), int(arcs.grp[a])
            shift_k = int(prep.need_shift[prep.groups[g][0]])
            key = (v, shift_k, len(taken[v]))  # a volunteer's shifts only grow: the count identifies them
            if key not in cache:
                c = prep.instance.candidates[v]
                cache[key] = rest_ok([*c.commitments, *taken[v], prep.shifts[shift_k]], prep.instance.params.rest)
            usable[a] = cache[key]
    return np.nonzero(usable)[0]


def _costs(prep: Prepared, arcs: Arcs, sel: np.ndarray, in_plan_hours: np.ndarray, anchors: np.ndarray
           ) -> np.ndarray:
    """Secondary cost per selected arc in integer units: travel + marginal fairness + cohesion."""
    params = prep.instance.params
    vol, grp = arcs.vol[sel], arcs.grp[sel]
    need_idx = prep.group_need[grp]
    hours = prep.shift_hours[prep.need_shift[need_idx]]
    before = prep.recent[vol] + in_plan_hours[vol]
    fairness = params.fairness_weight * ((before + hours) ** 2 - before ** 2)
    anchor = anchors[need_idx]
    vol_org = np.array([*prep.org_ids, -1], dtype=np.int64)[prep.org_idx[vol]]
    cohesion = np.where((anchor >= 0) & (vol_org != anchor), params.cohesion_km, 0.0)
    return np.rint((arcs.km[sel] + fairness + cohesion) * SCALE).astype(np.int64)


def _solve_round(prep: Prepared, arcs: Arcs, sel: np.ndarray, remaining: np.ndarray, secondary: np.ndarray
                 ) -> np.ndarray:
    """One min-cost flow; returns the selected arc indices that carry flow."""
    params = prep.instance.params
    vol_u, vol_node = np.unique(arcs.vol[sel], return_inverse=True)
    grp_u, grp_node = np.unique(arcs.grp[sel], return_inverse=True)
    weights = np.array([params.weight(prep.instance.needs[prep.groups[g][0]].category) for g in grp_u])
    cap = remaining[grp_u]
    big = int(secondary.max(initial=0)) * int(cap.sum()) + 1
    src, sink, v0 = 0, 1, 2
    g0 = v0 + len(vol_u)
    flow = int(min(len(vol_u), cap.sum()))
    starts = np.concatenate([np.zeros(len(vol_u)), v0 + vol_node, g0 + np.arange(len(grp_u)), [src]])
    ends = np.concatenate([v0 + np.arange(len(vol_u)), g0 + grp_node, np.full(len(grp_u), sink), [sink]])
    caps = np.concatenate([np.ones(len(vol_u)), np.ones(len(sel)), cap, [flow]])
    costs = np.concatenate([np.zeros(len(vol_u)), secondary - big * weights[grp_node], np.zeros(len(grp_u)), [0]])
    smcf = min_cost_flow.SimpleMinCostFlow()
    all_arcs = smcf.add_arcs_with_capacity_and_unit_cost(
        starts.astype(np.int32), ends.astype(np.int32), caps.astype(np.int64), costs.astype(np.int64))
    smcf.set_node_supply(src, flow)
    smcf.set_node_supply(sink, -flow)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    carried = smcf.flows(all_arcs[len(vol_u):len(vol_u) + len(sel)])
    return sel[carried > 0]


def _cheapest(grp: np.ndarray, cost: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """Positions of the ``limit[g]`` cheapest arcs of each group g (ties: original order), in order."""
    order = np.lexsort((cost, grp))
    ordered = grp[order]
    first = np.searchsorted(ordered, ordered, side="left")
    rank = np.arange(len(order)) - first
    return np.sort(order[rank < limit[ordered]])


def _solve_pruned(prep: Prepared, arcs: Arcs, sel: np.ndarray, remaining: np.ndarray, secondary: np.ndarray,
                  stats: dict[str, float]) -> np.ndarray:
    """Solve on the cheapest arcs per place first; widen while an open place had arcs left out."""
    k = PRUNE_K
    grp = arcs.grp[sel]
    offered = np.bincount(grp, minlength=len(remaining))
    while True:
        keep = _cheapest(grp, secondary, k * remaining)
        picked = _solve_round(prep, arcs, sel[keep], remaining, secondary[keep])
        if len(keep) == len(sel):
            return picked
        still_open = remaining - np.bincount(arcs.grp[picked], minlength=len(remaining)) > 0
        if not (still_open & (offered > k * remaining)).any():
            return picked
        stats["widened"] = stats.get("widened", 0) + 1
        k *= 4


def _run_rounds(prep: Prepared, arcs: Arcs, anchors: np.ndarray, stats: dict[str, float]) -> Plan:
    """Rounds of flow until no open place can be filled."""
    remaining = np.array([len(slots) for _, _, slots in prep.groups], dtype=np.int64)
    in_plan_hours = np.zeros(len(prep.lon))
    taken: dict[int, list[Interval]] = {}
    cache: dict[tuple[int, int, int], bool] = {}
    chosen: list[tuple[int, int, float]] = []
    for _ in range(max(1, len(prep.shifts))):
        sel = _round_arcs(prep, arcs, remaining, taken, cache)
        if len(sel) == 0:
            break
        started = perf_counter()
        picked = _solve_pruned(prep, arcs, sel, remaining, _costs(prep, arcs, sel, in_plan_hours, anchors), stats)
        stats["flow_seconds"] = stats.get("flow_seconds", 0.0) + perf_counter() - started
        stats["rounds"] = stats.get("rounds", 0) + 1
        if len(picked) == 0:
            break
        for a in picked:
            v, g = int(arcs.vol[a]), int(arcs.grp[a])
            shift = prep.shifts[int(prep.need_shift[prep.groups[g][0]])]
            remaining[g] -= 1
            in_plan_hours[v] += (shift[1] - shift[0]) / HOUR
            taken.setdefault(v, []).append(shift)
            chosen.append((v, g, float(arcs.km[a])))
    return Plan(chosen=chosen)


def _placements(prep: Prepared, plan: Plan) -> list[Placement]:
    """Chosen arcs as placements: places of a group go to its volunteers in id order."""
    by_group: dict[int, list[tuple[int, float]]] = {}
    for v, g, km in plan.chosen:
        by_group.setdefault(g, []).append((prep.instance.candidates[v].id, km))
    out = []
    for g, members in sorted(by_group.items()):
        n_idx, _, slots = prep.groups[g]
        key = prep.instance.needs[n_idx].key
        out += [Placement(key, slot, vid, km) for slot, (vid, km) in zip(slots, sorted(members), strict=False)]
    return out


def _anchors(prep: Prepared, placements: list[Placement]) -> np.ndarray:
    """Each patrol's main organisation given these placements (existing crew included); -1 when none."""
    orgs_of = {c.id: c.org_id for c in prep.instance.candidates}
    crews: dict[str, list[int]] = {n.key: list(n.crew_orgs) for n in prep.instance.needs}
    for p in placements:
        crews[p.need_key].append(orgs_of[p.volunteer_id])
    found = [main_org(crews[n.key]) for n in prep.instance.needs]
    return np.array([-1 if o is None else o for o in found], dtype=np.int64)


def _refine(prep: Prepared, arcs: Arcs, plan: Plan, limit: int, seconds: float, stats: dict[str, float]) -> Plan:
    """Re-solve every component of at most ``limit`` arcs exactly (CP-SAT), warm-started from ``plan``."""
    from iolaos.planning import cpsat

    chosen = {(v, g) for v, g, _ in plan.chosen}
    result = list(plan.chosen)
    budget = cpsat.TOTAL_ARCS
    for comp in cpsat.components(len(prep.lon), prep.group_need, arcs.vol, arcs.grp):
        if len(comp) > limit or len(comp) > budget:
            stats["components_flow_only"] = stats.get("components_flow_only", 0) + 1
            continue
        budget -= len(comp)
        hint = {i for i, a in enumerate(comp.tolist()) if (int(arcs.vol[a]), int(arcs.grp[a])) in chosen}
        picked = cpsat.Component(prep, arcs, comp).solve(hint, seconds)
        stats["components_exact"] = stats.get("components_exact", 0) + 1
        if picked is None:
            continue
        needs = set(prep.group_need[arcs.grp[comp]].tolist())
        result = [c for c in result if int(prep.group_need[c[1]]) not in needs]
        result += [(int(arcs.vol[comp[i]]), int(arcs.grp[comp[i]]), float(arcs.km[comp[i]])) for i in picked]
    return Plan(chosen=result)


def assign(instance: Instance, *, cohesion_passes: int = 3, exact_arcs: int | None = None,
           exact_seconds: float = 0.5) -> Result:
    """Place volunteers in the open crew places of ``instance``; deterministic for a given instance.

    ``exact_arcs``: components up to this many eligible pairs are re-solved exactly with CP-SAT
    (default ``cpsat.MAX_ARCS``; 0 keeps the flow solution).
    """
    from iolaos.planning import cpsat

    started = perf_counter()
    stats: dict[str, float] = {}
    prep = prepare(instance)
    arcs = static_arcs(prep)
    stats["arcs"] = len(arcs.vol)
    stats["prepare_seconds"] = perf_counter() - started
    anchors = _anchors(prep, [])
    best: tuple[Plan, Objective] | None = None
    for _ in range(max(1, cohesion_passes)):
        plan = _run_rounds(prep, arcs, anchors, stats)
        placements = _placements(prep, plan)
        objective = evaluate(instance, placements)
        if best is None or objective.better_than(best[1]):
            best = (plan, objective)
        stats["passes"] = stats.get("passes", 0) + 1
        new_anchors = _anchors(prep, placements)
        if np.array_equal(new_anchors, anchors):
            break
        anchors = new_anchors
    assert best is not None
    plan, objective = best
    limit = cpsat.MAX_ARCS if exact_arcs is None else exact_arcs
    if limit > 0:
        refined = _refine(prep, arcs, plan, limit, exact_seconds, stats)
        refined_objective = evaluate(instance, _placements(prep, refined))
        if refined_objective.better_than(objective):
            plan, objective = refined, refined_objective
    placements = _placements(prep, plan)
    explained = diagnose.explain(prep, arcs, placements)
    stats["seconds"] = perf_counter() - started
    executing = _anchors(prep, placements)
    return Result(placements=tuple(explained.placements), gaps=tuple(explained.gaps), objective=objective,
                  executing_org={n.key: (None if a < 0 else int(a)) for n, a in zip(instance.needs, executing,
                                                                                    strict=True)},
                  stats=stats)
