"""Pure hard-constraint helpers shared by the optimiser, the workflow and the tests.

Times are plain integers (seconds since the epoch, UTC) so that the optimiser can work on
arrays and the property-based tests can generate instances quickly.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

Interval = tuple[int, int]
"""[start, end) in epoch seconds."""

HOUR = 3600
DAY = 24 * HOUR
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class RestRules:
    """Limits on a volunteer's patrol time: hours in any 24 hours and rest between two patrols."""

    max_hours_24h: float = 12.0
    min_rest_hours: float = 8.0


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in kilometres between two lon/lat points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def haversine_km_many(lons: np.ndarray, lats: np.ndarray, lon: float, lat: float) -> np.ndarray:
    """Distances in kilometres from many points to one point (NaN where a point is unknown)."""
    p1, p2 = np.radians(lats), math.radians(lat)
    dp, dl = p2 - p1, np.radians(lon - lons)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * math.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def merge_windows(windows: Iterable[Interval]) -> tuple[Interval, ...]:
    """Availability windows merged where they overlap or touch, in time order."""
    merged: list[list[int]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)


def covers(windows: Sequence[Interval], shift: Interval) -> bool:
    """True when one merged availability window holds the whole shift."""
    return any(start <= shift[0] and shift[1] <= end for start, end in merge_windows(windows))


def rest_problem(intervals: Iterable[Interval], rules: RestRules) -> str | None:
    """Why a set of patrol shifts breaks the rules (overlap, rest, hours in 24 h), or None when it keeps them."""
    ordered = sorted(intervals)
    min_rest = rules.min_rest_hours * HOUR
    for (_s1, e1), (s2, _e2) in itertools.pairwise(ordered):
        if s2 < e1:
            return "overlapping patrols (double-booked)"
        if s2 - e1 < min_rest:
            return f"less than {rules.min_rest_hours:g} h rest between patrols"
    if _max_in_24h(ordered) > rules.max_hours_24h * HOUR + 1e-6:
        return f"more than {rules.max_hours_24h:g} patrol hours in 24 h"
    return None


def rest_ok(intervals: Iterable[Interval], rules: RestRules) -> bool:
    """True when the shifts neither overlap nor break the rest and 24-hour rules."""
    return rest_problem(intervals, rules) is None


def _max_in_24h(ordered: Sequence[Interval]) -> float:
    """Most patrol seconds inside any 24-hour window; the maximum is reached at a shift's start or end."""
    best = 0.0
    for s, e in ordered:
        for lo, hi in ((s, s + DAY), (e - DAY, e)):
            total = sum(max(0, min(e2, hi) - max(s2, lo)) for s2, e2 in ordered)
            best = max(best, total)
    return best
