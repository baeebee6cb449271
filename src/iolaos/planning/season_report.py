"""The season report (equity over municipalities, the zone × day heatmap), its files, and the planner-vs-greedy check.

Everything is summed by SQL (:mod:`iolaos.planning.season`); Python only lays the results out: a few
hundred municipality totals into a Gini coefficient and a Lorenz curve, zone-day cells into a matrix.
"""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import date
from pathlib import Path
from time import perf_counter
from typing import Any

import geopandas as gpd
from sqlalchemy import Boolean, Date, Float, Integer, case, func, literal, select, union_all
from sqlmodel import Session, col

from iolaos.auth.principal import Principal
from iolaos.config import Settings
from iolaos.planning import baseline, optimiser, reports, season
from iolaos.planning import instance as builder
from iolaos.planning.core import evaluate
from iolaos.planning.season_schemas import (
    BaselineDay,
    BaselineOut,
    HeatmapOut,
    HeatZone,
    HoursOut,
    MunicipalityOut,
    SeasonOut,
)
from iolaos.risk import service as risk
from iolaos.zones.models import Zone

HOURS = ("need_hours", "weighted_need", "planned_hours", "staffed_hours", "patrolled_hours", "shortfall_hours",
         "weighted_shortfall")


def _rows(session: Session, settings: Settings, principal: Principal, start: date, end: date,
          region_code: str | None):
    principal.scope("coverage.read")
    season.period(start, end, settings.coverage_max_days)
    zones = reports.zones_for(session, principal, region_code)
    return season.zone_days(session, settings, start=start, end=end, zones=zones)


def _municipality_out(session: Session, totals: dict[int, dict[str, Any]]) -> list[MunicipalityOut]:
    """Municipalities with need, worst served (most risk-weighted shortfall) first."""
    tree = risk.zone_tree(session)
    found = {m: t for m, t in totals.items() if t["need_hours"] > 0}
    total = sum(t["weighted_shortfall"] for t in found.values()) or 1.0
    out = []
    for municipality_id, t in found.items():
        zone = tree.by_id[municipality_id]
        region = tree.region_of(zone.id)
        out.append(MunicipalityOut(
            code=zone.code, name_el=zone.name_el, name_en=zone.name_en, region_code=region.code if region else None,
            category=t["category"], days=t["days"], ratio=round(min(1.0, t["staffed_hours"] / t["need_hours"]), 4),
            share=round(t["weighted_shortfall"] / total, 4), **{k: round(t[k], 1) for k in HOURS}))
    return sorted(out, key=lambda m: (-m.weighted_shortfall, m.code))


def _municipalities(session: Session, rows) -> list[MunicipalityOut]:
    """Season totals per municipality (a GROUP BY)."""
    return _municipality_out(session, {t["id"]: t for t in season.totals(session, rows, "municipality_id")})


def _one_pass(session: Session, settings: Settings, start: date, end: date, zones: set[int] | None
              ) -> tuple[list[Any], dict[int, dict[str, Any]]]:
    """Every zone-day, and each municipality's season totals (a GROUP BY), from one statement: UNION ALL of
    both over the zone-day CTE, which the database computes once."""
    rows = season.zone_days(session, settings, start=start, end=end, zones=zones, as_cte=True)
    blank = {k: literal(None, Float).label(k) for k in HOURS}
    cells = select(literal(0).label("kind"), rows.c.zone_id.label("id"), rows.c.day, rows.c.category,
                   rows.c.inherited.label("inherited"), rows.c.municipality_id, literal(None, Integer).label("days"),
                   *[(rows.c[k] if k in ("need_hours", "shortfall_hours") else blank[k]).label(k) for k in HOURS])
    sums = (select(literal(1), rows.c.municipality_id, literal(None, Date), func.max(rows.c.category),
                   literal(None, Boolean), literal(None, Integer), func.sum(case((rows.c.required > 0, 1), else_=0)),
                   *[func.sum(rows.c[k]) for k in HOURS])
            .group_by(rows.c.municipality_id))
    found = session.execute(union_all(cells, sums)).all()
    totals = {r.id: {"category": r.category, "days": r.days, **{k: getattr(r, k) for k in HOURS}}
              for r in found if r.kind == 1}
    return [r for r in found if r.kind == 0], totals


