"""Benchmark: 20,000 volunteers and 1,000 patrols (≈3,000 crew places) assigned by the optimiser.

Also runs a greedy nearest-available baseline on the same instance (same hard constraints: it walks the
places patrol by patrol and takes the nearest eligible volunteer not yet used) and prints both
objectives. Targets: ≤ 10 s and ≤ 2 GB peak memory on a 2-core machine.

    .venv/bin/python bench/assign.py [--volunteers 20000] [--patrols 1000] [--seed 7]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tracemalloc
from time import perf_counter

from iolaos.planning import optimiser, synthetic
from iolaos.planning.baseline import greedy
from iolaos.planning.core import Objective, check, evaluate


def describe(name: str, o: Objective) -> str:
    """One line per objective."""
    return (f"{name:<9} coverage {o.coverage:>6} (risk-weighted), places {o.filled}/{o.places} "
            f"({o.filled / max(o.places, 1):.1%}); travel {o.travel_km:,.0f} km, fairness {o.fairness:,.0f}, "
            f"cohesion {o.cohesion:,.0f}; secondary {o.secondary:,.0f}")


def main() -> int:
    """Run the benchmark and print the figures; the last line holds time and ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volunteers", type=int, default=20_000)
    parser.add_argument("--patrols", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations (slower)")
    args = parser.parse_args()
    started = perf_counter()
    instance = synthetic.instance(args.volunteers, args.patrols, seed=args.seed)
    places = sum(len(n.slots) for n in instance.needs)
    print(f"instance: {len(instance.candidates)} volunteers, {len(instance.orgs)} organisations, "
          f"{len(instance.needs)} patrols, {places} crew places (built in {perf_counter() - started:.1f} s)")
    if args.tracemalloc:
        tracemalloc.start()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = perf_counter()
    result = optimiser.assign(instance)
    seconds = perf_counter() - started
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    traced = tracemalloc.get_traced_memory()[1] / 2**20 if args.tracemalloc else None
    problems = check(instance, result)
    stats = {k: round(v, 2) for k, v in result.stats.items()}
    print(f"optimiser: {seconds:.2f} s, {stats}; peak RSS {peak_rss:.0f} MB (before: {rss_before / 1024:.0f} MB)"
          + (f", traced Python peak {traced:.0f} MB" if traced is not None else ""))
    print(f"hard constraints broken: {len(problems)}")
    started = perf_counter()
    baseline = evaluate(instance, greedy(instance))
    print(f"greedy: {perf_counter() - started:.2f} s")
    print(describe("optimiser", result.objective))
    print(describe("greedy", baseline))
    ratio = baseline.secondary / result.objective.secondary if result.objective.secondary else float("nan")
    print(f"assigned {args.volunteers} volunteers × {args.patrols} patrols ({places} places) in {seconds:.2f} s, "
          f"peak {peak_rss:.0f} MB; coverage {result.objective.coverage} vs greedy {baseline.coverage}; "
          f"greedy/optimiser secondary cost ratio {ratio:.3f}")
    return 0 if not problems and seconds <= 10 and peak_rss <= 2048 else 1


if __name__ == "__main__":
    sys.exit(main())
