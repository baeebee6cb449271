"""Coverage reports: required vs staffed per zone and day, and the equity of coverage across municipalities.

Both read the one zone × day statement of :mod:`iolaos.planning.season`, so a distribution row is by
construction the sum of that zone's report rows over the period.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlmodel import Session

from iolaos.auth.principal import Principal
from iolaos.config import Settings
from iolaos.errors import NotFound
from iolaos.planning import season
from iolaos.planning.schemas import CoverageRow, EquityOut, FlaggedZone, ZoneTotal
from iolaos.risk import service as risk

HIGH_RISK = 4
UNDER_COVERED = 0.5
MAX_FLAGGED = 1000
gini = season.gini


def zones_for(session: Session, principal: Principal, region_code: str | None) -> set[int] | None:
    """Zone ids the caller's coverage reports reach, within one region if given (None: every zone)."""
    allowed = risk.zones_in_scope(session, principal, "coverage.read")
    if region_code is None:
        return allowed
    tree = risk.zone_tree(session)
    region_id = tree.by_code().get(region_code)
    if region_id is None or (allowed is not None and region_id not in allowed):
        raise NotFound(f"no zone with code {region_code!r} in your area")
    within = tree.below({region_id})
    return within if allowed is None else within & allowed


def _ratio(staffed: int, required: int) -> float:
    return round(min(1.0, staffed / required), 4) if required else 1.0


def _reported(rows):
    """Zone-days the report lists: crew places required, or patrols planned there."""
    return or_(rows.c.required > 0, rows.c.planned > 0, rows.c.proposed > 0, rows.c.staffed > 0)


def coverage(session: Session, settings: Settings, *, principal: Principal, start: date, end: date,
             region_code: str | None) -> list[CoverageRow]:
    """Per zone and (Athens) day: crew places the policy requires, planned, proposed and staffed, with hours."""
    season.period(start, end, settings.coverage_max_days)
    zones = zones_for(session, principal, region_code)
    rows = season.zone_days(session, settings, start=start, end=end, zones=zones)
    tree = risk.zone_tree(session)
    out = []
    for r in session.execute(select(rows).where(_reported(rows))):
        zone = tree.by_id[r.zone_id]
        region = tree.region_of(r.zone_id)
        out.append(CoverageRow(date=r.day, zone_code=zone.code, zone_name_el=zone.name_el,
                               region_code=region.code if region else None, category=r.category,
                               inherited=bool(r.inherited) if r.category is not None else None,
                               required=r.required, planned=r.planned, proposed=r.proposed, staffed=r.staffed,
                               ratio=_ratio(r.staffed, r.required), need_hours=round(r.need_hours, 2),
                               planned_hours=round(r.planned_hours, 2), staffed_hours=round(r.staffed_hours, 2),
                               patrolled_hours=round(r.patrolled_hours, 2),
                               weighted_shortfall=round(r.weighted_shortfall, 2)))
    return sorted(out, key=lambda row: (row.date, row.zone_code))


def equity(session: Session, settings: Settings, *, principal: Principal, start: date, end: date,
           region_code: str | None) -> EquityOut:
    """Per zone: the report's rows summed over the period; the Gini coefficient of staffed/required across
    them; and the zone-days of category 4–5 staffed below half."""
    season.period(start, end, settings.coverage_max_days)
    zones = zones_for(session, principal, region_code)
    rows = season.zone_days(session, settings, start=start, end=end, zones=zones)
    tree = risk.zone_tree(session)
    reported = select(rows).where(_reported(rows)).subquery("reported")
    distribution = []
    for t in sorted(season.totals(session, reported, "zone_id"), key=lambda t: tree.by_id[t["id"]].code):
        zone = tree.by_id[t["id"]]
        region = tree.region_of(zone.id)
        distribution.append(ZoneTotal(
            start=start, end=end, zone_code=zone.code, zone_name_el=zone.name_el,
            region_code=region.code if region else None, category=t["category"], days=t["days"],
            required=t["required"], planned=t["planned"], proposed=t["proposed"], staffed=t["staffed"],
            ratio=_ratio(t["staffed"], t["required"]), need_hours=round(t["need_hours"], 2),
            staffed_hours=round(t["staffed_hours"], 2), weighted_shortfall=round(t["weighted_shortfall"], 2)))
    needed = [d.ratio for d in distribution if d.required > 0]
    flagged_q = (select(rows).where(rows.c.category >= HIGH_RISK, rows.c.required > 0,
                                    rows.c.staffed * 2 < rows.c.required)
                 .order_by(rows.c.category.desc(), rows.c.day, rows.c.zone_id))
    flagged = []
    for r in session.execute(flagged_q.limit(MAX_FLAGGED)):
        zone = tree.by_id[r.zone_id]
        flagged.append(FlaggedZone(date=r.day, zone_code=zone.code, zone_name_el=zone.name_el, category=r.category,
                                   required=r.required, staffed=r.staffed, ratio=_ratio(r.staffed, r.required)))
    return EquityOut(start=start, end=end, region_code=region_code, municipalities=len(needed),
                     mean_ratio=round(sum(needed) / len(needed), 4) if needed else 0.0,
                     gini=round(gini(needed), 4), distribution=distribution, flagged=flagged)


__all__ = ["coverage", "equity", "gini", "zones_for"]
