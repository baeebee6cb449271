"""Load benchmark of a two-instance deployment (issue 10): live consoles and field teams through the proxy.

    .venv/bin/python bench/load.py [--consoles 500] [--teams 200] [--interval 5] [--warmup 60] [--duration 600]
                                   [--regions 13] [--idle 500] [--database-url URL | --pg-url URL]
                                   [--redis-url URL] [--json PATH]

Everything runs on loopback. ``deploy/local-cluster.sh`` starts two API instances (Redis fan-out) behind nginx on
free ports; every client goes through the proxy, as in production.

* **Database**: a scratch PostgreSQL database (``<--pg-url database>_<pid>``, dropped at the end) loaded with
  Greece's regions and municipalities and the demo actors; or ``--database-url``, used as is (it must hold them).
  Teams and consoles are spread over ``--regions`` regions (Attica and Central Greece first, as in the demo;
  regions without a fire service or a volunteer organisation get one, with a dispatcher, made directly in the
  database like the teams). Each team is a leader account of a volunteer organisation, linked to a volunteer
  checked in on an active patrol of a municipality of its region, with a random password.
* **Idle websockets**: ``--idle`` sockets open, authenticate and subscribe, then wait; the instances' resident
  memory before and after gives the memory per idle websocket.
* **Consoles** (bench/load_consoles.py): ``--consoles`` fire-service dispatcher consoles (each with a token of its
  own) in ``--console-procs`` processes, following their organisation and region on /ws like the web console,
  making their first REST load during the warm-up and refreshing the open incidents every ``--refresh`` s.
* **Teams** (services/field_simulator.py): ``--teams`` teams sign in over the API, each on a connection of its
  own, and report a position every ``--interval`` s (with an Idempotency-Key), now and then a field-status change
  or a smoke sighting, and follow their organisation on /ws as the phone does.

Figures: REST latency p50/p95/p99 over the requests of consoles and teams started after the ``--warmup``;
errors = non-2xx answers, transport failures and dropped websockets over the whole run; delivery = for each
console, the events of the journal on its topics that it may see, from its first ``live`` to the journal head
after the run, compared with what it received (lost, duplicated); delivery latency p50/p99 after the warm-up
(positions: from the phone's timestamp; other events: from the commit). The last line says whether the targets
are met (exit status 1 when not); ``--json`` writes the figures to a file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import queue
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import websockets
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from ingest import _free_port, _pct, _raise_nofile, _token, active_patrol, create_database, drop_database  # noqa: E402
from load_consoles import consoles_main  # noqa: E402

REGIONS = ("GR-I", "GR-H")  # the demo's regions come first
DEFAULT_PG = os.environ.get("IOLAOS_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/iolaos_bench_load")


# ------------------------------------------------------------------------------------------------ preparing
def load_greece(database_url: str) -> None:
    """Migrate a new database and load Greece and the demo actors."""
    from iolaos.auth.actor import system_actor
    from iolaos.config import Settings
    from iolaos.db import make_engine, session_scope
    from iolaos.demo import seed
    from iolaos.migrate import upgrade
    from iolaos.zones import loading

    settings = Settings(database_url=database_url)
    upgrade(settings)
    engine = make_engine(settings)
    loading.load_greece(engine, settings, actor=system_actor("bench"))
    with session_scope(engine) as session:
        seed.seed(session)
    engine.dispose()


Accounts = list[tuple[str, str]]
Specs = list[tuple[str, list[str]]]


def make_teams(database_url: str, teams: int, consoles: int, regions: int) -> tuple[Accounts, Specs]:
    """Field teams and console tokens over the first ``regions`` regions: ([(username, password)], [(token, topics)]).

    Each region gets a fire service with a dispatcher and a volunteer organisation where the demo has none
    (made directly in the database, like the teams; the demo covers Attica and Central Greece).
    """
    from iolaos.auth.models import User
    from iolaos.auth.passwords import hash_password
    from iolaos.config import Settings
    from iolaos.db import make_engine, session_scope
    from iolaos.kit.time import utcnow
    from iolaos.zones.models import Zone

    engine = make_engine(Settings(database_url=database_url))
    password = secrets.token_urlsafe(12)
    hashed, now, accounts, specs = hash_password(password), utcnow(), [], []
    run = secrets.token_hex(3)  # several runs on one database never clash
    with session_scope(engine) as session:
        first = REGIONS if regions > 1 else ("GR-H",)  # one region: Central Greece (Evia 2021), as in issue 19
        codes = [*first, *sorted(set(session.scalars(select(Zone.code).where(Zone.kind == "region")))
                                 - set(first))][:regions]
        places = [_region_actors(session, code, run, hashed) for code in codes]
        for i in range(teams):
            zones, orgs, _ = places[i % len(places)]
            org, zone = orgs[(i // len(places)) % len(orgs)], zones[(i // len(places)) % len(zones)]
            user = User(username=f"load.{run}.team{i}", full_name=f"Load Team {i}", password_hash=hashed,
                        organisation_id=org.id, role="leader")
            session.add(user)
            session.flush()
            active_patrol(session, user, zone, now)
            accounts.append((user.username, password))
        for i in range(consoles):
            code, (_, _, dispatcher) = codes[i % len(codes)], places[i % len(places)]
            specs.append((_token(session, int(dispatcher.id)), [f"org:{dispatcher.organisation_id}", f"region:{code}"]))
    engine.dispose()
    return accounts, specs


def _region_actors(session: Any, code: str, run: str, hashed: str) -> tuple[list[Any], list[Any], Any]:
    """A region's municipalities, volunteer organisations and a dispatcher (made when the demo has none)."""
    from iolaos.auth.models import User
    from iolaos.organisations.models import Organisation
    from iolaos.zones.models import Zone

    region = session.scalar(select(Zone).where(Zone.code == code))
    zones = list(session.scalars(select(Zone).where(Zone.parent_id == region.id, Zone.kind == "municipality")
                                 .order_by(Zone.code)))
    orgs = list(session.scalars(select(Organisation).where(Organisation.kind == "volunteer_org",
                                                           Organisation.region_id == region.id)))
    if not orgs:
        orgs = [Organisation(kind="volunteer_org", name_el=f"Εθελοντές {region.name_el}",
                             name_en=f"Volunteers of {region.name_en} (load test {run})", region_id=region.id)]
        session.add_all(orgs)
    dispatcher = session.scalar(select(User).join(Organisation, Organisation.id == User.organisation_id)
                                .where(User.role == "dispatcher", Organisation.region_id == region.id))
    if dispatcher is None:
        fire = Organisation(kind="fire_service", name_el=f"Πυροσβεστική {region.name_el}",
                            name_en=f"Fire Service of {region.name_en} (load test {run})", region_id=region.id)
        session.add(fire)
        session.flush()
        dispatcher = User(username=f"load.{run}.dispatcher.{code}", full_name=f"Dispatcher {region.name_en}",
                          password_hash=hashed, organisation_id=fire.id, role="dispatcher")
        session.add(dispatcher)
    session.flush()
    return zones, orgs, dispatcher


