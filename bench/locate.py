"""Benchmark: bulk point-in-municipality lookups (IOLAOS vs bare shapely) and /zones/locate latency.

Run with ``make bench-locate`` or ``.venv/bin/python bench/locate.py [--points N] [--requests N]``.
Results and method are written up in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import shapely
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from iolaos.auth.actor import system_actor
from iolaos.config import Settings
from iolaos.db import make_engine
from iolaos.migrate import upgrade
from iolaos.zones import loading, service
from iolaos.zones.models import Zone

FULL_FILE = "greece_municipalities_kallikratis.geojson"
PG_URL = os.environ.get("IOLAOS_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/iolaos_bench")
SEED = 2021
Points = tuple[np.ndarray, np.ndarray]
_T0 = time.perf_counter()


def log(message: str) -> None:
    """A progress line with the elapsed time."""
    print(f"[{time.perf_counter() - _T0:6.1f}s] {message}", flush=True)


def best_of(repeat: int, fn: Callable[[], np.ndarray]) -> tuple[float, np.ndarray]:
    """The shortest wall time of ``repeat`` calls, and the last result."""
    best, result = float("inf"), np.empty(0)
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def first_hit(n: int, pt_idx: np.ndarray, poly_idx: np.ndarray) -> np.ndarray:
    """Per point the first matching polygon (in query order), or -1."""
    out = np.full(n, -1, dtype=np.int64)
    out[pt_idx[::-1]] = poly_idx[::-1]
    return out


def bare_within(tree: shapely.STRtree, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(a) One tree query with the exact predicate: GEOS tests each candidate pair."""
    pt_idx, poly_idx = tree.query(shapely.points(x, y), predicate="within")
    return first_hit(len(x), pt_idx, poly_idx)


def bare_contains(tree: shapely.STRtree, geoms: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(b) Envelope-only tree query, then vectorised ``contains_xy`` on the prepared polygons."""
    pt_idx, poly_idx = tree.query(shapely.points(x, y))
    inside = shapely.contains_xy(geoms[poly_idx], x[pt_idx], y[pt_idx])
    return first_hit(len(x), pt_idx[inside], poly_idx[inside])


def land_points(tree: shapely.STRtree, geoms: np.ndarray, n: int, rng: np.random.Generator) -> Points:
    """``n`` points uniform over the municipalities: sample the bounds, keep those inside one."""
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    xs, ys, have = [], [], 0
    while have < n:
        x, y = rng.uniform(x0, x1, 2 * n), rng.uniform(y0, y1, 2 * n)
        keep = bare_contains(tree, geoms, x, y) >= 0
        xs.append(x[keep])
        ys.append(y[keep])
        have += int(keep.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def load_database(settings: Settings) -> float:
    """Migrate ``settings``' database and load the 13 regions and full-resolution municipalities."""
    start = time.perf_counter()
    upgrade(settings)
    engine = make_engine(settings)
    try:
        loading.load_greece(engine, settings, actor=system_actor("bench"))
    finally:
        engine.dispose()
    return time.perf_counter() - start


def file_index(settings: Settings) -> tuple[shapely.STRtree, np.ndarray, list[str]]:
    """The full-resolution municipalities as read from the file (prepared), their STRtree and codes."""
    frame = loading.greece_frames(settings)["municipality"]
    geoms = np.asarray(frame.geometry.values, dtype=object)
    shapely.prepare(geoms)
    return shapely.STRtree(geoms), geoms, frame["ypes_code"].astype(str).tolist()


def bench_bulk(settings: Settings, index: tuple[shapely.STRtree, np.ndarray, list[str]], n: int,
               repeat: int) -> tuple[list[list[str]], float, float]:
    """Time IOLAOS's bulk path against bare shapely on land and bounding-box points."""
    tree, geoms, codes = index
    rng = np.random.default_rng(SEED)
    log(f"sampling {n:,} land points (seed {SEED})")
    sets = {"land": land_points(tree, geoms, n, rng)}
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    sets["bbox"] = (rng.uniform(x0, x1, n), rng.uniform(y0, y1, n))
    log(f"bounding box {x0:.3f},{y0:.3f},{x1:.3f},{y1:.3f}; "
        f"{int((bare_contains(tree, geoms, *sets['bbox']) >= 0).sum()):,} of the bbox points are on land")

    engine = make_engine(settings)
    rows: list[list[str]] = []
    land_rate = land_ratio = 0.0
    with Session(engine) as session:
        id_by_code = dict(session.execute(select(Zone.code, Zone.id).where(Zone.kind == "municipality")).all())
        row_to_id = np.array([id_by_code[c] for c in codes], dtype=np.int64)
        start = time.perf_counter()
        service.locate_many(session, sets["land"][0][:1], sets["land"][1][:1])
        log(f"IOLAOS index build (first locate_many: read {len(id_by_code)} municipalities + regions from SQLite, "
            f"STRtree, prepare): {time.perf_counter() - start:.2f}s, not in the timings below")
        for name, (x, y) in sets.items():
            start = time.perf_counter()
            service.locate_many(session, x, y)
            log(f"{name}: IOLAOS warm-up pass {time.perf_counter() - start:.2f}s "
                "(prepared polygons build their edge indexes lazily on first use)")
            bare_contains(tree, geoms, x, y)
            t_io, got = best_of(repeat, lambda x=x, y=y: service.locate_many(session, x, y))
            log(f"{name}: IOLAOS locate_many {n / t_io:,.0f} pts/s")
            t_b, ans_b = best_of(repeat, lambda x=x, y=y: bare_contains(tree, geoms, x, y))
            log(f"{name}: bare query + contains_xy {n / t_b:,.0f} pts/s")
            t_a, ans_a = best_of(repeat, lambda x=x, y=y: bare_within(tree, x, y))
            log(f"{name}: bare query(predicate='within') {n / t_a:,.0f} pts/s")
            mism_b = int((got != np.where(ans_b >= 0, row_to_id[ans_b], -1)).sum())
            mism_a = int((got != np.where(ans_a >= 0, row_to_id[ans_a], -1)).sum())
            pt_idx, poly_idx = tree.query(shapely.points(x, y))
            inside = shapely.contains_xy(geoms[poly_idx], x[pt_idx], y[pt_idx])
            multi = int((np.bincount(pt_idx[inside], minlength=n) > 1).sum())
            ratio = (n / t_io) / max(n / t_b, n / t_a)
            log(f"{name}: mismatches vs contains_xy {mism_b}, vs within {mism_a}; "
                f"{multi} points in 2+ municipalities; ratio {ratio:.2f}")
            rows += [[name, "IOLAOS `service.locate_many`", f"{n / t_io:,.0f}", f"{t_io:.3f}", f"{ratio:.2f}", "—"],
                     [name, "bare `tree.query` + `contains_xy`", f"{n / t_b:,.0f}", f"{t_b:.3f}", "", str(mism_b)],
                     [name, "bare `tree.query(predicate='within')`", f"{n / t_a:,.0f}", f"{t_a:.3f}", "",
                      str(mism_a)]]
            if name == "land":
                land_rate, land_ratio = n / t_io, ratio
    engine.dispose()
    return rows, land_rate, land_ratio


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(database_url: str) -> Iterator[str]:
    """``iolaos serve`` in a subprocess on a loopback port; yields its base URL."""
    port = free_port()
    env = {**os.environ, "IOLAOS_DATABASE_URL": database_url, "IOLAOS_LOG_LEVEL": "warning"}
    proc = subprocess.Popen([sys.executable, "-m", "iolaos.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server on {base} did not start")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def api_latency(database_url: str, points: Points, n: int) -> tuple[float, float, float]:
    """p50, p99 and mean latency (ms) of ``n`` sequential GET /api/v1/zones/locate requests."""
    x, y = points
    with server(database_url) as base, httpx.Client(base_url=base, timeout=30) as client:
        for i in range(20):  # warm-up: the first request builds the in-memory locators on SQLite
            client.get("/api/v1/zones/locate", params={"lon": x[i], "lat": y[i]}).raise_for_status()
        times = np.empty(n)
        for i in range(n):
            params = {"lon": f"{x[i]:.6f}", "lat": f"{y[i]:.6f}"}
            start = time.perf_counter()
            response = client.get("/api/v1/zones/locate", params=params)
            times[i] = time.perf_counter() - start
            if response.status_code != 200 or not response.json()["zones"]:
                raise RuntimeError(f"unexpected answer for {params}: {response.status_code} {response.text[:200]}")
    ms = times * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99)), float(ms.mean())


