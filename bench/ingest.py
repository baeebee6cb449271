"""Benchmark of position ingest (issue 7, acceptance 6): batched reports over HTTP with 100 live consoles watching.

    .venv/bin/python bench/ingest.py [--patrols 100] [--batch 10] [--senders 4] [--consoles 100]
                                     [--seconds 15] [--warmup 3] [--servers 1] [--pg-url URL]

Everything runs on loopback against PostgreSQL. A scratch database (``<pg-url database>_<pid>``) is created,
migrated and loaded with Greece's regions and municipalities and the demo actors, and dropped at the end.
``--patrols`` active patrols are made directly in the database like the test fixtures: each in a municipality of
Central Greece, executed by one of the region's volunteer teams, with one crew member checked in whose account is
signed in (a bearer token stored as sign-in stores it).

* **Servers**: ``--servers`` ``uvicorn iolaos.app:create_app`` processes (one by default; with more, live wake-ups
  cross processes by PostgreSQL NOTIFY), lost-contact sweeps off, everything else at its defaults.
* **Consoles**: ``--consoles`` websocket clients in a process of their own, signed in as the Central Greece Fire
  Service dispatcher, each subscribed to every patrol's topic (``patrol:<id>``); they count ``position`` events and
  time them from the newest position's timestamp (set by the sender just before its request) to arrival.
* **Senders**: ``--senders`` concurrent keep-alive HTTP/1.1 connections (a minimal client, so that the load
  generator leaves the CPU to the server) in ``--sender-procs`` processes, each posting
  ``POST /api/v1/positions`` batches of ``--batch`` positions (what a phone buffered, 5 s apart, inside the
  patrol's zone) for its patrols in turn, as fast as answers come back (closed loop), for ``--warmup`` +
  ``--seconds`` seconds; at most ``--max-requests`` requests in all.

Sustained reports/s = positions accepted by requests that started in the measured window ÷ its length. Ingest
latency = each such request's round trip (p50, p99). Delivery = position events received by the consoles ÷
(accepted batches × consoles), after the consoles drain; its latency is p99 over every delivered event.
The last line prints the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing as mp
import os
import resource
import secrets
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import websockets
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

DEFAULT_PG = os.environ.get("IOLAOS_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/iolaos_bench_ingest")
REGION = "GR-H"  # Central Greece
CONSOLE_USER = "dispatcher.sterea"
MAX_SECONDS = 300.0


@dataclass(frozen=True)
class Crew:
    """One active patrol and the signed-in crew member who reports its positions."""

    patrol_id: int
    token: str
    lon: float
    lat: float


# ------------------------------------------------------------------------------------------ scratch database
def _admin(pg_url: str) -> Any:
    return create_engine(make_url(pg_url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def create_database(pg_url: str) -> str:
    """A fresh scratch database; returns its URL."""
    url = make_url(pg_url)
    url = url.set(database=f"{url.database}_{os.getpid()}")
    admin = _admin(pg_url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    return url.render_as_string(hide_password=False)


def drop_database(pg_url: str, database_url: str) -> None:
    """Drop the scratch database."""
    admin = _admin(pg_url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(database_url).database}" WITH (FORCE)'))
    admin.dispose()


def _token(session: Any, user_id: int) -> str:
    """A bearer token stored as sign-in stores it (its SHA-256), without the deliberately slow password check."""
    from iolaos.auth.models import AuthToken
    from iolaos.kit.time import utcnow

    plain = secrets.token_urlsafe(32)
    session.add(AuthToken(token_hash=hashlib.sha256(plain.encode()).hexdigest(), user_id=user_id,
                          created_at=utcnow(), expires_at=utcnow() + timedelta(hours=6)))
    return plain


def active_patrol(session: Any, user: Any, zone: Any, now: datetime) -> Any:
    """An active patrol of ``zone`` by ``user``'s organisation, with ``user``'s new volunteer checked in."""
    from iolaos.patrols.models import Assignment, Patrol
    from iolaos.volunteers.models import Volunteer

    volunteer = Volunteer(organisation_id=user.organisation_id, user_id=user.id, full_name=user.full_name,
                          status="on_patrol")
    patrol = Patrol(zone_id=zone.id, organisation_id=user.organisation_id, shift_start=now - timedelta(hours=1),
                    shift_end=now + timedelta(hours=7), crew_size=1, risk_category=4, status="active",
                    field_status="on_patrol")
    session.add_all([volunteer, patrol])
    session.flush()
    session.add(Assignment(patrol_id=patrol.id, volunteer_id=volunteer.id, status="checked_in", checked_in_at=now))
    return patrol


def prepare(database_url: str, patrols: int) -> tuple[list[Crew], str]:
    """Migrate, load Greece and the demo actors, make the active patrols: (crews, console token)."""
    from iolaos.auth.actor import system_actor
    from iolaos.auth.models import User
    from iolaos.auth.passwords import hash_password
    from iolaos.config import Settings
    from iolaos.db import make_engine, session_scope
    from iolaos.demo import seed
    from iolaos.kit.time import utcnow
    from iolaos.migrate import upgrade
    from iolaos.organisations.models import Organisation
    from iolaos.zones import loading
    from iolaos.zones.models import Zone

    settings = Settings(database_url=database_url)
    upgrade(settings)
    engine = make_engine(settings)
    loading.load_greece(engine, settings, actor=system_actor("bench"))
    crews: list[Crew] = []
    with session_scope(engine) as session:
        seed.seed(session)
        region = session.scalar(select(Zone).where(Zone.code == REGION))
        zones = list(session.scalars(select(Zone).where(Zone.parent_id == region.id, Zone.kind == "municipality")
                                     .order_by(Zone.code)))
        teams = list(session.scalars(select(Organisation).where(Organisation.kind == "volunteer_org",
                                                                Organisation.region_id == region.id)))
        password, now = hash_password(secrets.token_urlsafe(16)), utcnow()
        for i in range(patrols):
            team, zone = teams[i % len(teams)], zones[i % len(zones)]
            user = User(username=f"bench.crew{i}", full_name=f"Bench Crew {i}", password_hash=password,
                        organisation_id=team.id, role="volunteer")
            session.add(user)
            session.flush()
            patrol = active_patrol(session, user, zone, now)
            point = zone.geom.representative_point()
            crews.append(Crew(int(patrol.id), _token(session, int(user.id)), point.x, point.y))
        console = session.scalar(select(User.id).where(User.username == CONSOLE_USER))
        console_token = _token(session, int(console))
    engine.dispose()
    return crews, console_token


# ---------------------------------------------------------------------------------------------------- servers
def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_servers(database_url: str, count: int) -> list[tuple[subprocess.Popen[bytes], int]]:
    """``count`` uvicorn processes on loopback, ready to serve."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("IOLAOS_")}, "IOLAOS_DATABASE_URL": database_url,
           "IOLAOS_FIELD_SWEEP_SECONDS": "0", "IOLAOS_FANOUT": "memory" if count == 1 else "postgres"}
    servers = []
    for _ in range(count):
        port = _free_port()
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "iolaos.app:create_app", "--host",
                                 "127.0.0.1", "--port", str(port), "--log-level", "warning"], env=env)
        servers.append((proc, port))
    for proc, port in servers:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server not ready in 60 s")
            time.sleep(0.1)
    return servers