# --------------------------------------------------------------------------------------------------- cluster
class Cluster:
    """deploy/local-cluster.sh with a state folder and ports of its own."""

    def __init__(self, database_url: str, redis_url: str) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="iolaos-load-"))
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("IOLAOS_")},
                    "IOLAOS_CLUSTER_DIR": str(self.folder), "IOLAOS_CLUSTER_DATABASE_URL": database_url,
                    "IOLAOS_CLUSTER_REDIS_URL": redis_url, "IOLAOS_CLUSTER_PORT": str(_free_port()),
                    "IOLAOS_CLUSTER_API_PORTS": f"{_free_port()} {_free_port()}", "IOLAOS_CLUSTER_SEED": "0",
                    "IOLAOS_LOG_LEVEL": "warning"}
        self.url = ""

    def start(self) -> str:
        """Start both instances and nginx; the proxy's base URL."""
        done = subprocess.run([str(ROOT / "deploy" / "local-cluster.sh"), "start"], env=self.env, capture_output=True,
                              text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"local-cluster.sh start failed:\n{done.stderr[-3000:]}")
        self.url = done.stdout.strip().splitlines()[-1]
        return self.url

    def pids(self) -> list[int]:
        """The API instances' process ids."""
        return [int((self.folder / f"api{i}.pid").read_text()) for i in (1, 2)]

    def rss_kib(self) -> int:
        """Resident memory of both instances together (KiB)."""
        total = 0
        for pid in self.pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        return total

    def stop(self) -> None:
        """Stop everything the script started."""
        subprocess.run([str(ROOT / "deploy" / "local-cluster.sh"), "stop"], env=self.env, capture_output=True,
                       timeout=120)


