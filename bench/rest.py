"""Cost of a request, as a ratio to a trivial FastAPI app under the same server and load generator (issue 19).

    .venv/bin/python bench/rest.py [--backends sqlite,postgresql] [--seconds 8] [--connections 32] [--rounds 2]
                                   [--patrols 200] [--positions 30] [--pg-url URL] [--json PATH]

Absolute requests per second say more about the machine than about the service, and on a shared machine they
move by a factor of two from one minute to the next. So this benchmark always measures a trivial app
(``GET /ping`` answering ``{"ok": true}``, in :data:`trivial_app` below) right beside IOLAOS, with the same uvicorn
command line (one process, its default event loop and HTTP parser), the same ``wrk`` (one thread, loopback),
interleaved: every IOLAOS measurement is divided by the trivial app's measurement of the same round, taken
seconds before it. Requires ``wrk`` (``apt-get install wrk``).

Per backend: a scratch database (SQLite file in a temporary folder, or ``<--pg-url database>_<pid>`` on
PostgreSQL, dropped at the end) with Greece's regions and municipalities, the demo actors, ``--patrols`` active
patrols in Central Greece with ``--positions`` positions each, and one incident; the caller is the Central
Greece dispatcher (bearer token).

* throughput: ``wrk -t1 -c<connections>`` for ``--seconds`` on the trivial app and on each IOLAOS request;
  ratio = IOLAOS req/s ÷ trivial req/s of the same round (the worst round is reported);
* CPU: the server process's CPU milliseconds per request during those runs (``/proc``), and the CPU ratio =
  trivial app's CPU per request ÷ IOLAOS's (the best round): what the throughput ratio would be on a machine of
  its own, and much steadier than it when other work shares the cores;
* latency: ``wrk -t1 -c1``, p50 and p99 of one connection (no queueing: the cost of one request);
* the list and the detail twice: as a console reads them between changes (served from the answer cache,
  ``iolaos.answers``) and computed afresh (``Cache-Control: no-cache``), as the first read after a change is;
* heavy reads (one connection): OGC ``tracks`` of all the patrols, ``/api/v1/zones?kind=municipality`` with
  simplified geometry (zoom 8) and with full geometry, both gzip-compressed as a browser asks for them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
DEFAULT_PG = os.environ.get("IOLAOS_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/iolaos_bench_rest")

trivial_app = FastAPI()


@trivial_app.get("/ping")
async def ping() -> dict[str, bool]:
    """The least a FastAPI route can do."""
    return {"ok": True}


@dataclass(frozen=True)
class Target:
    """One request the benchmark makes."""

    name: str
    path: str
    auth: bool = True
    gzip: bool = False
    fresh: bool = False  # Cache-Control: no-cache: computed afresh, as the first read after a change is


# --------------------------------------------------------------------------------------------------- preparing
def prepare(database_url: str, patrols: int, positions: int) -> str:
    """Greece, the demo actors, ``patrols`` active patrols with ``positions`` positions each; the console token."""
    from ingest import prepare as prepare_patrols
    from shapely.geometry import Point
    from sqlalchemy import insert

    from iolaos.config import Settings
    from iolaos.db import make_engine, session_scope
    from iolaos.field.models import PositionReport
    from iolaos.kit.time import utcnow
    from iolaos.patrols.models import Assignment

    crews, token = prepare_patrols(database_url, patrols)
    engine = make_engine(Settings(database_url=database_url))
    now = utcnow()
    with session_scope(engine) as session:
        volunteers = dict(session.execute(
            Assignment.__table__.select().with_only_columns(Assignment.patrol_id, Assignment.volunteer_id)).all())
        rows = [{"patrol_id": c.patrol_id, "volunteer_id": volunteers[c.patrol_id],
                 "at": now - timedelta(seconds=5 * (positions - k)), "received_at": now,
                 "point": Point(c.lon + 0.0005 * k, c.lat + 0.0003 * k), "accuracy_m": 10.0}
                for c in crews for k in range(positions)]
        session.execute(insert(PositionReport.__table__), rows)
    engine.dispose()
    return token


# ----------------------------------------------------------------------------------------------------- servers
def _free_port() -> int:
    from ingest import _free_port as free

    return free()


def start(app: str, env: dict[str, str], factory: bool) -> tuple[subprocess.Popen[bytes], str]:
    """One uvicorn process on a free loopback port, ready to serve; (process, base URL)."""
    import httpx

    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", *(["--factory"] if factory else []), app, "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "warning", "--no-access-log", "--app-dir", str(ROOT / "bench")]
    proc = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{app} exited with {proc.returncode}")
        try:
            if httpx.get(base + ("/healthz" if factory else "/ping"), timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{app} not ready in 60 s")
        time.sleep(0.1)


# ----------------------------------------------------------------------------------------------------- wrk
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(url: str, *, connections: int, seconds: float, headers: dict[str, str]) -> dict[str, float]:
    """Requests/s, p50 and p99 (ms) and non-2xx count of one ``wrk`` run."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", "10s"]
    for key, value in headers.items():
        command += ["-H", f"{key}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    pct = {int(p): float(v) * _UNITS[u] for p, v, u in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failures = (int(bad.group(1)) if bad else 0) + (sum(int(g) for g in errors.groups()) if errors else 0)
    return {"rps": rate, "p50_ms": pct.get(50, float("nan")), "p99_ms": pct.get(99, float("nan")),
            "failures": failures}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(proc: subprocess.Popen[bytes], url: str, **kwargs: Any) -> dict[str, float]:
    """``wrk`` against the server ``proc``, with the server's CPU milliseconds per request: on a shared machine
    requests per second follow the other tenants, CPU time per request much less so."""
    before = cpu_seconds(proc.pid)
    found = wrk(url, **kwargs)
    used = cpu_seconds(proc.pid) - before
    requests = found["rps"] * kwargs["seconds"]
    return {**found, "cpu_ms": used * 1e3 / requests if requests else float("nan")}


def _check(url: str, headers: dict[str, str]) -> int:
    """Status and size of one request (so a benchmark of a 401 or 404 is noticed)."""
    import httpx

    resp = httpx.get(url, headers=headers, timeout=30)
    if resp.status_code != 200:
        raise RuntimeError(f"{url}: {resp.status_code} {resp.text[:200]}")
    return len(resp.content)


# --------------------------------------------------------------------------------------------------------- run
def targets(incident_id: int) -> tuple[list[Target], list[Target]]:
    """(light requests measured against the trivial app, heavy reads measured with one connection)."""
    light = [Target("incidents list (dispatcher, open)", "/api/v1/incidents?open=true"),
             Target("incident detail (dispatcher)", f"/api/v1/incidents/{incident_id}"),
             Target("incidents list, computed afresh (no-cache)", "/api/v1/incidents?open=true", fresh=True),
             Target("incident detail, computed afresh (no-cache)", f"/api/v1/incidents/{incident_id}", fresh=True),
             Target("zone without geometry (public)", "/api/v1/zones/9150?geometry=false", auth=False),
             Target("/healthz", "/healthz", auth=False)]
    heavy = [Target("OGC tracks, all active patrols", "/ogc/collections/tracks/items?limit=1000", gzip=True),
             Target("zones?kind=municipality, zoom 8, gzip",
                    "/api/v1/zones?kind=municipality&limit=1000&zoom=8", auth=False, gzip=True),
             Target("zones?kind=municipality, full geometry, gzip",
                    "/api/v1/zones?kind=municipality&limit=1000", auth=False, gzip=True)]
    return light, heavy


def bench_backend(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Prepare a database on ``name``, start both servers, measure, tear down."""
    import httpx
    from ingest import create_database, drop_database

    folder = Path(tempfile.mkdtemp(prefix="iolaos-rest-"))
    url = f"sqlite:///{folder / 'rest.db'}" if name == "sqlite" else create_database(args.pg_url)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        began = time.monotonic()
        token = prepare(url, args.patrols, args.positions)
        print(f"rest[{name}]: database ready in {time.monotonic() - began:.0f} s", flush=True)
        clean = {k: v for k, v in os.environ.items() if not k.startswith("IOLAOS_")}
        env = {**clean, "IOLAOS_DATABASE_URL": url, "IOLAOS_FIELD_SWEEP_SECONDS": "0", "IOLAOS_FANOUT": "memory",
               "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), clean.get("PYTHONPATH", "")])}
        trivial, trivial_base = start("rest:trivial_app", clean, factory=False)
        procs.append(trivial)
        server, base = start("iolaos.app:create_app", env, factory=True)
        procs.append(server)
        auth = {"Authorization": f"Bearer {token}"}
        made = httpx.post(base + "/api/v1/incidents", headers=auth, timeout=30,
                          json={"kind": "smoke", "severity": "medium", "point": {"type": "Point",
                                                                                 "coordinates": [23.6, 38.6]}})
        made.raise_for_status()
        light, heavy = targets(made.json()["id"])
        headers = {t.name: {**(auth if t.auth else {}), **({"Accept-Encoding": "gzip"} if t.gzip else {}),
                            **({"Cache-Control": "no-cache"} if t.fresh else {})} for t in light + heavy}
        sizes = {t.name: _check(base + t.path, headers[t.name]) for t in light + heavy}
        rounds: list[dict[str, Any]] = []
        for r in range(args.rounds):
            found: dict[str, Any] = {}
            for target in light:  # the trivial app right before each IOLAOS request: same conditions
                ref = measured(trivial, trivial_base + "/ping", connections=args.connections, seconds=args.seconds,
                               headers={})
                got = measured(server, base + target.path, connections=args.connections, seconds=args.seconds,
                               headers=headers[target.name])
                one = wrk(base + target.path, connections=1, seconds=max(args.seconds / 2, 2),
                          headers=headers[target.name])
                found[target.name] = {"trivial_rps": ref["rps"], "rps": got["rps"], "ratio": got["rps"] / ref["rps"],
                                      "cpu_ms": got["cpu_ms"], "trivial_cpu_ms": ref["cpu_ms"],
                                      "cpu_ratio": ref["cpu_ms"] / got["cpu_ms"],
                                      "p50_1conn_ms": one["p50_ms"], "p99_1conn_ms": one["p99_ms"],
                                      "failures": ref["failures"] + got["failures"] + one["failures"]}
                print(f"rest[{name}] round {r + 1}: {target.name}: {got['rps']:.0f} req/s vs trivial "
                      f"{ref['rps']:.0f} ({got['rps'] / ref['rps']:.2f}×), p50 {one['p50_ms']:.2f} ms; CPU "
                      f"{got['cpu_ms']:.2f} vs {ref['cpu_ms']:.3f} ms/request "
                      f"({ref['cpu_ms'] / got['cpu_ms']:.2f}×)", flush=True)
            for target in heavy:
                one = wrk(base + target.path, connections=1, seconds=max(args.seconds / 2, 2),
                          headers=headers[target.name])
                found[target.name] = {"p50_1conn_ms": one["p50_ms"], "p99_1conn_ms": one["p99_ms"],
                                      "rps": one["rps"], "failures": one["failures"]}
                print(f"rest[{name}] round {r + 1}: {target.name}: p50 {one['p50_ms']:.1f} ms, "
                      f"p99 {one['p99_ms']:.1f} ms", flush=True)
            rounds.append(found)
        return {"backend": name, "rounds": rounds, "sizes": sizes, "patrols": args.patrols,
                "positions_per_patrol": args.positions}
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)
        if name == "sqlite":
            shutil.rmtree(folder, ignore_errors=True)
        else:
            drop_database(args.pg_url, url)


def table(results: list[dict[str, Any]]) -> str:
    """The Markdown table of docs/benchmarks.md: per request and backend, the worst round's ratio."""
    lines = ["| request | backend | req/s (32 conn.) | trivial app req/s | ratio (worst round) | CPU ms/request "
             "(trivial) | CPU ratio (best round) | p50, 1 conn. | p99, 1 conn. | bytes |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for result in results:
        names = list(result["rounds"][0])
        for name in names:
            runs = [r[name] for r in result["rounds"]]
            worst = min(runs, key=lambda x: x.get("ratio", x["rps"]))
            best_p50 = min(x["p50_1conn_ms"] for x in runs)
            best_p99 = min(x["p99_1conn_ms"] for x in runs)
            ratio = f"{worst['ratio']:.2f}×" if "ratio" in worst else "–"
            trivial = f"{worst['trivial_rps']:,.0f}" if "trivial_rps" in worst else "–"
            rps = f"{worst['rps']:,.0f}" if "ratio" in worst else "–"
            cpu, cpu_ratio = "–", "–"
            if "cpu_ratio" in worst:
                best = max(runs, key=lambda x: x["cpu_ratio"])
                cpu = f"{best['cpu_ms']:.2f} ({best['trivial_cpu_ms']:.3f})"
                cpu_ratio = f"{best['cpu_ratio']:.2f}×"
            lines.append(f"| {name} | {result['backend']} | {rps} | {trivial} | {ratio} | {cpu} | {cpu_ratio} | "
                         f"{best_p50:.2f} ms | {best_p99:.2f} ms | {result['sizes'][name]:,} |")
    return "\n".join(lines)


def main() -> int:
    """Parse arguments, run each backend, print the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (the worst one is reported)")
    parser.add_argument("--patrols", type=int, default=200, help="active patrols (the OGC tracks request)")
    parser.add_argument("--positions", type=int, default=30, help="positions per patrol")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (apt-get install wrk)")
    backends = [b for b in args.backends.split(",") if b]
    if not set(backends) <= {"sqlite", "postgresql"} or not 1 <= args.rounds <= 10 or not 1 <= args.seconds <= 120:
        parser.error("backends: sqlite, postgresql; rounds 1..10; seconds 1..120")
    results = [bench_backend(b, args) for b in backends]
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print()
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
