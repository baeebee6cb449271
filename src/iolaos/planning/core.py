"""The optimiser's plain-data model: instance, result, hard-constraint checks and the objective.

Everything here is pure (no database, no clock), so the service, the workflow and the
property-based tests judge an assignment by the same rules and the same objective.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from iolaos.planning.rules import HOUR, Interval, RestRules, covers, haversine_km, rest_problem

FIREFIGHTING = "firefighting"
PREVENTION = "prevention"
NEEDED_CATEGORY = {FIREFIGHTING: "FFA", PREVENTION: "FPA"}


@dataclass(frozen=True)
class Candidate:
    """A volunteer as the optimiser sees them."""

    id: int
    org_id: int
    lon: float | None
    lat: float | None
    skills: Mapping[str, int | None]
    """skill → end of validity (epoch seconds, exclusive) or None when it never expires."""
    windows: tuple[Interval, ...]
    commitments: tuple[Interval, ...] = ()
    """Shifts of patrols the volunteer is already on (proposed, accepted or checked in)."""
    recent_hours: float = 0.0
    """Patrol hours in the fairness look-back period."""


@dataclass(frozen=True)
class Org:
    """A volunteer organisation: its action categories (FPA, FFA) and area of operation (zone ids)."""

    id: int
    categories: frozenset[str]
    area: frozenset[int]


@dataclass(frozen=True)
class Need:
    """A patrol with open crew places: where, when, what it must be able to do."""

    key: str
    zone_id: int
    lon: float
    lat: float
    start: int
    end: int
    capability: str
    category: int
    slots: tuple[str | None, ...]
    """One entry per open crew place: the skill that place needs, or None."""
    crew_orgs: tuple[int, ...] = ()
    """Organisations of crew already on the patrol (kept from earlier runs)."""
    excluded: frozenset[int] = frozenset()
    """Volunteers who may not be proposed again (declined, removed)."""

    @property
    def shift(self) -> Interval:
        """The patrol's time window."""
        return (self.start, self.end)

    @property
    def hours(self) -> float:
        """Length of the shift in hours."""
        return (self.end - self.start) / HOUR


@dataclass(frozen=True)
class Params:
    """Rules and weights of the optimisation (see docs/planning.md)."""

    rest: RestRules = field(default_factory=RestRules)
    max_travel_km: float = 60.0
    risk_weights: Mapping[int, int] = field(default_factory=lambda: {1: 1, 2: 1, 3: 2, 4: 4, 5: 8})
    fairness_weight: float = 0.05
    """km-equivalent per hour² of the convex fairness term."""
    cohesion_km: float = 5.0
    """km-equivalent per crew member not from the crew's main organisation."""

    def weight(self, category: int) -> int:
        """Risk weight of one filled crew place of a patrol of ``category``."""
        return int(self.risk_weights.get(category, 1))


@dataclass(frozen=True)
class Instance:
    """Everything the optimiser needs."""

    candidates: tuple[Candidate, ...]
    orgs: tuple[Org, ...]
    needs: tuple[Need, ...]
    params: Params = field(default_factory=Params)


@dataclass(frozen=True)
class Placement:
    """A volunteer placed in a crew place, and why."""

    need_key: str
    slot: int
    volunteer_id: int
    travel_km: float
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Gap:
    """A crew place left open, and why."""

    need_key: str
    slot: int
    skill: str | None
    reason: str


@dataclass(frozen=True)
class Objective:
    """Risk-weighted coverage (maximised first), then the secondary cost in km-equivalents (minimised)."""

    coverage: int
    filled: int
    places: int
    travel_km: float
    fairness: float
    cohesion: float

    @property
    def secondary(self) -> float:
        """Travel + fairness + cohesion, the cost minimised once coverage is maximal."""
        return self.travel_km + self.fairness + self.cohesion

    def better_than(self, other: Objective) -> bool:
        """Lexicographic comparison: more coverage, then lower secondary cost."""
        if self.coverage != other.coverage:
            return self.coverage > other.coverage
        return self.secondary < other.secondary - 1e-9


@dataclass(frozen=True)
class Result:
    """What the optimiser decided."""

    placements: tuple[Placement, ...]
    gaps: tuple[Gap, ...]
    objective: Objective
    executing_org: Mapping[str, int | None]
    stats: Mapping[str, float] = field(default_factory=dict)


def travel_km(candidate: Candidate, need: Need) -> float | None:
    """Distance from home base to the zone, or None without a home base."""
    if candidate.lon is None or candidate.lat is None:
        return None
    return haversine_km(candidate.lon, candidate.lat, need.lon, need.lat)


def violations(candidate: Candidate, org: Org | None, need: Need, slot_skill: str | None, params: Params,
               other_shifts: Iterable[Interval] = ()) -> list[str]:
    """Every hard constraint this placement breaks (empty when it is allowed).

    ``other_shifts`` are further shifts given to the volunteer in the same plan.
    """
    return [text for _, text in problems(candidate, org, need, slot_skill, params, other_shifts)]