# --------------------------------------------------------------------------------------------------- consoles
def _pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) >= 100 else float("nan")


async def _consoles(urls: list[str], token: str, topics: list[str], n: int, ready: Any, stop: Any) -> dict[str, Any]:
    delivered, latencies, closed = [0] * n, [], [0]
    last = [time.monotonic()]
    connected: list[Any] = [None] * n

    async def one(i: int) -> None:
        ws = await websockets.connect(urls[i % len(urls)], compression=None, open_timeout=60, ping_interval=None,
                                      max_size=2**22)
        await ws.send(json.dumps({"type": "auth", "token": token}))
        await ws.send(json.dumps({"type": "subscribe", "topics": topics}))
        while (message := json.loads(await ws.recv()))["type"] != "live":
            assert message["type"] != "subscribed" or not message["denied"], message
        connected[i] = ws

    gate = asyncio.Semaphore(20)

    async def gated(i: int) -> None:
        async with gate:
            await one(i)

    await asyncio.gather(*(gated(i) for i in range(n)))

    async def read(i: int, ws: Any) -> None:
        try:
            async for raw in ws:
                if '"kind":"position"' in raw:
                    payload = json.loads(raw)["payload"]
                    sent = datetime.fromisoformat(payload["at"]).timestamp()
                    latencies.append(time.time() - sent)
                    delivered[i] += 1
                    last[0] = time.monotonic()
        except websockets.ConnectionClosed:
            closed[0] += 1

    tasks = [asyncio.create_task(read(i, ws)) for i, ws in enumerate(connected)]
    ready.set()
    while not stop.is_set():
        await asyncio.sleep(0.1)
    while time.monotonic() - last[0] < 2.0:  # drain: until nothing arrived for 2 s
        await asyncio.sleep(0.2)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in connected), return_exceptions=True)
    return {"delivered": sum(delivered), "closed": closed[0], "p50": _pct(latencies, 50), "p99": _pct(latencies, 99)}


