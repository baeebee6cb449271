"""The optimiser's problem solved exactly as a mixed-integer programme (SciPy/HiGHS), for small instances.

Lexicographic like the optimiser: first the largest risk-weighted coverage, then, with coverage fixed
at that optimum, the smallest secondary cost (travel + convex fairness + crew cohesion). Only the
hard-constraint rules of ``iolaos.planning.core`` are reused, not the optimiser.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix

from iolaos.planning.core import Instance, travel_km, violations
from iolaos.planning.rules import DAY, HOUR, rest_ok


@dataclass(frozen=True)
class Exact:
    """Optimal coverage and, at that coverage, the optimal secondary cost."""

    coverage: int
    secondary: float


class _Model:
    """Variables and constraints, grown row by row."""

    def __init__(self) -> None:
        self.cost: list[float] = []
        self.integer: list[int] = []
        self.upper: list[float] = []
        self.rows: list[tuple[dict[int, float], float, float]] = []

    def var(self, cost: float = 0.0, *, integer: bool = True, upper: float = 1.0) -> int:
        self.cost.append(cost)
        self.integer.append(1 if integer else 0)
        self.upper.append(upper)
        return len(self.cost) - 1

    def row(self, coefs: dict[int, float], lo: float, hi: float) -> None:
        self.rows.append((coefs, lo, hi))

    def solve(self, objective: list[float]) -> tuple[float, np.ndarray]:
        n = len(self.cost)
        matrix = lil_matrix((max(1, len(self.rows)), n))
        lo, hi = np.full(max(1, len(self.rows)), -np.inf), np.full(max(1, len(self.rows)), np.inf)
        for r, (coefs, a, b) in enumerate(self.rows):
            for j, c in coefs.items():
                matrix[r, j] = c
            lo[r], hi[r] = a, b
        result = milp(np.array(objective), integrality=np.array(self.integer),
                      bounds=Bounds(np.zeros(n), np.array(self.upper)),
                      constraints=LinearConstraint(matrix.tocsr(), lo, hi), options={"time_limit": 120})
        assert result.status == 0, result.message
        return float(result.fun), result.x


def solve(instance: Instance) -> Exact:
    """Optimal coverage, then optimal secondary cost at that coverage."""
    params, m = instance.params, _Model()
    orgs = {o.id: o for o in instance.orgs}
    x: dict[tuple[int, int, int], int] = {}  # (volunteer index, need index, slot) → variable
    weight = []
    for (v, c), (n, need) in itertools.product(enumerate(instance.candidates), enumerate(instance.needs)):
        for slot, skill in enumerate(need.slots):
            if not violations(c, orgs.get(c.org_id), need, skill, params):
                d, h = need.hours, c.recent_hours
                j = m.var(travel_km(c, need) + params.fairness_weight * (2 * h * d + d * d) + params.cohesion_km)
                x[(v, n, slot)] = j
                weight.append((j, params.weight(need.category)))
    constant = params.cohesion_km * sum(len(n.crew_orgs) for n in instance.needs)
    if not x:
        return Exact(coverage=0, secondary=constant)
    _places(m, x)
    _volunteer_rules(m, instance, x)
    _cohesion(m, instance, x)
    coverage_obj = [0.0] * len(m.cost)
    for j, w in weight:
        coverage_obj[j] = -w
    best, _ = m.solve(coverage_obj)
    coverage = round(-best)
    m.row({j: w for j, w in weight}, coverage - 0.5, np.inf)
    value, _ = m.solve(list(m.cost))
    return Exact(coverage=coverage, secondary=value + constant)


def _places(m: _Model, x: dict[tuple[int, int, int], int]) -> None:
    by_place: dict[tuple[int, int], dict[int, float]] = {}
    for (_, n, slot), j in x.items():
        by_place.setdefault((n, slot), {})[j] = 1.0
    for coefs in by_place.values():
        m.row(coefs, 0, 1)


def _volunteer_rules(m: _Model, instance: Instance, x: dict[tuple[int, int, int], int]) -> None:
    """Pairwise rest rule, 24-hour windows, and the pair terms of the convex fairness cost."""
    params = instance.params
    by_volunteer: dict[int, list[tuple[int, int]]] = {}
    for (v, n, _), j in x.items():
        by_volunteer.setdefault(v, []).append((n, j))
    for v, options in by_volunteer.items():
        c = instance.candidates[v]
        for (n1, j1), (n2, j2) in itertools.combinations(options, 2):
            s1, s2 = instance.needs[n1].shift, instance.needs[n2].shift
            if not rest_ok([*c.commitments, s1, s2], params.rest):
                m.row({j1: 1, j2: 1}, 0, 1)
            else:
                y = m.var(2 * params.fairness_weight * instance.needs[n1].hours * instance.needs[n2].hours)
                m.row({y: 1, j1: -1, j2: -1}, -1, np.inf)
        _windows(m, instance, c, options)


def _windows(m: _Model, instance: Instance, c, options: list[tuple[int, int]]) -> None:
    limit = instance.params.rest.max_hours_24h * HOUR
    shifts = [instance.needs[n].shift for n, _ in options] + list(c.commitments)
    for s, e in shifts:
        for lo, hi in ((s, s + DAY), (e - DAY, e)):
            fixed = sum(max(0, min(e2, hi) - max(s2, lo)) for s2, e2 in c.commitments)
            coefs: dict[int, float] = {}
            for n, j in options:
                s2, e2 = instance.needs[n].shift
                overlap = max(0, min(e2, hi) - max(s2, lo))
                if overlap:
                    coefs[j] = overlap
            if coefs:
                m.row(coefs, -np.inf, limit - fixed + 1e-6)


def _cohesion(m: _Model, instance: Instance, x: dict[tuple[int, int, int], int]) -> None:
    """κ·(crew − main organisation's count) per patrol: placed crew cost κ each (in their variable's cost),
    minus κ per member of a chosen main organisation (capped by that organisation's count)."""
    params = instance.params
    for n, need in enumerate(instance.needs):
        placed = {j: instance.candidates[v].org_id for (v, nn, _), j in x.items() if nn == n}
        orgs = sorted(set(placed.values()) | set(need.crew_orgs))
        if not orgs:
            continue
        size = len(need.slots) + len(need.crew_orgs)
        main = m.var(-params.cohesion_km, integer=False, upper=size)
        chooser = {}
        for o in orgs:
            z = m.var()
            chooser[z] = 1.0
            fixed = list(need.crew_orgs).count(o)
            coefs = {main: 1.0, z: size}
            coefs.update({j: -1.0 for j, org in placed.items() if org == o})
            m.row(coefs, -np.inf, fixed + size)
        m.row(chooser, 1, 1)
