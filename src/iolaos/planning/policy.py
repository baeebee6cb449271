"""The coverage policy: what each risk category requires per zone, with documented defaults.

Defaults (docs/planning.md): nothing at categories 1–2; at 3 one prevention patrol of two in each day
shift (10–14, 14–18, 18–22); at 4 round-the-clock presence (six 4-hour shifts) with a crew of three;
at 5 two firefighting-capable patrols of four in every shift. A region may override the national policy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session, col

from iolaos.auth.principal import Principal
from iolaos.errors import Forbidden, InvalidInput, NotFound
from iolaos.journal import service as journal
from iolaos.planning.models import CoveragePolicy
from iolaos.planning.schemas import PolicyIn, PolicyOut, RuleIn, RuleOut
from iolaos.risk import service as risk

ATHENS = ZoneInfo("Europe/Athens")
DAY_SHIFTS = ("10:00-14:00", "14:00-18:00", "18:00-22:00")
ROUND_THE_CLOCK = ("06:00-10:00", "10:00-14:00", "14:00-18:00", "18:00-22:00", "22:00-02:00", "02:00-06:00")


@dataclass(frozen=True)
class Rule:
    """What one category requires in each zone."""

    category: int
    patrols_per_zone: int
    crew_size: int
    required_skills: tuple[str, ...]
    capability: str
    shifts: tuple[str, ...]

    def places(self) -> tuple[str | None, ...]:
        """The crew places of one patrol: the required skills first, then places open to anyone."""
        return tuple(self.required_skills) + (None,) * (self.crew_size - len(self.required_skills))


DEFAULTS: dict[int, Rule] = {
    1: Rule(1, 0, 2, (), "prevention", ()),
    2: Rule(2, 0, 2, (), "prevention", ()),
    3: Rule(3, 1, 2, ("driver_4x4",), "prevention", DAY_SHIFTS),
    4: Rule(4, 1, 3, ("driver_4x4", "first_aid"), "prevention", ROUND_THE_CLOCK),
    5: Rule(5, 2, 4, ("driver_4x4", "first_aid", "wildfire_basic", "wildfire_basic"), "firefighting",
            ROUND_THE_CLOCK),
}


def shift_times(day: date, shift: str) -> tuple[datetime, datetime]:
    """A local 'HH:MM-HH:MM' shift of ``day`` in UTC; an end at or before the start is the next day."""
    start_text, end_text = shift.split("-")
    start = datetime.combine(day, time.fromisoformat(start_text), ATHENS)
    end_day = day if time.fromisoformat(end_text) > time.fromisoformat(start_text) else day + timedelta(days=1)
    end = datetime.combine(end_day, time.fromisoformat(end_text), ATHENS)
    return start.astimezone(UTC), end.astimezone(UTC)


def _from_row(row: CoveragePolicy) -> Rule:
    return Rule(row.category, row.patrols_per_zone, row.crew_size,
                tuple(s for s in row.required_skills.split(",") if s), row.capability,
                tuple(s for s in row.shifts.split(",") if s))


def effective(session: Session, region_id: int | None) -> dict[int, tuple[Rule, str, CoveragePolicy | None]]:
    """Per category: the rule in force for a region (its own, else national, else default) and its origin."""
    rows = session.scalars(select(CoveragePolicy).where(
        (col(CoveragePolicy.region_id) == region_id) | col(CoveragePolicy.region_id).is_(None))
        .order_by(col(CoveragePolicy.id)))
    national: dict[int, CoveragePolicy] = {}
    regional: dict[int, CoveragePolicy] = {}
    for row in rows:
        (national if row.region_id is None else regional)[row.category] = row
    out: dict[int, tuple[Rule, str, CoveragePolicy | None]] = {}
    for category, default in DEFAULTS.items():
        if category in regional:
            out[category] = (_from_row(regional[category]), "region", regional[category])
        elif category in national:
            out[category] = (_from_row(national[category]), "national", national[category])
        else:
            out[category] = (default, "default", None)
    return out


def policy_out(session: Session, region_code: str | None) -> PolicyOut:
    """The policy in force for a region (or the national one), category by category."""
    region_id = _region_id(session, region_code)
    rules = []
    for rule, origin, row in effective(session, region_id).values():
        rules.append(RuleOut(category=rule.category, patrols_per_zone=rule.patrols_per_zone,
                             crew_size=rule.crew_size, required_skills=list(rule.required_skills),
                             capability=rule.capability, shifts=list(rule.shifts), origin=origin,
                             updated_at=row.created_at if row else None))
    return PolicyOut(region_code=region_code, rules=rules)


def _region_id(session: Session, code: str | None) -> int | None:
    if code is None:
        return None
    tree = risk.zone_tree(session)
    zone_id = tree.by_code().get(code)
    if zone_id is None or tree.by_id[zone_id].kind != "region":
        raise NotFound(f"no region with code {code!r}")
    return zone_id


def set_policy(session: Session, *, principal: Principal, data: PolicyIn) -> PolicyOut:
    """New versions of the given categories for a region (default: the caller's) or, nationally, for all."""
    principal.scope("coverage.write")
    code = data.region_code
    if code is None and principal.region_id is not None:
        code = risk.zone_tree(session).by_id[principal.region_id].code
    region_id = _region_id(session, code)
    if principal.region_id is not None and region_id != principal.region_id:
        raise NotFound(f"no region with code {code!r}")
    if region_id is None and principal.region_id is not None:
        raise Forbidden("only a national organisation edits the national policy", code="forbidden")
    _validate(data.rules)
    before = effective(session, region_id)
    rows = [CoveragePolicy(region_id=region_id, category=r.category, patrols_per_zone=r.patrols_per_zone,
                           crew_size=r.crew_size, required_skills=",".join(r.required_skills),
                           capability=r.capability, shifts=",".join(r.shifts), updated_by_user_id=principal.user_id)
            for r in data.rules]
    session.add_all(rows)
    session.flush()
    changes = {str(r.category): {"before": json.loads(json.dumps(before[r.category][0].__dict__)),
                                 "after": r.model_dump()} for r in data.rules}
    journal.record(session, actor=principal.actor, action="coverage.policy", subject_type="coverage_policy",
                   subject_id=code or "national", data={"region": code, "changes": changes},
                   topics=[f"region:{code}"] if code else ["risk"])
    return policy_out(session, code)


def _validate(rules: list[RuleIn]) -> None:
    categories = [r.category for r in rules]
    problems = []
    if len(categories) != len(set(categories)):
        problems.append("a category is listed twice")
    for r in rules:
        if len(r.required_skills) > r.crew_size:
            problems.append(f"category {r.category}: more required skills than crew places")
        if r.patrols_per_zone > 0 and not r.shifts:
            problems.append(f"category {r.category}: patrols need at least one shift")
        starts = [s.split("-")[0] for s in r.shifts]
        if len(starts) != len(set(starts)):
            problems.append(f"category {r.category}: two shifts start at the same time")
    if problems:
        raise InvalidInput({"message": "invalid coverage policy", "problems": problems}, code="invalid_policy")
