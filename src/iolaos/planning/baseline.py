"""The greedy nearest-available baseline the planner is measured against (bench/assign.py, season report).

Same hard constraints as the optimiser (it walks the eligible volunteer–place pairs the optimiser would
consider): place by place, patrol by patrol, it takes the nearest eligible volunteer not yet used.
"""

from __future__ import annotations

import numpy as np

from iolaos.planning import optimiser
from iolaos.planning.core import Instance, Placement


def greedy(instance: Instance) -> list[Placement]:
    """Nearest available volunteer for each place in turn (each volunteer at most once)."""
    prep = optimiser.prepare(instance)
    arcs = optimiser.static_arcs(prep)
    order = np.lexsort((arcs.km, arcs.grp))
    grp, vol, km = arcs.grp[order], arcs.vol[order], arcs.km[order]
    bounds = np.searchsorted(grp, np.arange(len(prep.groups) + 1))
    used = np.zeros(len(prep.lon), dtype=bool)
    out = []
    for g, (n_idx, _, slots) in enumerate(prep.groups):
        lo, hi = bounds[g], bounds[g + 1]
        free = lo + np.nonzero(~used[vol[lo:hi]])[0][:len(slots)]
        for slot, a in zip(slots, free, strict=False):
            used[vol[a]] = True
            out.append(Placement(instance.needs[n_idx].key, slot, instance.candidates[vol[a]].id, float(km[a])))
    return out
