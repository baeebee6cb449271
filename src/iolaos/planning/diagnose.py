"""Reasons: why each volunteer was placed, and why each open place stayed open."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from iolaos.i18n import coded
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
    hours: defaultdict[int, float] = defaultdict(float)  # hours are fractional
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
    """Why this person fills this place, as catalogue keys with parameters (rendered in the reader's language)."""
    need, params = prep.instance.needs[n_idx], prep.instance.params
    skill = need.slots[p.slot]
    reasons = [coded.encode("reason.plan.fills_place", place=p.slot + 1, category=need.category,
                            weight=params.weight(need.category))]
    if skill:
        key = "reason.plan.holds_skill" if person.skills.get(skill) is None else "reason.plan.holds_skill_valid"
        reasons.append(coded.encode(key, skill=coded.ref("skill", skill)))
    reasons.append(coded.encode("reason.plan.org_registered",
                                category=coded.ref("action_category", NEEDED_CATEGORY.get(need.capability, "FPA")),
                                capability=coded.ref("capability", need.capability)))
    reasons.append(coded.encode("reason.plan.available"))
    rank = (coded.encode("reason.plan.rank_nearest") if ctx.nearer == 0
            else coded.encode("reason.plan.rank", number=ctx.nearer + 1))
    reasons.append(coded.encode("reason.plan.distance", km=f"{p.travel_km:.1f}", limit=f"{params.max_travel_km:g}",
                                rank=rank, n=ctx.eligible))
    reasons.append(coded.encode("reason.plan.hours", recent=f"{person.recent_hours:g}",
                                planned=f"{ctx.plan_hours:g}"))
    crew = [*need.crew_orgs, *ctx.crew_orgs]
    if len(crew) > 1:
        reasons.append(coded.encode("reason.plan.cohesion", same=crew.count(person.org_id) - 1, n=len(crew) - 1))
    return tuple(reasons)


def _why(prep: Prepared, n_idx: int, skill: str | None, eligible: int) -> str:
    """Why a place stayed open, as a catalogue key with parameters: the first filter that left no one."""
    need, limit = prep.instance.needs[n_idx], f"{prep.instance.params.max_travel_km:g}"
    cat = coded.ref("action_category", NEEDED_CATEGORY.get(need.capability, "FPA"))
    with_skill = coded.encode("reason.gap.with_skill", skill=coded.ref("skill", skill)) if skill else ""
    from iolaos.planning.optimiser import near  # optimiser imports this module: a real cycle

    org_ok = prep.org_allowed(n_idx)
    if not org_ok.any():
        return coded.encode("reason.gap.no_org", category=cat)
    idx, _ = near(prep, n_idx)
    idx = idx[org_ok[idx]]
    if len(idx) == 0:
        return coded.encode("reason.gap.none_within", category=cat, limit=limit)
    if skill:
        idx = idx[prep.skill_expiry(skill)[idx] >= need.end]
        if len(idx) == 0:
            return coded.encode("reason.gap.none_with_skill", category=cat, skill=coded.ref("skill", skill),
                                limit=limit)
    shift = prep.need_shift[n_idx]
    idx = idx[prep.avail[shift, idx]]
    if len(idx) == 0:
        return coded.encode("reason.gap.none_available", category=cat, with_skill=with_skill, limit=limit)
    if eligible == 0:
        return coded.encode("reason.gap.all_busy", n=len(idx), category=cat, with_skill=with_skill, limit=limit)
    return coded.encode("reason.gap.all_placed", n=eligible, category=cat, with_skill=with_skill, limit=limit)