# ------------------------------------------------------------------------------------------------- measuring
async def idle_memory(cluster: Cluster, specs: list[tuple[str, list[str]]], count: int) -> dict[str, float]:
    """Resident memory of the instances before and after ``count`` idle, subscribed websockets."""
    url = cluster.url.replace("http://", "ws://") + "/ws"
    await asyncio.sleep(2)
    before = cluster.rss_kib()
    sockets = []
    for i in range(count):
        token, topics = specs[i % len(specs)]
        ws = await websockets.connect(url, open_timeout=30, ping_interval=None, compression=None)
        await ws.send(json.dumps({"type": "auth", "token": token}))
        await ws.send(json.dumps({"type": "subscribe", "topics": topics}))
        while json.loads(await ws.recv())["type"] != "live":
            pass
        sockets.append(ws)
    await asyncio.sleep(5)
    after = cluster.rss_kib()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return {"idle_sockets": count, "rss_before_mib": before / 1024, "rss_after_mib": after / 1024,
            "kib_per_idle_socket": (after - before) / max(count, 1)}


def simulator_main(base_url: str, accounts: list[tuple[str, str]], interval: float, duration: float, ready: Any,
                   go: Any, out: Any) -> None:
    """Process entry point: sign the teams in, wait for ``go``, run the field simulator."""
    from services.field_simulator import Simulator

    async def run() -> dict[str, Any]:
        simulator = Simulator(base_url, interval=interval, listen=True)
        async with simulator.client(connections=100) as http:
            await simulator.join(http, accounts, len(accounts))
            ready.set()
            while not go.is_set():
                await asyncio.sleep(0.05)
            stats = await simulator.run(duration, progress=30.0)
        return {"teams": len(simulator.teams), "samples": stats.samples, "errors": stats.errors,
                "requests": stats.requests, "positions": stats.positions, "statuses": stats.statuses,
                "sightings": stats.sightings, "team_events": stats.events}

    _raise_nofile(4 * len(accounts) + 256)
    out.put(asyncio.run(run()))


def expected_events(database_url: str, consoles: list[dict[str, Any]]) -> tuple[int, dict[int, set[int]]]:
    """The journal head, and for each console the seqs it should have received (after its first ``live``)."""
    from sqlmodel import Session

    from iolaos.auth import service as auth_service
    from iolaos.config import Settings
    from iolaos.db import make_engine
    from iolaos.realtime import topics as live_topics
    from iolaos.realtime.store import JournalReader, to_live

    settings = Settings(database_url=database_url)
    engine = make_engine(settings)
    lowest = min((c["live_seq"] for c in consoles if c["live_seq"] is not None), default=0)
    reader = JournalReader(settings, engine)  # the hub's own reads: events with their patrols' facts
    with Session(engine) as session:
        head = int(session.execute(text("SELECT event_seq FROM journal_head WHERE id = 1")).scalar_one())
        rows, after = [], lowest
        while batch := [to_live(r) for r in reader.read_after(after, 5000) if r[0] <= head]:
            rows += batch
            after = batch[-1].seq
        audiences: dict[str, Any] = {}
        expected: dict[int, set[int]] = {}
        for index, console in enumerate(consoles):
            if console["token"] not in audiences:
                principal = auth_service.resolve_token(session, console["token"])
                audiences[console["token"]] = live_topics.audience(session, principal)
            audience, wanted = audiences[console["token"]], set(console["topics"])
            expected[index] = {live.seq for live in rows if live.seq > (console["live_seq"] or head)
                               and not wanted.isdisjoint(live.topics)
                               and live_topics.text_for(live, audience) is not None}
    reader.dispose()
    engine.dispose()
    return head, expected