def _heatmap(session: Session, cells: list[Any], days: list[date], order: dict[int, int]) -> HeatmapOut:
    tree = risk.zone_tree(session)
    cells = [c for c in cells if c.category is not None]
    municipality_of = {c.id: c.municipality_id for c in cells}
    needy = {c.id for c in cells if c.need_hours > 0}
    zone_ids = sorted(needy, key=lambda z: (order.get(municipality_of[z], 10**9), tree.by_id[z].code))
    row_of = {z: i for i, z in enumerate(zone_ids)}
    col_of = {d: i for i, d in enumerate(days)}
    unmet: list[list[float | None]] = [[None] * len(days) for _ in zone_ids]
    category: list[list[int | None]] = [[None] * len(days) for _ in zone_ids]
    source = [["."] * len(days) for _ in zone_ids]
    for c in cells:
        i = row_of.get(c.id)
        if i is None:
            continue
        j = col_of[c.day]
        category[i][j] = c.category
        source[i][j] = "i" if c.inherited else "o"
        if c.need_hours > 0:
            unmet[i][j] = round(c.shortfall_hours / c.need_hours, 3)
    zones = []
    for z in zone_ids:
        region = tree.region_of(z)
        info = tree.by_id[z]
        zones.append(HeatZone(code=info.code, name_el=info.name_el, name_en=info.name_en,
                              region_code=region.code if region else None))
    return HeatmapOut(days=days, zones=zones, unmet=unmet, category=category, source=["".join(r) for r in source])


def report(session: Session, settings: Settings, *, principal: Principal, start: date, end: date,
           region_code: str | None) -> SeasonOut:
    """Totals, the equity of the risk-weighted shortfall over municipalities, the worst served, the heatmap."""
    started = perf_counter()
    principal.scope("coverage.read")
    season.period(start, end, settings.coverage_max_days)
    zones = reports.zones_for(session, principal, region_code)
    cells, by_municipality = _one_pass(session, settings, start, end, zones)
    municipalities = _municipality_out(session, by_municipality)
    tree = risk.zone_tree(session)
    order = {tree.by_code()[m.code]: i for i, m in enumerate(municipalities)}
    heatmap = _heatmap(session, cells, season.period(start, end, settings.coverage_max_days), order)
    totals = HoursOut(**{k: round(sum(getattr(m, k) for m in municipalities), 1) for k in HOURS})
    shortfalls = [m.weighted_shortfall for m in municipalities]
    return SeasonOut(start=start, end=end, region_code=region_code, totals=totals,
                     zone_days=sum(m.days for m in municipalities), gini=round(season.gini(shortfalls), 4),
                     lorenz=season.lorenz(shortfalls), worst=municipalities[:settings.coverage_worst_zones],
                     municipalities=municipalities, heatmap=heatmap, seconds=round(perf_counter() - started, 3))


CSV_COLUMNS = ("date", "zone_code", "zone_name_el", "zone_name_en", "region_code", "category", "inherited",
               "required", "planned", "proposed", "staffed", "need_hours", "planned_hours", "staffed_hours",
               "patrolled_hours", "weight", "weighted_need", "shortfall_hours", "weighted_shortfall")


def _zone_day_records(session: Session, rows) -> list[dict[str, Any]]:
    tree = risk.zone_tree(session)
    out = []
    for r in session.execute(select(rows).order_by(rows.c.day, rows.c.zone_id)):
        zone = tree.by_id[r.zone_id]
        region = tree.region_of(r.zone_id)
        record = {k: getattr(r, k) for k in CSV_COLUMNS if hasattr(r, k)}
        record.update(date=r.day.isoformat(), zone_code=zone.code, zone_name_el=zone.name_el,
                      zone_name_en=zone.name_en, region_code=region.code if region else None,
                      inherited=bool(r.inherited) if r.category is not None else None)
        out.append({k: (round(v, 2) if isinstance(v, float) else v) for k, v in record.items()})
    return out