def pg_admin() -> Engine:
    """An autocommit engine on the server's ``postgres`` database."""
    return create_engine(make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT",
                         connect_args={"connect_timeout": 3})


def bench_postgis(points: Points, n: int) -> tuple[float, float, float] | None:
    """API latency on a scratch PostGIS database, created, loaded and dropped here; None if unreachable."""
    name = make_url(PG_URL).database
    admin = pg_admin()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        log(f"PostgreSQL at {PG_URL} unreachable ({type(exc).__name__}); skipping the PostGIS part")
        admin.dispose()
        return None
    try:
        settings = Settings(database_url=PG_URL, municipalities_file=FULL_FILE)
        log(f"PostGIS: loaded {name} in {load_database(settings):.1f}s; {n:,} requests")
        return api_latency(PG_URL, points, n)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        log(f"PostGIS: dropped {name}")


def main() -> None:
    """Run everything, print a summary table and, last, the IOLAOS/fastest-bare ratio on land."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=1_000_000, help="points per set (land, bbox)")
    parser.add_argument("--requests", type=int, default=2_000, help="API requests per backend (0: skip)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement (best is kept)")
    args = parser.parse_args()
    log(f"{os.cpu_count()} CPUs, shapely {shapely.__version__}, GEOS {shapely.geos_version_string}, "
        f"numpy {np.__version__}")
    with tempfile.TemporaryDirectory(prefix="iolaos-bench-") as tmp:
        settings = Settings(database_url=f"sqlite:///{Path(tmp) / 'bench.db'}", municipalities_file=FULL_FILE)
        log(f"SQLite: loaded regions + {FULL_FILE} in {load_database(settings):.1f}s")
        index = file_index(settings)
        rows, land_rate, land_ratio = bench_bulk(settings, index, args.points, args.repeat)
        api: dict[str, tuple[float, float, float] | None] = {}
        if args.requests > 0:
            points = land_points(index[0], index[1], args.requests + 20, np.random.default_rng(SEED + 1))
            log(f"SQLite: {args.requests:,} sequential GET /api/v1/zones/locate")
            api["SQLite"] = api_latency(settings.database_url, points, args.requests)
            api["PostGIS"] = bench_postgis(points, args.requests)
    print("\n| points | method | points/s | best time (s) | IOLAOS / fastest bare | answers ≠ IOLAOS |")
    print("|---|---|---:|---:|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if api:
        print("\n| backend | requests | p50 (ms) | p99 (ms) | mean (ms) |\n|---|---:|---:|---:|---:|")
        for backend, lat in api.items():
            cells = [f"{v:.2f}" for v in lat] if lat else ["skipped"] * 3
            print(f"| {backend} | {args.requests:,} | " + " | ".join(cells) + " |")
    print(f"\nratio iolaos/fastest-bare = {land_ratio:.2f} (iolaos {land_rate:,.0f} pts/s on land)")


if __name__ == "__main__":
    main()