def consoles_main(urls: list[str], token: str, topics: list[str], n: int, ready: Any, stop: Any, out: Any) -> None:
    """Process entry: the consoles, reporting what they received."""
    _raise_nofile(4 * n + 256)
    out.put(asyncio.run(_consoles(urls, token, topics, n, ready, stop)))


# ---------------------------------------------------------------------------------------------------- senders
def _batch(crew: Crew, size: int, serial: int) -> dict[str, Any]:
    """What a phone buffered: ``size`` positions 5 s apart, the newest now, jittering inside the zone."""
    now = datetime.now(UTC)
    wobble = ((serial * 7919) % 200 - 100) / 1e5
    return {"reports": [{"patrol_id": crew.patrol_id, "at": (now - timedelta(seconds=5 * (size - 1 - k))).isoformat(),
                         "lon": crew.lon + wobble, "lat": crew.lat - wobble, "accuracy_m": 8.0}
                        for k in range(size)]}


class Connection:
    """A keep-alive HTTP/1.1 connection speaking just enough HTTP for JSON POSTs (cheaper than a full client,
    so that on a small machine the senders leave the CPU to the server)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, token: str) -> tuple[int, bytes]:
        """POST a JSON body; (status, response body)."""
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        self.writer.write(head + body)
        lines = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), "0"))
        return int(lines[0].split()[1]), await self.reader.readexactly(length)

    async def close(self) -> None:
        """Close the socket."""
        if self.writer is not None:
            self.writer.close()


async def _senders(ports: list[int], crews: list[Crew], senders: int, size: int, until: float,
                   budget: int) -> list[tuple[float, float, int, int]]:
    """Closed-loop senders, one connection each; one (started, seconds, accepted, status) per request."""
    results: list[tuple[float, float, int, int]] = []
    connections = [Connection(ports[k % len(ports)]) for k in range(senders)]

    async def sender(k: int) -> None:
        mine = crews[k::senders] or [crews[k % len(crews)]]
        serial = 0
        while time.time() < until and len(results) < budget:
            crew = mine[serial % len(mine)]
            serial += 1
            body = json.dumps(_batch(crew, size, serial), separators=(",", ":")).encode()
            started = time.time()
            status, answer = await connections[k].post("/api/v1/positions", body, crew.token)
            accepted = json.loads(answer).get("accepted", 0) if status == 200 else 0
            results.append((started, time.time() - started, accepted, status))

    await asyncio.gather(*(sender(k) for k in range(senders)))
    await asyncio.gather(*(c.close() for c in connections))
    return results


def senders_main(ports: list[int], crews: list[Crew], senders: int, size: int, start_at: float, until: float,
                 budget: int, out: Any) -> None:
    """Process entry: wait for the common start, send until ``until``, report every request."""
    time.sleep(max(start_at - time.time(), 0))
    out.put(asyncio.run(_senders(ports, crews, senders, size, until, budget)))


# ------------------------------------------------------------------------------------------------------ report
def summarise(results: list[tuple[float, float, int, int]], window: tuple[float, float], consoles: dict[str, Any],
              n_consoles: int) -> dict[str, float]:
    """Figures of the measured window and of delivery."""
    lo, hi = window
    measured = [r for r in results if lo <= r[0] < hi]
    latencies = [r[1] for r in measured]
    batches = sum(1 for r in results if r[2] > 0)
    return {
        "requests": len(measured), "errors": sum(1 for r in measured if r[3] != 200),
        "reports_per_s": sum(r[2] for r in measured) / (hi - lo),
        "requests_per_s": len(measured) / (hi - lo),
        "p50_ms": _pct(latencies, 50), "p99_ms": _pct(latencies, 99),
        "expected": batches * n_consoles, "delivered": consoles["delivered"],
        "delivery_share": consoles["delivered"] / max(batches * n_consoles, 1),
        "delivery_p50_ms": consoles["p50"], "delivery_p99_ms": consoles["p99"], "closed": consoles["closed"],
    }


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _window_cpu(pids: list[int], lo: float, hi: float) -> float:
    """CPU seconds the servers used between the wall-clock times ``lo`` and ``hi`` (sleeps until then)."""
    time.sleep(max(lo - time.time(), 0))
    before = sum(_cpu_seconds(p) for p in pids)
    time.sleep(max(hi - time.time(), 0))
    return sum(_cpu_seconds(p) for p in pids) - before


def _raise_nofile(want: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, want)), hard))


def run(args: argparse.Namespace) -> dict[str, float]:
    """Set up, measure, tear down."""
    database_url = create_database(args.pg_url)
    servers: list[tuple[subprocess.Popen[bytes], int]] = []
    try:
        began = time.monotonic()
        crews, console_token = prepare(database_url, args.patrols)
        print(f"prepared {len(crews)} active patrols in {time.monotonic() - began:.1f} s", flush=True)
        servers = start_servers(database_url, args.servers)
        ports = [port for _, port in servers]
        ws = [f"ws://127.0.0.1:{port}/ws" for _, port in servers]
        ctx = mp.get_context("spawn")
        ready, stop, console_out = ctx.Event(), ctx.Event(), ctx.Queue()
        topics = [f"patrol:{c.patrol_id}" for c in crews]
        console_proc = ctx.Process(target=consoles_main, args=(ws, console_token, topics, args.consoles, ready, stop,
                                                               console_out))
        console_proc.start()
        if not ready.wait(120):
            raise RuntimeError("consoles did not connect in 120 s")
        print(f"{args.consoles} consoles subscribed to {len(topics)} patrol topics each", flush=True)
        start_at = time.time() + 1.0
        until = start_at + args.warmup + args.seconds
        out = ctx.Queue()
        per_proc = max(args.senders // args.sender_procs, 1)
        procs = [ctx.Process(target=senders_main, args=(ports, crews[p::args.sender_procs], per_proc, args.batch,
                                                        start_at, until, args.max_requests // args.sender_procs, out))
                 for p in range(args.sender_procs)]
        for proc in procs:
            proc.start()
        cpu = _window_cpu([p.pid for p, _ in servers], start_at + args.warmup, until)
        results = [r for _ in procs for r in out.get(timeout=args.warmup + args.seconds + 120)]
        for proc in procs:
            proc.join(10)
        stop.set()
        consoles = console_out.get(timeout=120)
        console_proc.join(10)
        return {**summarise(results, (start_at + args.warmup, until), consoles, args.consoles), "server_cpu_s": cpu}
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(timeout=15)
        drop_database(args.pg_url, database_url)


def main() -> None:
    """Parse arguments, run, print the figures (the last line sums them up)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--patrols", type=int, default=100, help="active patrols (≤ 200: a console's topic limit)")
    parser.add_argument("--batch", type=int, default=10, help="positions per request")
    parser.add_argument("--senders", type=int, default=4, help="concurrent HTTP senders (one connection each)")
    parser.add_argument("--sender-procs", type=int, default=1)
    parser.add_argument("--consoles", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=15.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--servers", type=int, default=1, help="uvicorn processes")
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    args = parser.parse_args()
    if not 1 <= args.patrols <= 200 or args.seconds + args.warmup > MAX_SECONDS or args.batch > 500:
        parser.error(f"--patrols 1..200, --batch ≤ 500, --warmup + --seconds ≤ {MAX_SECONDS:g}")
    if make_url(args.pg_url).host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("loopback only: --pg-url must point at 127.0.0.1")
    _raise_nofile(4 * args.consoles + 4 * args.senders + 256)
    r = run(args)
    print()
    print("| servers | patrols | batch | senders | consoles | requests/s | reports/s | p50 | p99 | delivered |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {args.servers} | {args.patrols} | {args.batch} | {args.senders} | {args.consoles} | "
          f"{r['requests_per_s']:,.0f} | {r['reports_per_s']:,.0f} | {r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms | "
          f"{r['delivery_share']:.1%} |")
    per_request = r["server_cpu_s"] / max(r["requests"], 1) * 1000
    print(f"requests {r['requests']:,} in the window, errors {r['errors']}, consoles disconnected {r['closed']}, "
          f"delivery latency p50 {r['delivery_p50_ms']:.0f} ms, p99 {r['delivery_p99_ms']:.0f} ms; server CPU "
          f"{per_request:.1f} ms per request, {r['server_cpu_s'] / (args.seconds):.2f} cores busy "
          f"(≈ {1000 / max(per_request, 1e-9) * args.batch:,.0f} reports per CPU-second)")
    print(f"ingest: {r['reports_per_s']:,.0f} reports/s sustained (goal ≥ 1,000), p99 ingest latency "
          f"{r['p99_ms']:.1f} ms, delivered {r['delivered']:,} of {r['expected']:,} position events to "
          f"{args.consoles} consoles ({r['delivery_share']:.1%}, p99 {r['delivery_p99_ms']:.0f} ms)")


if __name__ == "__main__":
    main()