def summarise(database_url: str, team: dict[str, Any], consoles: list[dict[str, Any]], measured_from: float
              ) -> dict[str, Any]:
    """The figures of the run: latencies from ``measured_from`` (after the warm-up), losses and errors over all."""
    console_list = [c for part in consoles for c in part["consoles"]]
    head, expected = expected_events(database_url, console_list)
    lost = duplicated = delivered = coalesced = 0
    delivery: list[float] = []
    for index, console in enumerate(console_list):
        got = [s for s in console["seqs"] if s <= head]
        # A position replaced in a backed-up queue by a newer one of the same crew member arrives as that newer
        # one's "coalesced" list (docs/realtime.md): superseded, not lost.
        replaced = {s for s in console.get("coalesced", []) if s <= head}
        coalesced += len(replaced & expected[index])
        lost += len(expected[index] - set(got) - replaced)
        duplicated += len(got) - len(set(got))
        delivered += len(set(got) & expected[index])
        delivery += [late for at, late in console["delivery"] if at >= measured_from]
    rest = [(at, s) for at, s in team["samples"]] + [(at, s) for part in consoles for at, s, _ in part["rest"]]
    latencies = [s for at, s in rest if at >= measured_from]
    errors = team["errors"] + [e for part in consoles for e in part["errors"]]
    return {"consoles": len(console_list), "teams": team["teams"], "rest_requests": len(rest),
            "rest_requests_measured": len(latencies),
            "rest_p50_ms": _pct(latencies, 50), "rest_p95_ms": _pct(latencies, 95), "rest_p99_ms": _pct(latencies, 99),
            "errors": len(errors), "error_samples": errors[:10], "positions": team["positions"],
            "status_changes": team["statuses"], "sightings": team["sightings"],
            "events_expected": sum(len(e) for e in expected.values()), "events_delivered": delivered,
            "events_lost": lost, "events_duplicated": duplicated, "events_coalesced": coalesced,
            "delivery_p50_ms": _pct(delivery, 50), "delivery_p99_ms": _pct(delivery, 99),
            "reconnects": sum(c["reconnects"] for c in console_list), "team_events": team["team_events"]}


# ------------------------------------------------------------------------------------------------------- run
def run(args: argparse.Namespace) -> dict[str, Any]:
    """Prepare, start the cluster, measure idle memory, run the load, tear down."""
    scratch = args.database_url is None
    database_url = args.database_url or create_database(args.pg_url)
    cluster: Cluster | None = None
    try:
        if scratch:
            began = time.monotonic()
            load_greece(database_url)
            print(f"load: database ready in {time.monotonic() - began:.0f} s", flush=True)
        accounts, specs = make_teams(database_url, args.teams, args.consoles, args.regions)
        cluster = Cluster(database_url, args.redis_url)
        base = cluster.start()
        print(f"load: two instances behind nginx at {base}", flush=True)
        memory = asyncio.run(idle_memory(cluster, specs, args.idle)) if args.idle else {}
        if memory:
            print(f"load: {memory['kib_per_idle_socket']:.1f} KiB per idle websocket "
                  f"({args.idle} sockets, {memory['rss_before_mib']:.0f} → {memory['rss_after_mib']:.0f} MiB)",
                  flush=True)
        ctx = mp.get_context("spawn")
        go, stop = ctx.Event(), ctx.Event()
        console_out, team_out = ctx.Queue(), ctx.Queue()
        parts = [specs[p::args.console_procs] for p in range(args.console_procs)]
        readies = [ctx.Event() for _ in parts]
        procs = [ctx.Process(target=consoles_main, args=(base, part, args.refresh, args.warmup, ready, go, stop,
                                                         console_out, p))
                 for p, (part, ready) in enumerate(zip(parts, readies, strict=True))]
        team_ready = ctx.Event()
        simulator = ctx.Process(target=simulator_main, args=(base, accounts, args.interval,
                                                             args.warmup + args.duration, team_ready, go, team_out))
        for proc in [*procs, simulator]:
            proc.start()
        for event, what in [*((r, "consoles") for r in readies), (team_ready, "teams")]:
            if not event.wait(600):
                raise RuntimeError(f"{what} not ready within 600 s")
        print(f"load: {args.consoles} consoles live, {args.teams} teams signed in; warming up {args.warmup:g} s, "
              f"then measuring {args.duration:g} s", flush=True)
        measured_from = time.time() + args.warmup
        go.set()
        began = time.monotonic()
        peak, team = 0, None
        while team is None:  # take the result before joining: a child exits only once its queue is drained
            with contextlib.suppress(queue.Empty):
                team = team_out.get(timeout=30)
            peak = max(peak, cluster.rss_kib())
            print(f"load: {time.monotonic() - began:.0f} s, instances {peak / 1024:.0f} MiB", flush=True)
            if team is None and not simulator.is_alive():
                raise RuntimeError(f"the field simulator exited with {simulator.exitcode}")
        simulator.join(30)
        stop.set()
        consoles = [console_out.get(timeout=180) for _ in procs]
        for proc in procs:
            proc.join(30)
        figures = summarise(database_url, team, consoles, measured_from)
        return {**figures, **memory, "duration_s": args.duration, "warmup_s": args.warmup, "interval_s": args.interval,
                "peak_rss_mib": peak / 1024}
    finally:
        if cluster is not None:
            cluster.stop()
        if scratch:
            drop_database(args.pg_url, database_url)


