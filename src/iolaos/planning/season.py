"""Season analytics in SQL: per zone × day the risk-weighted need against planned, staffed and patrolled hours.

One statement (:func:`zone_days`) is the source of the coverage report, the equity distribution and the
season report, so they cannot disagree. Days are Europe/Athens days: a patrol belongs to the local day its
shift starts in (PostgreSQL converts with its time-zone database; SQLite, which stores naive UTC, adds
Athens' offset piecewise between the DST transitions of the range, taken from zoneinfo).

Need is what the coverage policy in force now requires for the zone's effective category (the policy's
history is not replayed), in crew places and person-hours (nominal shift lengths); a zone-day's shortfall is
its person-hours not staffed (accepted, checked in or out), weighted by the category's risk weight.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    CTE,
    Date,
    Float,
    Subquery,
    and_,
    case,
    exists,
    func,
    literal,
    select,
    text,
    type_coerce,
    union,
    union_all,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from iolaos.config import Settings
from iolaos.errors import InvalidInput
from iolaos.kit.time import UtcDateTime, utcnow
from iolaos.patrols.models import Assignment, Patrol
from iolaos.planning import instance as builder
from iolaos.planning import policy
from iolaos.risk import service as risk
from iolaos.zones.models import Zone

STAFFED = ("accepted", "checked_in", "checked_out")


def period(start: date, end: date, max_days: int) -> list[date]:
    """The days of [start, end]; 422 when reversed or longer than ``max_days`` (a season by default)."""
    builder.check_day(start)
    builder.check_day(end)
    if end < start or (end - start).days >= max_days:
        raise InvalidInput(f"end must be on or after start, at most {max_days} days", code="invalid_period")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _offsets(lo: datetime, hi: datetime) -> list[tuple[datetime, timedelta]]:
    """(until, Athens offset) segments covering [lo, hi): the offset changes only at DST transitions."""
    segments: list[tuple[datetime, timedelta]] = []
    moment = lo.replace(minute=0, second=0, microsecond=0)
    current = moment.astimezone(policy.ATHENS).utcoffset()
    while moment < hi:
        moment += timedelta(hours=1)
        offset = moment.astimezone(policy.ATHENS).utcoffset()
        if offset != current:
            segments.append((moment, current))  # type: ignore[arg-type]
            current = offset
    segments.append((hi, current))  # type: ignore[arg-type]
    return segments


def local_day(session: Session, column: Any, lo: datetime, hi: datetime) -> ColumnElement:
    """The Europe/Athens calendar day of a UTC timestamp column, in SQL (for instants in [lo, hi))."""
    if _dialect(session) == "postgresql":
        return func.date(func.timezone(policy.ATHENS.key, column))
    segments = [(until, f"{int(off.total_seconds() // 60):+d} minutes") for until, off in _offsets(lo, hi)]
    if len(segments) == 1:
        return func.date(column, segments[0][1])
    shift = case(*[(column < literal(until, UtcDateTime()), text) for until, text in segments[:-1]],
                 else_=segments[-1][1])
    return func.date(column, shift)


def _hours(session: Session, column: Any) -> ColumnElement:
    """A timestamp as hours since an epoch, in SQL (differences of two are durations in hours)."""
    if _dialect(session) == "postgresql":
        return func.date_part("epoch", column) / 3600.0  # float8 (EXTRACT gives slower numeric since PG 14)
    return func.julianday(column) * 24.0


def _least(session: Session, a: Any, b: Any) -> ColumnElement:
    return func.least(a, b) if _dialect(session) == "postgresql" else func.min(a, b)


def _shift_hours(shift: str) -> float:
    start, end = (time.fromisoformat(x) for x in shift.split("-"))
    minutes = (end.hour * 60 + end.minute - start.hour * 60 - start.minute) % (24 * 60)
    return (minutes or 24 * 60) / 60


def _need_table(session: Session, settings: Settings) -> Subquery:
    """(region_key, category, places, hours, weight) of the policy in force; region_key 0 is national."""
    tree = risk.zone_tree(session)
    regions: list[int | None] = [None, *sorted(z.id for z in tree.by_id.values() if z.kind == "region")]
    weights = settings.planning_risk_weights
    parts = []
    for region_id in regions:
        for category, (rule, _, _) in policy.effective(session, region_id).items():
            per_patrol = rule.patrols_per_zone * rule.crew_size
            parts.append(select(literal(region_id or 0).label("region_key"), literal(category).label("category"),
                                literal(per_patrol * len(rule.shifts)).label("places"),
                                literal(per_patrol * sum(_shift_hours(s) for s in rule.shifts), Float).label("hours"),
                                literal(weights.get(category, 1)).label("weight")))
    return union_all(*parts).subquery("need")


def _zone_info(closure: CTE) -> CTE:
    """zone → its region and its municipality (itself for one; NULL above), one row per zone."""
    anc = aliased(Zone)
    region = func.max(case((col(anc.kind) == "region", closure.c.anc)))
    municipality = func.max(case((col(anc.kind) == "municipality", closure.c.anc)))
    return (select(closure.c.des.label("zone_id"), region.label("region_id"), municipality.label("municipality_id"))
            .join(anc, col(anc.id) == closure.c.anc).group_by(closure.c.des).cte("zone_info"))


def zone_days(session: Session, settings: Settings, *, start: date, end: date, zones: set[int] | None,
              now: datetime | None = None, as_cte: bool = False) -> Subquery | CTE:
    """Per zone × day of [start, end] with a category or a patrol: category, inherited, required places,
    need / planned / staffed / patrolled hours, proposed and staffed places, risk weight and weighted shortfall."""
    if _dialect(session) == "postgresql":  # for this transaction only; the value is checked by the settings
        session.execute(text(f"SET LOCAL work_mem = '{settings.coverage_work_mem}'"))
        # A parallel plan makes every worker build the whole per-patrol crew hash again (measured: slower and
        # twice the CPU on the 2-core target); one process does this statement best.
        session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    closure = risk.zone_closure()
    eff = risk.effective_query(start, end, closure).subquery("eff")
    info = _zone_info(closure)
    need = _need_table(session, settings)
    child = aliased(Zone)
    leaves = (select(col(Zone.id)).where(~exists(select(col(child.id)).where(col(child.parent_id) == Zone.id)))
              .cte("leaves"))
    cells = (select(eff.c.zone_id, eff.c.day, eff.c.category, eff.c.depth,
                    func.coalesce(need.c.places, 0).label("required"), func.coalesce(need.c.hours, 0.0).label("hours"),
                    func.coalesce(need.c.weight, 1).label("weight"))
             .join(leaves, leaves.c.id == eff.c.zone_id)
             .join(info, info.c.zone_id == eff.c.zone_id)
             .outerjoin(need, and_(need.c.region_key == func.coalesce(info.c.region_id, 0),
                                   need.c.category == eff.c.category)))
    if zones is not None:
        cells = cells.where(eff.c.zone_id.in_(zones))
    cells_q = cells.cte("cells")  # referenced twice: computed once
    done = _patrol_sums(session, start, end, zones, now or utcnow())
    keys = union(select(cells_q.c.zone_id, cells_q.c.day), select(done.c.zone_id, done.c.day)).subquery("keys")
    need_hours = func.coalesce(cells_q.c.hours, 0.0)
    staffed_hours = func.coalesce(done.c.staffed_hours, 0.0)
    gap = need_hours - staffed_hours
    shortfall = case((gap > 0, gap), else_=0.0)
    weight = func.coalesce(cells_q.c.weight, 0)
    query = (select(keys.c.zone_id, type_coerce(keys.c.day, Date).label("day"), cells_q.c.category,
                   (func.coalesce(cells_q.c.depth, 0) > 0).label("inherited"),
                   func.coalesce(cells_q.c.required, 0).label("required"), need_hours.label("need_hours"),
                   weight.label("weight"), func.coalesce(done.c.planned, 0).label("planned"),
                   func.coalesce(done.c.planned_hours, 0.0).label("planned_hours"),
                   func.coalesce(done.c.proposed, 0).label("proposed"),
                   func.coalesce(done.c.staffed, 0).label("staffed"),
                   staffed_hours.label("staffed_hours"),
                   func.coalesce(done.c.patrolled_hours, 0.0).label("patrolled_hours"),
                   (weight * need_hours).label("weighted_need"), shortfall.label("shortfall_hours"),
                   (weight * shortfall).label("weighted_shortfall"),
                   func.coalesce(info.c.municipality_id, keys.c.zone_id).label("municipality_id"))
            .outerjoin(cells_q, and_(cells_q.c.zone_id == keys.c.zone_id, cells_q.c.day == keys.c.day))
            .outerjoin(done, and_(done.c.zone_id == keys.c.zone_id, done.c.day == keys.c.day))
            .outerjoin(info, info.c.zone_id == keys.c.zone_id))
    return query.cte("zone_days") if as_cte else query.subquery("zone_days")


def _patrol_sums(session: Session, start: date, end: date, zones: set[int] | None, now: datetime) -> CTE:
    """Per zone and local day: planned places and hours; proposed, staffed, staffed and patrolled hours.

    Crews are summed per patrol first (a narrow GROUP BY over assignments), so that each patrol's local day
    is worked out once. Patrolled hours: check-in to check-out; still checked in: to the shift's end or now."""
    lo, hi = builder.day_bounds(start)[0], builder.day_bounds(end)[1]
    where: list[ColumnElement[bool]] = [col(Patrol.status) != "cancelled", col(Patrol.shift_start) >= lo,
                                        col(Patrol.shift_start) < hi]
    if zones is not None:
        where.append(col(Patrol.zone_id).in_(zones))
    hours = lambda column: _hours(session, column)  # noqa: E731
    checked_in, checked_out = col(Assignment.checked_in_at).is_not(None), col(Assignment.checked_out_at).is_not(None)
    still_in = and_(checked_in, ~checked_out)
    crews = (select(col(Assignment.patrol_id),
                    func.sum(case((col(Assignment.status) == "proposed", 1), else_=0)).label("proposed"),
                    func.sum(case((col(Assignment.status).in_(STAFFED), 1), else_=0)).label("staffed"),
                    func.sum(case((and_(checked_in, checked_out),
                                   hours(col(Assignment.checked_out_at)) - hours(col(Assignment.checked_in_at))),
                                  else_=0.0))
                    .label("done_hours"),
                    func.sum(case((still_in, 1), else_=0)).label("open_n"),
                    func.sum(case((still_in, hours(col(Assignment.checked_in_at))), else_=0.0)).label("open_in"))
             .where(col(Assignment.patrol_id).in_(select(col(Patrol.id)).where(*where)))
             .group_by(col(Assignment.patrol_id)).cte("crews"))
    day = local_day(session, Patrol.shift_start, lo, hi)
    length = hours(Patrol.shift_end) - hours(Patrol.shift_start)
    staffed = func.coalesce(crews.c.staffed, 0)
    still = (func.coalesce(crews.c.open_n, 0) * hours(_least(session, Patrol.shift_end, literal(now, UtcDateTime())))
             - func.coalesce(crews.c.open_in, 0.0))
    patrolled = func.coalesce(crews.c.done_hours, 0.0) + case((still > 0, still), else_=0.0)
    return (select(col(Patrol.zone_id), day.label("day"), func.sum(col(Patrol.crew_size)).label("planned"),
                   func.sum(col(Patrol.crew_size) * length).label("planned_hours"),
                   func.sum(func.coalesce(crews.c.proposed, 0)).label("proposed"), func.sum(staffed).label("staffed"),
                   func.sum(staffed * length).label("staffed_hours"), func.sum(patrolled).label("patrolled_hours"))
            .outerjoin(crews, crews.c.patrol_id == col(Patrol.id)).where(*where)
            .group_by(col(Patrol.zone_id), day).cte("patrols"))


