"""Reasons: why each volunteer was placed, and why each open place stayed open."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from iolaos.planning.core import NEEDED_CATEGORY, Candidate, Gap, Placement

if TYPE_CHECKING:
    from iolaos.planning.optimiser import Arcs, Prepared


@dataclass
class Explained:
    """Placements with their reasons, and the open places with theirs."""

    placements: list[Placement]
    gaps: list[Gap]


def explain(prep: Prepared, arcs: Arcs, placements: list[Placement]) -> Explained:
    """Attach reasons to every placement and a reason to every open place."""
    need_pos = {n.key: i for i, n in enumerate(prep.instance.needs)}
    group_of = {(n_idx, slot): g for g, (n_idx, _, slots) in enumerate(prep.groups) for slot in slots}
    people = {c.id: c for c in prep.instance.candidates}
    eligible = np.bincount(arcs.grp, minlength=len(prep.groups))
    order = np.lexsort((arcs.km, arcs.grp))
    sorted_grp, sorted_km = arcs.grp[order], arcs.km[order]
    crews: dict[str, list[int]] = {}
    hours: Counter[int] = Counter()
    for p in placements:
        crews.setdefault(p.need_key, []).append(people[p.volunteer_id].org_id)
        hours[p.volunteer_id] += prep.instance.needs[need_pos[p.need_key]].hours
    out = []
    for p in placements:
        n_idx = need_pos[p.need_key]
        g = group_of[(n_idx, p.slot)]
        lo, hi = np.searchsorted(sorted_grp, [g, g + 1])
        nearer = int(np.searchsorted(sorted_km[lo:hi], p.travel_km - 1e-9))
        context = _Context(int(eligible[g]), nearer, crews[p.need_key], hours[p.volunteer_id])
        out.append(Placement(p.need_key, p.slot, p.volunteer_id, p.travel_km,
                             _reasons(prep, n_idx, p, people[p.volunteer_id], context)))
    filled = {(p.need_key, p.slot) for p in placements}
    gaps = [Gap(prep.instance.needs[n_idx].key, slot, skill, _why(prep, n_idx, skill, int(eligible[g])))
            for g, (n_idx, skill, slots) in enumerate(prep.groups) for slot in slots
            if (prep.instance.needs[n_idx].key, slot) not in filled]
    return Explained(placements=out, gaps=gaps)


@dataclass(frozen=True)
class _Context:
    eligible: int
    nearer: int
    crew_orgs: list[int]
    plan_hours: float


def _reasons(prep: Prepared, n_idx: int, p: Placement, person: Candidate, ctx: _Context) -> tuple[str, ...]:
    need, params = prep.instance.needs[n_idx], prep.instance.params
    skill = need.slots[p.slot]
    reasons = [f"fills crew place {p.slot + 1} of a category-{need.category} patrol "
               f"(risk weight {params.weight(need.category)})"]
    if skill:
        expiry = person.skills.get(skill)
        reasons.append(f"holds {skill}" + (" (no expiry)" if expiry is None else ", valid through the shift"))
    reasons.append(f"organisation registered for {NEEDED_CATEGORY.get(need.capability, 'FPA')} "
                   f"({need.capability} patrol); zone in its area of operation")
    reasons.append("available for the whole shift; no clash with other patrols; rest and 24-hour limits kept")
    rank = "the nearest" if ctx.nearer == 0 else f"number {ctx.nearer + 1} by distance"
    reasons.append(f"{p.travel_km:.1f} km from home base (limit {params.max_travel_km:g} km), "
                   f"{rank} of {ctx.eligible} eligible")
    reasons.append(f"{person.recent_hours:g} patrol hours in the look-back period, "
                   f"{ctx.plan_hours:g} h in this plan")
    crew = [*need.crew_orgs, *ctx.crew_orgs]
    if len(crew) > 1:
        reasons.append(f"same organisation as {crew.count(person.org_id) - 1} of the {len(crew) - 1} "
                       "other crew members")
    return tuple(reasons)


def _why(prep: Prepared, n_idx: int, skill: str | None, eligible: int) -> str:
    need, limit = prep.instance.needs[n_idx], prep.instance.params.max_travel_km
    cat = NEEDED_CATEGORY.get(need.capability, "FPA")
    who = f"{cat}-registered volunteer" + (f" with valid {skill}" if skill else "")
    from iolaos.planning.optimiser import near

    org_ok = prep.org_allowed(n_idx)
    if not org_ok.any():
        return f"no {cat}-registered organisation has this zone in its area of operation"
    idx, _ = near(prep, n_idx)
    idx = idx[org_ok[idx]]
    if len(idx) == 0:
        return f"no {cat}-registered volunteer within {limit:g} km"
    if skill:
        idx = idx[prep.skill_expiry(skill)[idx] >= need.end]
        if len(idx) == 0:
            return f"no {who} within {limit:g} km"
    shift = prep.need_shift[n_idx]
    idx = idx[prep.avail[shift, idx]]
    if len(idx) == 0:
        return f"no {who} within {limit:g} km is available for the whole shift"
    if eligible == 0:
        return (f"all {len(idx)} available {who}s within {limit:g} km are on other patrols, "
                "resting, or declined this one")
    return (f"all {eligible} eligible {who}s within {limit:g} km were placed on other patrols "
            "(higher risk or nearer)")