def csv_file(session: Session, settings: Settings, *, principal: Principal, start: date, end: date,
             region_code: str | None) -> bytes:
    """Every zone-day of the range as CSV (UTF-8 with a header row)."""
    records = _zone_day_records(session, _rows(session, settings, principal, start, end, region_code))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue().encode()


def geopackage(session: Session, settings: Settings, *, principal: Principal, start: date, end: date,
               region_code: str | None) -> bytes:
    """Two layers: ``municipalities`` (polygons with season totals) and ``zone_days`` (each zone-day at a point
    inside its zone, with a date field for QGIS's temporal controller)."""
    rows = _rows(session, settings, principal, start, end, region_code)
    municipalities = _municipalities(session, rows)
    records = _zone_day_records(session, rows)
    codes = {m.code for m in municipalities} | {r["zone_code"] for r in records}
    shapes = dict(session.execute(select(col(Zone.code), col(Zone.geom))
                                  .where(col(Zone.code).in_(codes or {""}))).all())
    polygons = gpd.GeoDataFrame([m.model_dump() for m in municipalities] or {"code": []},
                                geometry=[shapes[m.code] for m in municipalities], crs="EPSG:4326")
    points = {code: geom.representative_point() for code, geom in shapes.items()}
    zone_days = gpd.GeoDataFrame(records or {"zone_code": []}, geometry=[points[r["zone_code"]] for r in records],
                                 crs="EPSG:4326")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "season.gpkg"
        polygons.to_file(path, layer="municipalities", driver="GPKG", engine="pyogrio")
        zone_days.to_file(path, layer="zone_days", driver="GPKG", engine="pyogrio", append=True)
        return path.read_bytes()


def compare_baseline(session: Session, settings: Settings, *, principal: Principal, start: date, end: date,
                     region_code: str | None) -> BaselineOut:
    """On the days with zone-days of category 4–5 staffed below half (most such zone-days first, at most
    IOLAOS_COVERAGE_BASELINE_DAYS), plan those zones as the planner would now — the places of requirements no
    planned or staffed patrol meets, and the open places of those that do — with the optimiser and with the
    greedy baseline, on the same instance; nothing is written."""
    rows = _rows(session, settings, principal, start, end, region_code)
    flagged = session.execute(select(rows.c.day, rows.c.zone_id).where(
        rows.c.category >= reports.HIGH_RISK, rows.c.required > 0, rows.c.staffed * 2 < rows.c.required)).all()
    by_day: dict[date, set[int]] = {}
    for day, zone_id in flagged:
        by_day.setdefault(day, set()).add(zone_id)
    chosen = sorted(by_day, key=lambda d: (-len(by_day[d]), d))[:settings.coverage_baseline_days]
    tree = risk.zone_tree(session)
    days = []
    for day in sorted(chosen):
        instance = builder.build(session, settings, day, by_day[day], None).instance
        planner = evaluate(instance, optimiser.assign(instance).placements)
        greedy = evaluate(instance, baseline.greedy(instance))
        days.append(BaselineDay(date=day, zone_codes=sorted(tree.by_id[z].code for z in by_day[day]),
                                places=planner.places, planner_filled=planner.filled, greedy_filled=greedy.filled,
                                planner_coverage=planner.coverage, greedy_coverage=greedy.coverage))
    return BaselineOut(start=start, end=end, region_code=region_code, days=days,
                       days_not_compared=len(by_day) - len(chosen), places=sum(d.places for d in days),
                       planner_filled=sum(d.planner_filled for d in days),
                       greedy_filled=sum(d.greedy_filled for d in days),
                       planner_coverage=sum(d.planner_coverage for d in days),
                       greedy_coverage=sum(d.greedy_coverage for d in days))