SUMS = ("required", "planned", "proposed", "staffed", "need_hours", "planned_hours", "staffed_hours",
        "patrolled_hours", "weighted_need", "shortfall_hours", "weighted_shortfall")


def totals(session: Session, rows: Subquery, by: str) -> list[dict[str, Any]]:
    """Sums over the period per ``by`` ('zone_id' or 'municipality_id'), with the highest category and the
    number of zone-days with need — one GROUP BY in SQL."""
    key = rows.c[by]
    query = (select(key.label("id"), func.max(rows.c.category).label("category"),
                    func.sum(case((rows.c.required > 0, 1), else_=0)).label("days"),
                    *[func.sum(rows.c[name]).label(name) for name in SUMS])
             .group_by(key))
    return [dict(r._mapping) for r in session.execute(query)]


def gini(values: list[float]) -> float:
    """Gini coefficient of non-negative values: 0 when equal (also when all are 0), towards 1 when concentrated."""
    xs = sorted(max(0.0, float(v)) for v in values)
    n, total = len(xs), sum(xs)
    if n == 0 or total <= 0:
        return 0.0
    weighted = sum((i + 1) * x for i, x in enumerate(xs))
    return (2 * weighted) / (n * total) - (n + 1) / n


def lorenz(values: list[float]) -> list[tuple[float, float]]:
    """Lorenz curve points (share of municipalities, share of the total), from (0, 0) to (1, 1)."""
    xs = sorted(max(0.0, float(v)) for v in values)
    total = sum(xs)
    points, running = [(0.0, 0.0)], 0.0
    for i, x in enumerate(xs, start=1):
        running += x
        points.append((round(i / len(xs), 4), round(running / total, 4) if total > 0 else round(i / len(xs), 4)))
    return points