def problems(candidate: Candidate, org: Org | None, need: Need, slot_skill: str | None, params: Params,
             other_shifts: Iterable[Interval] = ()) -> list[tuple[str, str]]:
    """Like ``violations``, each with the rule's name (what a dispatcher's override names)."""
    if org is None:
        return [("organisation", "the volunteer's organisation is not active")]
    found = []
    needed = NEEDED_CATEGORY.get(need.capability, "FPA")
    if needed not in org.categories:
        found.append(("category", f"organisation not registered for {needed} ({need.capability} patrol)"))
    if need.zone_id not in org.area:
        found.append(("area", "zone outside the organisation's area of operation"))
    distance = travel_km(candidate, need)
    if distance is None:
        found.append(("distance", "no home base recorded"))
    elif distance > params.max_travel_km:
        found.append(("distance", f"home base {distance:.0f} km away (limit {params.max_travel_km:g} km)"))
    if slot_skill is not None and not skill_valid(candidate, slot_skill, need.end):
        found.append(("skill", f"no valid {slot_skill} for the shift"))
    if not covers(candidate.windows, need.shift):
        found.append(("availability", "not available for the whole shift"))
    if candidate.id in need.excluded:
        found.append(("excluded", "declined or removed from this patrol"))
    rest = rest_problem([*candidate.commitments, *other_shifts, need.shift], params.rest)
    if rest:
        found.append(("rest", rest))
    return found


def skill_valid(candidate: Candidate, skill: str, until: int) -> bool:
    """True when the volunteer holds ``skill`` and it is valid to the end of the shift."""
    if skill not in candidate.skills:
        return False
    expiry = candidate.skills[skill]
    return expiry is None or expiry >= until


def evaluate(instance: Instance, placements: Iterable[Placement]) -> Objective:
    """The objective of a set of placements (it need not come from the optimiser)."""
    params, placed = instance.params, list(placements)
    needs = {n.key: n for n in instance.needs}
    people = {c.id: c for c in instance.candidates}
    coverage = sum(params.weight(needs[p.need_key].category) for p in placed)
    travel = sum(travel_km(people[p.volunteer_id], needs[p.need_key]) or 0.0 for p in placed)
    hours: defaultdict[int, float] = defaultdict(float)  # hours are fractional
    for p in placed:
        hours[p.volunteer_id] += needs[p.need_key].hours
    fairness = params.fairness_weight * sum(
        (people[v].recent_hours + h) ** 2 - people[v].recent_hours ** 2 for v, h in hours.items())
    crews: dict[str, list[int]] = {n.key: list(n.crew_orgs) for n in instance.needs}
    for p in placed:
        crews[p.need_key].append(people[p.volunteer_id].org_id)
    cohesion = params.cohesion_km * sum(outsiders(orgs) for orgs in crews.values())
    return Objective(coverage=coverage, filled=len(placed), places=sum(len(n.slots) for n in instance.needs),
                     travel_km=travel, fairness=fairness, cohesion=cohesion)


def outsiders(crew_orgs: Iterable[int]) -> int:
    """Crew members not from the crew's most represented organisation."""
    counts = Counter(crew_orgs)
    return sum(counts.values()) - max(counts.values()) if counts else 0


def main_org(crew_orgs: Iterable[int]) -> int | None:
    """The crew's most represented organisation (the lowest id on a tie)."""
    counts = Counter(crew_orgs)
    if not counts:
        return None
    return min(counts, key=lambda o: (-counts[o], o))


def check(instance: Instance, result: Result) -> list[str]:
    """Every hard constraint the result breaks; the property-based tests require this to be empty."""
    needs = {n.key: n for n in instance.needs}
    people = {c.id: c for c in instance.candidates}
    orgs = {o.id: o for o in instance.orgs}
    problems: list[str] = []
    seen_places: set[tuple[str, int]] = set()
    shifts: dict[int, list[Interval]] = {}
    for p in result.placements:
        need = needs[p.need_key]
        if (p.need_key, p.slot) in seen_places or not 0 <= p.slot < len(need.slots):
            problems.append(f"place {p.need_key}#{p.slot} filled twice or does not exist")
        seen_places.add((p.need_key, p.slot))
        shifts.setdefault(p.volunteer_id, []).append(need.shift)
    for p in result.placements:
        need, person = needs[p.need_key], people[p.volunteer_id]
        others = list(shifts[p.volunteer_id])
        others.remove(need.shift)
        for problem in violations(person, orgs.get(person.org_id), need, need.slots[p.slot], instance.params,
                                  others):
            problems.append(f"volunteer {p.volunteer_id} on {p.need_key}#{p.slot}: {problem}")
    return problems
