"""Benchmark: a national fire season (184 days, 326 municipalities, ~1,000 patrols a day) and its season report.

Builds the database once (Greece's boundaries, the demo actors, one volunteer organisation of 400 people per
region, then ``iolaos.demo.season.fill`` day by day), then times the season report (GET /coverage/season's
service: one SQL statement for every zone-day, equity over municipalities, the heatmap) and its JSON encoding,
the coverage report and the equity view over the same season. Target on PostgreSQL/PostGIS: ≤ 2 s.

    .venv/bin/python bench/season.py --backend postgresql [--url URL] [--patrols 1000] [--reuse] [--runs 3]
    .venv/bin/python bench/season.py --backend sqlite [--url sqlite:////tmp/season.db] [--reuse]

Results and method: docs/benchmarks.md ("A season at a glance").
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from datetime import date

import numpy as np
import shapely
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from iolaos.auth.actor import system_actor
from iolaos.auth.models import User
from iolaos.auth.principal import Principal
from iolaos.config import Settings
from iolaos.db import make_engine, session_scope
from iolaos.demo import season as demo_season
from iolaos.demo import seed
from iolaos.kit.time import utcnow
from iolaos.migrate import upgrade
from iolaos.organisations.models import Organisation
from iolaos.patrols.models import Assignment, Patrol
from iolaos.planning import reports, season_report
from iolaos.risk import service as risk
from iolaos.risk.models import RiskLevel
from iolaos.volunteers.models import Volunteer
from iolaos.zones import loading
from iolaos.zones.models import Zone

PG_URL = os.environ.get("IOLAOS_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/iolaos_bench_season")
PER_REGION = 400
YEAR = 2026


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _create(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and os.path.exists(parsed.database):
            os.unlink(parsed.database)
        return
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def _volunteers(engine) -> int:
    """One volunteer organisation of PER_REGION people per region, homes spread over the region."""
    rng = np.random.default_rng(5)
    now = utcnow()
    with session_scope(engine) as session:
        tree = risk.zone_tree(session)
        national = session.scalar(select(Organisation.id).where(Organisation.parent_id.is_(None)))
        rows = []
        for region in (z for z in tree.by_id.values() if z.kind == "region"):
            org = Organisation(kind="volunteer_org", name_el=f"Εθελοντές {region.name_el}",
                               name_en=f"Volunteers of {region.name_en}", parent_id=national, region_id=region.id,
                               registry_number=f"B{region.id}", action_categories="FPA,FFA")
            session.add(org)
            session.flush()
            geom = session.get(Zone, region.id).geom
            minx, miny, maxx, maxy = geom.bounds
            for i in range(PER_REGION):
                point = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
                rows.append({"organisation_id": org.id, "full_name": f"Εθελοντής {region.code}-{i}",
                             "home_base": point, "status": "available", "created_at": now, "updated_at": now})
        session.execute(insert(Volunteer), rows)
        return len(rows)


def build(url: str, patrols: int) -> None:
    """A fresh database with a national season."""
    _create(url)
    settings = Settings(database_url=url)
    started = time.perf_counter()
    upgrade(settings)
    engine = make_engine(settings)
    loading.load_greece(engine, settings, actor=system_actor("bench"))
    with session_scope(engine) as session:
        seed.seed(session)
    print(f"boundaries and demo actors: {time.perf_counter() - started:.1f} s; "
          f"{_volunteers(engine)} bench volunteers")
    days = demo_season.season_days(YEAR)
    started = time.perf_counter()
    done = [0]

    def progress(n: int) -> None:
        done[0] += n
        if done[0] % 23 == 0 or done[0] == len(days):
            print(f"  filled {done[0]}/{len(days)} days ({time.perf_counter() - started:.0f} s)", flush=True)

    counts = demo_season.fill(engine, settings, days=days, patrols_per_day=patrols, positions_share=0.0,
                              availability=False,
                              progress=progress)
    print(f"season filled in {time.perf_counter() - started:.0f} s: {counts.risk_levels} risk levels, "
          f"{counts.patrols} patrols, {counts.assignments} crew places")
    with engine.connect() as conn:  # fresh statistics, as autovacuum would gather after a bulk load
        conn.execute(text("ANALYZE"))
        conn.commit()
    engine.dispose()


def _admin(session) -> Principal:
    user = session.scalar(select(User).where(User.username == "admin"))
    org = session.get(Organisation, user.organisation_id)
    return Principal(user_id=user.id, username=user.username, full_name=user.full_name, role=user.role,
                     organisation_id=org.id, organisation_kind=org.kind, region_id=org.region_id)


def timed(label: str, runs: int, call) -> tuple[float, object]:
    """Median wall time of ``runs`` calls (each in a fresh session)."""
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    print(f"{label:<34} median {statistics.median(times):.3f} s  (runs: {', '.join(f'{t:.3f}' for t in times)})")
    return statistics.median(times), result


def measure(url: str, runs: int) -> None:
    """Time the season report and its neighbours over the whole season, nationally and for one region."""
    settings = Settings(database_url=url)
    engine = make_engine(settings)
    start, end = date(YEAR, 5, 1), date(YEAR, 10, 31)
    with session_scope(engine) as session:
        print(f"data: {session.scalar(select(func.count()).select_from(Patrol))} patrols, "
              f"{session.scalar(select(func.count()).select_from(Assignment))} crew places, "
              f"{session.scalar(select(func.count()).select_from(RiskLevel))} risk levels")
    before = rss_mb()

    def season(region: str | None = None):
        with session_scope(engine) as session:
            out = season_report.report(session, settings, principal=_admin(session), start=start, end=end,
                                       region_code=region)
            return out, len(out.model_dump_json())

    def coverage():
        with session_scope(engine) as session:
            return len(reports.coverage(session, settings, principal=_admin(session), start=start, end=end,
                                        region_code=None))

    def equity():
        with session_scope(engine) as session:
            return reports.equity(session, settings, principal=_admin(session), start=start, end=end,
                                  region_code=None).municipalities

    seconds, (out, size) = timed("season report, national (+ JSON)", runs, season)
    print(f"  {out.zone_days} zone-days with need, {len(out.municipalities)} municipalities, heatmap "
          f"{len(out.heatmap.zones)}×{len(out.heatmap.days)}, JSON {size / 1e6:.1f} MB, Gini {out.gini}, "
          f"in-service {out.seconds:.3f} s")
    timed("season report, Attica", runs, lambda: season("GR-I"))
    timed("coverage report, national season", runs, coverage)
    timed("equity, national season", runs, equity)
    print(f"peak RSS {rss_mb():.0f} MB (before the reports: {before:.0f} MB)")
    engine.dispose()
    print(f"RESULT season_report_seconds={seconds:.3f}")


def main() -> int:
    """Build (unless --reuse) and measure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--url", default=None)
    parser.add_argument("--patrols", type=int, default=1000, help="patrols a day (nationally)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="measure an existing database")
    args = parser.parse_args()
    url = args.url or (PG_URL if args.backend == "postgresql" else "sqlite:////tmp/iolaos_bench_season.db")
    print(f"database: {make_url(url).render_as_string(hide_password=True)}")
    if not args.reuse:
        build(url, args.patrols)
    measure(url, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
