"""Benchmark of live fan-out (issue 5): IOLAOS's ``/ws`` against a bare ``websockets.broadcast`` server.

    .venv/bin/python bench/fanout.py [--clients 1000] [--events 300] [--runs 3] [--rate 5] [--seconds 6]

Both servers run as subprocesses on loopback, and the same 1,000 client connections (one asyncio process,
uvloop when installed, ``websockets`` client, no compression) subscribe to one topic. Every event is ~300
bytes of JSON shaped like an IOLAOS event message (``{"type":"event","seq":…,"payload":{"t":…,"pad":…}}``).

* **IOLAOS**: ``uvicorn iolaos.app:create_app`` over a fresh SQLite database (migrated; one volunteer
  organisation and one leader signed in; every client authenticates with that token and subscribes to
  ``org:<id>``). Events are written by a separate producer process through ``journal.record()`` (audit record +
  event in one commit) and announced on Redis (``IOLAOS_FANOUT=redis``, as a second instance would): the
  server's hub reads them from the event table and fans them out through its bounded per-connection queues.
* **Bare**: a ``websockets.serve`` process that builds each message once and calls ``websockets.broadcast`` to
  every connection; no database, no authorisation, no queues.

Throughput: ``--events`` events produced as fast as possible; delivered messages/s = events × clients ÷ (last
arrival − first event's timestamp); best of ``--runs`` after a warm-up run. Latency: ``--rate`` events/s for
``--seconds``; per delivered message, arrival time − the time stamped in the event just before it was committed
(IOLAOS) or broadcast (bare); p50 and p99 over all messages. The last line prints the throughput ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets

MESSAGE_BYTES = 300
TOPIC_ORG = "org:{}"
HERE = Path(__file__).resolve()


def _pad_for(size: int) -> str:
    """Padding that makes an event message about ``size`` bytes."""
    sample = json.dumps({"type": "event", "seq": 123456, "kind": "bench.event", "at": "2026-07-01T12:00:00.000000Z",
                         "topics": ["org:1"], "payload": {"pad": "", "t": time.time()}}, separators=(",", ":"))
    return "x" * max(size - len(sample), 0)


# --------------------------------------------------------------------------------------------- bare server
async def _bare_server(port: int) -> None:
    """``websockets.serve``: clients on ``/``; a control socket on ``/control`` triggers broadcasts."""
    clients: set[Any] = set()
    pad = _pad_for(MESSAGE_BYTES)

    async def blast(n: int, rate: float, start: int) -> None:
        next_at = time.monotonic()
        for i in range(n):
            text = json.dumps({"type": "event", "seq": start + i, "kind": "bench.event",
                               "at": "2026-07-01T12:00:00.000000Z", "topics": ["org:1"],
                               "payload": {"pad": pad, "t": time.time()}}, separators=(",", ":"))
            websockets.broadcast(clients, text)
            if rate:
                next_at += 1 / rate
                await asyncio.sleep(max(next_at - time.monotonic(), 0))
            elif i % 10 == 9:
                await asyncio.sleep(0)

    async def handler(ws: Any) -> None:
        if ws.request.path == "/control":
            async for command in ws:
                c = json.loads(command)
                await blast(c["n"], c["rate"], c["start"])
                await ws.send("done")
            return
        clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    async with websockets.serve(handler, "127.0.0.1", port, compression=None, max_queue=None):
        await asyncio.Future()


# ------------------------------------------------------------------------------------------------ producer
def _produce(database_url: str, redis_url: str, topic: str, n: int, rate: float, batch: int) -> None:
    """Write ``n`` events through ``journal.record`` and announce each commit on Redis (another instance)."""
    import redis

    from iolaos.auth.actor import system_actor
    from iolaos.config import Settings
    from iolaos.db import make_engine, session_scope
    from iolaos.journal import service as journal
    from iolaos.realtime.backends.redis import CHANNEL

    engine = make_engine(Settings(database_url=database_url))
    broker = redis.Redis.from_url(redis_url)
    pad, actor, written = _pad_for(MESSAGE_BYTES), system_actor("bench"), 0
    per_commit = 1 if rate else batch
    next_at = time.monotonic()
    while written < n:
        k = min(per_commit, n - written)
        with session_scope(engine) as session:
            for _ in range(k):
                journal.record(session, actor=actor, action="bench.event", subject_type="bench", subject_id="0",
                               topics=[topic], payload={"pad": pad, "t": time.time()})
        broker.publish(CHANNEL, "0")  # a wake-up ("something new"): the hub reads from its high-water mark
        written += k
        if rate:
            next_at += k / rate
            time.sleep(max(next_at - time.monotonic(), 0))
    engine.dispose()


# ----------------------------------------------------------------------------------------------- clients
@dataclass
class Phase:
    """What the clients expect in one measured phase."""

    expected: int
    clients: int
    delivered: int = 0
    first_t: float = float("inf")
    last_arrival: float = 0.0
    latencies: list[float] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def take(self, sent_at: float) -> None:
        """One event arrived at one client."""
        now = time.time()
        self.delivered += 1
        self.first_t = min(self.first_t, sent_at)
        self.last_arrival = now
        self.latencies.append(now - sent_at)
        if self.delivered >= self.expected * self.clients:
            self.done.set()


class Clients:
    """``n`` websocket clients; each event message is counted in the current phase."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.phase = Phase(0, n)
        self.sockets: list[Any] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def open(self, url: str, token: str | None, topic: str | None) -> None:
        """Connect everyone (100 at a time); IOLAOS clients authenticate, subscribe and wait for ``live``."""
        gate = asyncio.Semaphore(100)

        async def one() -> Any:
            async with gate:
                ws = await websockets.connect(url, compression=None, open_timeout=60, ping_interval=None,
                                              max_size=2**20)
                if token is not None:
                    await ws.send(json.dumps({"type": "auth", "token": token}))
                    await ws.send(json.dumps({"type": "subscribe", "topics": [topic]}))
                    while json.loads(await ws.recv())["type"] != "live":
                        pass
                return ws

        self.sockets = list(await asyncio.gather(*(one() for _ in range(self.n))))
        self.tasks = [asyncio.create_task(self._read(ws)) for ws in self.sockets]

    async def _read(self, ws: Any) -> None:
        try:
            async for raw in ws:
                if raw.startswith('{"type":"event"'):
                    self.phase.take(json.loads(raw)["payload"]["t"])
        except websockets.ConnectionClosed:
            pass

    def start_phase(self, events: int) -> Phase:
        """Begin counting a new phase."""
        self.phase = Phase(events, self.n)
        return self.phase

    async def close(self) -> None:
        """Close every connection."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)


# ------------------------------------------------------------------------------------------------- targets
def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} not reachable")


def _prepare_database(path: Path) -> tuple[str, str, int]:
    """A migrated SQLite database with one volunteer organisation and a signed-in leader: (url, token, org)."""
    from iolaos.auth import service as auth_service
    from iolaos.auth.models import User
    from iolaos.auth.passwords import hash_password
    from iolaos.config import Settings
    from iolaos.db import make_engine, session_scope
    from iolaos.migrate import upgrade
    from iolaos.organisations.models import Organisation

    settings = Settings(database_url=f"sqlite:///{path}")
    upgrade(settings)
    engine = make_engine(settings)
    password = secrets.token_urlsafe(16)
    with session_scope(engine) as session:
        org = Organisation(kind="volunteer_org", name_el="Ομάδα Μέτρησης", name_en="Benchmark Team")
        session.add(org)
        session.flush()
        session.add(User(username="bench.leader", full_name="Bench Leader", password_hash=hash_password(password),
                         organisation_id=org.id, role="leader"))
        session.flush()
        token = auth_service.sign_in(session, settings, username="bench.leader", password=password,
                                     client_address="127.0.0.1").access_token
        org_id = int(org.id)
    engine.dispose()
    return settings.database_url, token, org_id


async def _measure(clients: Clients, trigger: Any, events: int, rate: float, timeout: float) -> Phase:
    phase = clients.start_phase(events)
    await trigger(events, rate)
    try:
        await asyncio.wait_for(phase.done.wait(), timeout)
    except TimeoutError:
        print(f"  ! timeout: {phase.delivered} of {events * clients.n} delivered", flush=True)
    await asyncio.sleep(0.3)
    return phase


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _throughput(phase: Phase) -> float:
    return phase.delivered / max(phase.last_arrival - phase.first_t, 1e-9)


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) >= 100 else float("nan")


async def _run_target(name: str, clients: Clients, trigger: Any, args: argparse.Namespace,
                      server_pid: int) -> dict[str, float]:
    await _measure(clients, trigger, min(args.events, 50), 0, 60)  # warm-up
    rates, cpu = [], []
    for run in range(args.runs):
        before = _cpu_seconds(server_pid)
        phase = await _measure(clients, trigger, args.events, 0, 120)
        rates.append(_throughput(phase))
        cpu.append((_cpu_seconds(server_pid) - before) / max(phase.delivered, 1) * 1e6)
        print(f"  {name} run {run + 1}: {phase.delivered:,} messages, {rates[-1]:,.0f} msg/s, "
              f"server CPU {cpu[-1]:.1f} µs/message", flush=True)
    phase = await _measure(clients, trigger, int(args.rate * args.seconds), args.rate, args.seconds + 60)
    p50, p99 = _pct(phase.latencies, 50), _pct(phase.latencies, 99)
    print(f"  {name} latency at {args.rate:g} events/s: p50 {p50:.1f} ms, p99 {p99:.1f} ms", flush=True)
    return {"rate": max(rates), "cpu": min(cpu), "p50": p50, "p99": p99, "delivered": phase.delivered}


async def _bench(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="iolaos-bench-fanout-"))
    database_url, token, org = _prepare_database(tmp / "fanout.db")
    topic = TOPIC_ORG.format(org)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("IOLAOS_")}, "IOLAOS_DATABASE_URL": database_url,
           "IOLAOS_FANOUT": "redis", "IOLAOS_BROKER_URL": args.redis_url, "IOLAOS_REALTIME_SEND_QUEUE": "1000"}
    results: dict[str, dict[str, float]] = {}
    iolaos_port, bare_port = _free_port(), _free_port()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "iolaos.app:create_app",
                                       "--host", "127.0.0.1", "--port", str(iolaos_port), "--log-level", "warning"],
                                      env=env))
        procs.append(subprocess.Popen([sys.executable, str(HERE), "--bare-server", str(bare_port)]))
        _wait_http(f"http://127.0.0.1:{iolaos_port}/healthz", procs[0])
        _wait_http(f"http://127.0.0.1:{bare_port}/", procs[1])

        async def iolaos_trigger(n: int, rate: float) -> None:
            cmd = [sys.executable, str(HERE), "--produce", database_url, args.redis_url, topic, str(n), str(rate)]
            proc = await asyncio.create_subprocess_exec(*cmd)
            if rate:  # paced: wait for the producer; bursts are measured while it runs
                await proc.wait()
            else:
                asyncio.get_running_loop().create_task(proc.wait())

        control = await websockets.connect(f"ws://127.0.0.1:{bare_port}/control", compression=None)
        counter = [0]

        async def bare_trigger(n: int, rate: float) -> None:
            await control.send(json.dumps({"n": n, "rate": rate, "start": counter[0]}))
            counter[0] += n
            if rate:
                await control.recv()
            else:
                asyncio.get_running_loop().create_task(control.recv())

        for name, url, tok, trigger, pid in (
                ("bare", f"ws://127.0.0.1:{bare_port}/", None, bare_trigger, procs[1].pid),
                ("iolaos", f"ws://127.0.0.1:{iolaos_port}/ws", token, iolaos_trigger, procs[0].pid)):
            clients = Clients(args.clients)
            began = time.monotonic()
            await clients.open(url, tok, topic)
            print(f"{name}: {args.clients} clients connected in {time.monotonic() - began:.1f}s", flush=True)
            results[name] = await _run_target(name, clients, trigger, args, pid)
            await clients.close()
        await control.close()
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=15)
    _report(results, args)


def _report(results: dict[str, dict[str, float]], args: argparse.Namespace) -> None:
    bare, ours = results["bare"], results["iolaos"]
    ratio = ours["rate"] / bare["rate"]
    print()
    print(f"| server ({args.clients:,} clients, ~{MESSAGE_BYTES} B events) | delivered msg/s (best of {args.runs}) "
          f"| server CPU per message | p50 latency ({args.rate:g} ev/s) | p99 latency |")
    print("|---|---:|---:|---:|---:|")
    for name, label in (("bare", "bare `websockets.broadcast`"), ("iolaos", "IOLAOS `/ws` (SQLite, Redis wake-ups)")):
        r = results[name]
        print(f"| {label} | {r['rate']:,.0f} | {r['cpu']:.1f} µs | {r['p50']:.1f} ms | {r['p99']:.1f} ms |")
    print()
    print(f"ratio: {ratio:.2f} (IOLAOS /ws delivered messages/s ÷ bare websockets.broadcast; goal ≥ 0.5)")


def main() -> None:
    """Parse arguments and run the benchmark (or one of its helper processes)."""
    if len(sys.argv) > 2 and sys.argv[1] == "--bare-server":
        _use_uvloop()
        asyncio.run(_bare_server(int(sys.argv[2])))
        return
    if len(sys.argv) > 2 and sys.argv[1] == "--produce":
        database_url, redis_url, topic, n, rate = sys.argv[2:7]
        _produce(database_url, redis_url, topic, int(n), float(rate), batch=50)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--events", type=int, default=300, help="events per throughput run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=float, default=5, help="events/s in the latency phase")
    parser.add_argument("--seconds", type=float, default=6, help="length of the latency phase")
    parser.add_argument("--redis-url", default=os.environ.get("IOLAOS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"))
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.clients + 256)), hard))
    _use_uvloop()
    asyncio.run(_bench(args))


def _use_uvloop() -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


if __name__ == "__main__":
    main()