def main() -> int:
    """Parse arguments, run, print the figures; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--consoles", type=int, default=500)
    parser.add_argument("--teams", type=int, default=200)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between two reports of a team")
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of measured load")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds of load before measuring, in which "
                        "the consoles make their first REST load")
    parser.add_argument("--idle", type=int, default=500, help="idle websockets for the memory figure (0: skip)")
    parser.add_argument("--regions", type=int, default=13, help="regions the consoles and teams are spread over "
                        "(Greece has 13; 2 puts everyone in Attica and Central Greece, 1 in Central Greece)")
    parser.add_argument("--refresh", type=float, default=60.0, help="seconds between a console's REST refreshes")
    parser.add_argument("--console-procs", type=int, default=2)
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="where the scratch database is created")
    parser.add_argument("--database-url", help="use this prepared database instead of a scratch one")
    parser.add_argument("--redis-url", default=os.environ.get("IOLAOS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if not (1 <= args.consoles <= 2000 and 1 <= args.teams <= 1000 and 10 <= args.duration <= 1800
            and 0 <= args.idle <= 5000 and args.interval >= 1 and 1 <= args.regions <= 13 and 0 <= args.warmup <= 600):
        parser.error("bounds: consoles 1..2000, teams 1..1000, duration 10..1800 s, warm-up 0..600 s, idle 0..5000, "
                     "interval ≥ 1 s, regions 1..13")
    for url in [args.pg_url, args.database_url, args.redis_url]:
        if url and make_url(url.replace("redis://", "redis+x://")).host not in ("127.0.0.1", "localhost", "::1"):
            parser.error(f"loopback only: {url}")
    _raise_nofile(4 * (args.consoles + args.idle) + 256)
    r = run(args)
    if args.json:
        args.json.write_text(json.dumps(r, indent=2))
    print()
    print("| consoles | teams | minutes | REST requests | p50 | p95 | p99 | errors | events delivered | lost | "
          "dup | delivery p50 | p99 | KiB/idle socket |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {r['consoles']} | {r['teams']} | {r['duration_s'] / 60:g} | {r['rest_requests']:,} | "
          f"{r['rest_p50_ms']:.0f} ms | {r['rest_p95_ms']:.0f} ms | {r['rest_p99_ms']:.0f} ms | {r['errors']} | "
          f"{r['events_delivered']:,} of {r['events_expected']:,} | {r['events_lost']} | {r['events_duplicated']} | "
          f"{r['delivery_p50_ms']:.0f} ms | {r['delivery_p99_ms']:.0f} ms | "
          f"{r.get('kib_per_idle_socket', float('nan')):.1f} |")
    print(f"positions coalesced in backed-up console queues: {r['events_coalesced']:,}")
    for sample in r["error_samples"]:
        print(f"  error: {sample}")
    met = (r["errors"] == 0 and r["events_lost"] == 0 and r["events_duplicated"] == 0
           and r["rest_p95_ms"] < 300 and r["delivery_p99_ms"] < 1000)
    print(f"targets (0 errors, 0 lost, p95 REST < 300 ms, p99 delivery < 1 s): {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
