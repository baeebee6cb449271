"""Exact refinement with CP-SAT for the parts of a plan small enough to prove optimal.

The flow rounds are exact for coverage only when each volunteer takes one shift, and they treat crew
cohesion and the fairness of several shifts heuristically. Here each connected component (patrols and
the volunteers who could serve them) up to ``MAX_ARCS`` pairs is solved as the full model, warm-started
from the flow solution: first the largest risk-weighted coverage, then, at that coverage, the smallest
travel + convex fairness + cohesion cost. One worker and a deterministic time limit keep it reproducible.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from ortools.sat.python import cp_model

from iolaos.planning.rules import DAY, HOUR

MAX_ARCS = 4000
TOTAL_ARCS = 40_000  # at most this many pairs are re-solved exactly in one plan (keeps time bounded)
UNIT = 10_000  # objective units per km-equivalent
QUARTER = HOUR // 4


def components(n_vol: int, group_need: np.ndarray, vol: np.ndarray, grp: np.ndarray) -> list[np.ndarray]:
    """Arc indices of each connected component (volunteers ↔ patrols), in first-arc order."""
    parent = list(range(n_vol + int(group_need.max(initial=-1)) + 1))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for v, g in zip(vol.tolist(), grp.tolist(), strict=True):
        a, b = find(v), find(n_vol + int(group_need[g]))
        if a != b:
            parent[max(a, b)] = min(a, b)
    roots = np.array([find(v) for v in vol.tolist()], dtype=np.int64)
    order: dict[int, list[int]] = {}
    for i, r in enumerate(roots.tolist()):
        order.setdefault(r, []).append(i)
    return [np.array(ix, dtype=np.int64) for ix in order.values()]


class Component:
    """The CP-SAT model of one component."""

    def __init__(self, prep, arcs, idx: np.ndarray) -> None:
        self.prep, self.idx = prep, idx
        self.vol, self.grp, self.km = arcs.vol[idx], arcs.grp[idx], arcs.km[idx]
        self.model = cp_model.CpModel()
        self.x = [self.model.new_bool_var(f"x{i}") for i in range(len(idx))]
        self.params = prep.instance.params
        self.need = prep.group_need[self.grp]
        self.shift = prep.need_shift[self.need]

    def build(self) -> tuple[cp_model.LinearExpr, cp_model.LinearExpr]:
        """Constraints; returns (coverage, secondary cost) expressions."""
        prep, m = self.prep, self.model
        for g in np.unique(self.grp).tolist():
            m.add(sum(self.x[i] for i in np.nonzero(self.grp == g)[0]) <= len(prep.groups[g][2]))
        secondary = [self._volunteer(v) for v in np.unique(self.vol).tolist()]
        secondary += [self._cohesion(n) for n in np.unique(self.need).tolist()]
        weights = [self.params.weight(prep.instance.needs[n].category) for n in self.need.tolist()]
        coverage = cp_model.LinearExpr.weighted_sum(self.x, weights)
        travel = cp_model.LinearExpr.weighted_sum(self.x, [round(k * UNIT) for k in self.km.tolist()])
        return coverage, travel + sum(secondary)

    def _volunteer(self, v: int) -> cp_model.LinearExpr:
        """Rest rule as cliques of padded shifts, 24-hour windows, and the convex fairness cost."""
        prep, m = self.prep, self.model
        mine = np.nonzero(self.vol == v)[0]
        rest = int(self.params.rest.min_rest_hours * HOUR)
        spans = [prep.shifts[int(self.shift[i])] for i in mine]
        for start in sorted({s for s, _ in spans}):
            clique = [self.x[i] for i, (s, e) in zip(mine, spans, strict=True) if s <= start < e + rest]
            if len(clique) > 1:
                m.add_at_most_one(clique)
        self._windows(v, mine, spans)
        quarters = [(e - s) // QUARTER for s, e in spans]
        h = float(prep.recent[v]) * 4  # recent hours in quarters
        lam = self.params.fairness_weight * UNIT / 16  # per quarter²
        total = cp_model.LinearExpr.weighted_sum([self.x[i] for i in mine], quarters)
        if len({s for s, _ in spans}) < 2:  # at most one shift: the fairness cost is linear
            return cp_model.LinearExpr.weighted_sum([self.x[i] for i in mine],
                                                   [round(lam * (2 * h * q + q * q)) for q in quarters])
        top = int(sum(quarters))
        hours_var = m.new_int_var(0, top, f"h{v}")
        square = m.new_int_var(0, top * top, f"sq{v}")
        m.add(hours_var == total)
        m.add_multiplication_equality(square, [hours_var, hours_var])
        return round(lam * 2 * h) * hours_var + round(lam) * square

    def _windows(self, v: int, mine: np.ndarray, spans: list[tuple[int, int]]) -> None:
        candidate = self.prep.instance.candidates[v]
        limit = int(self.params.rest.max_hours_24h * HOUR)
        for s, e in sorted(set(spans) | set(candidate.commitments)):
            for lo, hi in ((s, s + DAY), (e - DAY, e)):
                fixed = sum(max(0, min(e2, hi) - max(s2, lo)) for s2, e2 in candidate.commitments)
                terms = [(self.x[i], max(0, min(e2, hi) - max(s2, lo))) for i, (s2, e2) in zip(mine, spans,
                                                                                               strict=True)]
                terms = [(x, w) for x, w in terms if w]
                if sum(w for _, w in terms) + fixed > limit:
                    self.model.add(cp_model.LinearExpr.weighted_sum([x for x, _ in terms],
                                                                   [w for _, w in terms]) <= limit - fixed)

    def _cohesion(self, n: int) -> cp_model.LinearExpr:
        """κ·(crew − its main organisation's count)."""
        need = self.prep.instance.needs[n]
        mine = np.nonzero(self.need == n)[0]
        org_of = [self.prep.org_ids[o] if o < len(self.prep.org_ids) else -1
                  for o in self.prep.org_idx[self.vol[mine]].tolist()]
        orgs = sorted(set(org_of) | set(need.crew_orgs))
        size = len(need.slots) + len(need.crew_orgs)
        counts = []
        for o in orgs:
            count = self.model.new_int_var(0, size, f"n{n}_{o}")
            members = [self.x[i] for i, org in zip(mine, org_of, strict=True) if org == o]
            self.model.add(count == sum(members) + list(need.crew_orgs).count(o))
            counts.append(count)
        main = self.model.new_int_var(0, size, f"main{n}")
        self.model.add_max_equality(main, counts)
        kappa = round(self.params.cohesion_km * UNIT)
        return kappa * (sum(self.x[i] for i in mine) + len(need.crew_orgs)) - kappa * main

    def solve(self, hint: set[int], seconds: float) -> list[int] | None:
        """Arc indices (into the component) of the optimal plan, or None when not proven better than the hint."""
        coverage, secondary = self.build()
        for i, x in enumerate(self.x):
            self.model.add_hint(x, i in hint)
        best = _run(self.model, lambda m: m.maximize(coverage), seconds)
        if best is None:
            return None
        self.model.add(coverage >= round(best.objective_value))
        self.model.clear_hints()
        for x in self.x:
            self.model.add_hint(x, bool(best.value(x)))
        final = _run(self.model, lambda m: m.minimize(secondary), seconds)
        chosen = final or best
        return [i for i, x in enumerate(self.x) if chosen.value(x)]


def _run(model: cp_model.CpModel, objective: Callable[[cp_model.CpModel], None], seconds: float
         ) -> cp_model.CpSolver | None:
    objective(model)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 1
    solver.parameters.max_deterministic_time = seconds
    solver.parameters.max_time_in_seconds = 10 * seconds  # a guard only; the deterministic limit comes first
    status = solver.solve(model)
    return solver if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None
