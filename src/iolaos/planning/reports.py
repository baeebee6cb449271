"""Coverage reports: required vs staffed per zone and day, and the equity of coverage across municipalities."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from iolaos.auth.principal import Principal
from iolaos.errors import InvalidInput, NotFound
from iolaos.patrols.models import Assignment, Patrol
from iolaos.planning import instance as builder
from iolaos.planning.schemas import CoverageRow, EquityOut, FlaggedZone
from iolaos.risk import service as risk

MAX_DAYS = 31
HIGH_RISK = 4
UNDER_COVERED = 0.5


def gini(values: Iterable[float]) -> float:
    """Gini coefficient of non-negative values: 0 for perfect equality (also for all zeros)."""
    xs = sorted(float(v) for v in values)
    n, total = len(xs), sum(xs)
    if n == 0 or total <= 0:
        return 0.0
    weighted = sum((i + 1) * x for i, x in enumerate(xs))
    return (2 * weighted) / (n * total) - (n + 1) / n


def _zones(session: Session, principal: Principal, region_code: str | None) -> set[int] | None:
    allowed = risk.zones_in_scope(session, principal, "coverage.read")
    if region_code is None:
        return allowed
    tree = risk.zone_tree(session)
    region_id = tree.by_code().get(region_code)
    if region_id is None or (allowed is not None and region_id not in allowed):
        raise NotFound(f"no zone with code {region_code!r} in your area")
    within = tree.below({region_id})
    return within if allowed is None else within & allowed


def _days(start: date, end: date) -> list[date]:
    if end < start or (end - start).days >= MAX_DAYS:
        raise InvalidInput(f"end must be on or after start, at most {MAX_DAYS} days", code="invalid_period")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def coverage(session: Session, *, principal: Principal, start: date, end: date, region_code: str | None
             ) -> list[CoverageRow]:
    """Per zone and day: crew places the policy requires, planned, proposed and staffed."""
    zones = _zones(session, principal, region_code)
    tree = risk.zone_tree(session)
    rows = []
    for day in _days(start, end):
        required = _required(session, day, zones)
        counts = _counts(session, day, zones)
        categories = risk.effective(session, day)
        for zone_id in sorted(set(required) | set(counts), key=lambda z: tree.by_id[z].code):
            need = required.get(zone_id, 0)
            planned, proposed, staffed = counts.get(zone_id, (0, 0, 0))
            region = tree.region_of(zone_id)
            rows.append(CoverageRow(date=day, zone_code=tree.by_id[zone_id].code,
                                    zone_name_el=tree.by_id[zone_id].name_el, region_code=region.code if region
                                    else None, category=categories.get(zone_id), required=need, planned=planned,
                                    proposed=proposed, staffed=staffed, ratio=_ratio(staffed, need)))
    return rows


def _ratio(staffed: int, required: int) -> float:
    return round(min(1.0, staffed / required), 4) if required else 1.0


def _required(session: Session, day: date, zones: set[int] | None) -> dict[int, int]:
    out: dict[int, int] = {}
    for req in builder.requirements(session, day, zones):
        out[req.zone_id] = out.get(req.zone_id, 0) + req.rule.crew_size
    return out


def _counts(session: Session, day: date, zones: set[int] | None) -> dict[int, tuple[int, int, int]]:
    """(planned places, proposed, staffed) per zone for patrols starting on ``day``."""
    lo, hi = builder.day_bounds(day)
    query = select(Patrol.zone_id, func.sum(Patrol.crew_size)).where(
        Patrol.status != "cancelled", Patrol.shift_start >= lo, Patrol.shift_start < hi).group_by(Patrol.zone_id)
    planned = dict(session.execute(query).all())
    status_rows = session.execute(
        select(Patrol.zone_id, Assignment.status, func.count()).join(Assignment, Assignment.patrol_id == Patrol.id)
        .where(Patrol.status != "cancelled", Patrol.shift_start >= lo, Patrol.shift_start < hi)
        .group_by(Patrol.zone_id, Assignment.status)).all()
    proposed: dict[int, int] = {}
    staffed: dict[int, int] = {}
    for zone_id, status, count in status_rows:
        if status == "proposed":
            proposed[zone_id] = proposed.get(zone_id, 0) + count
        elif status in ("accepted", "checked_in", "checked_out"):
            staffed[zone_id] = staffed.get(zone_id, 0) + count
    return {z: (int(planned.get(z, 0)), proposed.get(z, 0), staffed.get(z, 0))
            for z in set(planned) | set(proposed) | set(staffed) if zones is None or z in zones}


def equity(session: Session, *, principal: Principal, start: date, end: date, region_code: str | None
           ) -> EquityOut:
    """Staffed/required per municipality over the period, its Gini coefficient, and high-risk days under-covered."""
    rows = coverage(session, principal=principal, start=start, end=end, region_code=region_code)
    totals: dict[str, list] = {}
    flagged = []
    for row in rows:
        if row.required == 0:
            continue
        total = totals.setdefault(row.zone_code, [row, 0, 0])
        total[1] += row.required
        total[2] += row.staffed
        if (row.category or 0) >= HIGH_RISK and row.ratio < UNDER_COVERED:
            flagged.append(FlaggedZone(date=row.date, zone_code=row.zone_code, zone_name_el=row.zone_name_el,
                                       category=row.category, required=row.required, staffed=row.staffed,
                                       ratio=row.ratio))
    distribution = [CoverageRow(date=start, zone_code=code, zone_name_el=first.zone_name_el,
                                region_code=first.region_code, category=None, required=req, planned=0, proposed=0,
                                staffed=staffed, ratio=_ratio(staffed, req))
                    for code, (first, req, staffed) in sorted(totals.items())]
    ratios = [d.ratio for d in distribution]
    return EquityOut(start=start, end=end, region_code=region_code, municipalities=len(distribution),
                     mean_ratio=round(sum(ratios) / len(ratios), 4) if ratios else 0.0,
                     gini=round(gini(ratios), 4), distribution=distribution, flagged=flagged)


__all__ = ["coverage", "equity", "gini"]
