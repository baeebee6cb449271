"""Acceptance 1 and 2 on the optimiser core (no database).

Hypothesis drives random instances; every hard constraint is checked on the result by
``core.check`` (the same rules the workflow applies). Small instances are also solved exactly
(SciPy/HiGHS MILP, tests/planning/exact.py) and the optimiser must be within 1% of the optimum.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iolaos.planning import optimiser, synthetic
from iolaos.planning.core import Candidate, Instance, Need, Org, Params, check, evaluate
from iolaos.planning.rules import HOUR, RestRules, rest_ok
from tests.planning import exact

DAY0 = synthetic.DAY0
SKILLS = ("driver_4x4", "first_aid", "wildfire_basic")


@st.composite
def instances(draw, max_volunteers: int = 14, max_needs: int = 6) -> Instance:
    """Tight little worlds: few volunteers, overlapping shifts, expiring skills, two organisations' areas."""
    zones = draw(st.integers(1, 4))
    zone_xy = [(22.0 + draw(st.floats(0, 0.8)), 38.0 + draw(st.floats(0, 0.8))) for _ in range(zones)]
    orgs = tuple(Org(i + 1, frozenset(draw(st.sampled_from([("FPA",), ("FPA", "FFA"), ("FFA",)]))),
                     frozenset(draw(st.sets(st.integers(0, zones - 1), min_size=1))))
                 for i in range(draw(st.integers(1, 3))))
    hour = st.integers(0, 40)
    candidates = []
    for i in range(draw(st.integers(0, max_volunteers))):
        windows = tuple(sorted((DAY0 + a * HOUR, DAY0 + (a + draw(st.integers(2, 16))) * HOUR)
                               for a in draw(st.lists(hour, max_size=2))))
        skills = {s: draw(st.sampled_from([None, DAY0 + 10 * HOUR, DAY0 + 100 * HOUR]))
                  for s in draw(st.sets(st.sampled_from(SKILLS)))}
        commitments = tuple((DAY0 + a * HOUR, DAY0 + (a + 4) * HOUR) for a in draw(st.lists(hour, max_size=1)))
        home = None if draw(st.integers(0, 9)) == 0 else (
            22.0 + draw(st.floats(-0.3, 1.1)), 38.0 + draw(st.floats(-0.3, 1.1)))
        candidates.append(Candidate(i + 1, draw(st.sampled_from([o.id for o in orgs] + [99])),
                                    home[0] if home else None, home[1] if home else None, skills, windows,
                                    commitments, float(draw(st.sampled_from([0, 4, 12, 30])))))
    needs = []
    for n in range(draw(st.integers(0, max_needs))):
        z = draw(st.integers(0, zones - 1))
        start = DAY0 + draw(st.integers(0, 30)) * HOUR
        slots = tuple(draw(st.lists(st.sampled_from([None, *SKILLS]), min_size=1, max_size=4)))
        excluded = frozenset(draw(st.sets(st.integers(1, max(1, len(candidates))), max_size=2)))
        crew = tuple(draw(st.lists(st.sampled_from([o.id for o in orgs]), max_size=2)))
        needs.append(Need(f"n{n}", z, *zone_xy[z], start, start + draw(st.sampled_from([3, 4, 8])) * HOUR,
                          draw(st.sampled_from(["prevention", "firefighting"])), draw(st.integers(1, 5)), slots,
                          crew, excluded))
    rest = RestRules(draw(st.sampled_from([8.0, 12.0, 16.0])), draw(st.sampled_from([0.0, 4.0, 8.0])))
    params = Params(rest=rest, max_travel_km=draw(st.sampled_from([20.0, 60.0, 120.0])))
    return Instance(tuple(candidates), orgs, tuple(needs), params)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_every_hard_constraint_holds_on_random_instances(instance):
    result = optimiser.assign(instance)
    assert check(instance, result) == []
    assert result.objective == evaluate(instance, result.placements)
    filled = {(p.need_key, p.slot) for p in result.placements}
    open_places = {(g.need_key, g.slot) for g in result.gaps}
    assert not filled & open_places
    assert len(filled | open_places) == sum(len(n.slots) for n in instance.needs)
    assert all(p.reasons for p in result.placements) and all(g.reason for g in result.gaps)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.booleans())
def test_flow_only_results_keep_the_hard_constraints_too(instance, _):
    result = optimiser.assign(instance, exact_arcs=0)
    assert check(instance, result) == []


@settings(max_examples=40, deadline=None)
@given(instances())
def test_deterministic(instance):
    first, second = optimiser.assign(instance), optimiser.assign(instance)
    assert first.placements == second.placements and first.gaps == second.gaps


def test_rest_rules():
    rules = RestRules(max_hours_24h=12, min_rest_hours=8)
    shift = lambda a, b: (DAY0 + a * HOUR, DAY0 + b * HOUR)  # noqa: E731
    assert rest_ok([shift(6, 10), shift(18, 22)], rules)
    assert not rest_ok([shift(6, 10), shift(9, 12)], rules)  # overlap
    assert not rest_ok([shift(6, 10), shift(14, 18)], rules)  # 4 h rest
    assert not rest_ok([shift(0, 8), shift(16, 24), shift(32, 40)], RestRules(12, 8))  # 16 h in 24 h


@pytest.mark.parametrize("seed", range(40))
def test_within_one_percent_of_the_exact_optimum(seed):
    instance = synthetic.instance(14, 6, seed=seed, box=(22.0, 38.0, 22.6, 38.5), regions=2, per_org=4, zones=3)
    result = optimiser.assign(instance)
    best = exact.solve(instance)
    ours = result.objective
    gap = (ours.secondary - best.secondary) / best.secondary if best.secondary else 0.0
    print(f"\nseed {seed}: coverage {ours.coverage}/{best.coverage}, secondary {ours.secondary:.2f} vs optimum "
          f"{best.secondary:.2f}: gap {gap:.4%}")
    assert ours.coverage == best.coverage
    assert gap <= 0.01


@pytest.mark.parametrize("seed", range(3))
def test_medium_instances_against_the_exact_optimum(seed):
    instance = synthetic.instance(60, 20, seed=100 + seed, box=(22.0, 38.0, 23.0, 38.8), regions=2, per_org=6,
                                  zones=6)
    result = optimiser.assign(instance)
    best = exact.solve(instance)
    gap = (result.objective.secondary - best.secondary) / best.secondary if best.secondary else 0.0
    print(f"\nmedium seed {seed}: coverage {result.objective.coverage}/{best.coverage}, gap {gap:.4%}, "
          f"{result.stats}")
    assert result.objective.coverage == best.coverage and gap <= 0.01
