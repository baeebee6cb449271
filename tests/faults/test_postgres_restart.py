"""Fault: PostgreSQL restarts (``pg_ctl restart -m fast``), then stops for 5 s, under steady traffic.

The two-instance cluster runs on a private PostgreSQL server of this test's own (a spare port, filled from the
test template), so stopping it disturbs nothing else. While it is down every request, through the proxy or
straight to an instance, must answer within 2 s (none hung), and every failure must be 503 in the one error
shape with the code ``database_unavailable`` (never 500); ``/healthz`` stays 200 while ``/readyz`` says 503.
Once the server is back, requests succeed again within seconds without restarting the API; websocket clients
that subscribed before end with every event (resuming if their socket dropped), none twice; and no write is
half-done: every journalled change has its audit record, the chain verifies, and every 200 has its event.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from iolaos.config import Settings
from tests.conftest import _TEMPLATE, Backend
from tests.deploy.cluster import Cluster
from tests.faults.clients import HUNG, Call, Calls, Follower, repeat, wait_caught_up, ws_auth_close
from tests.faults.services import OwnPostgres
from tests.realtime.live import Journal, bearer, sign_in

pytestmark = pytest.mark.cluster
DOWN = 5.0  # seconds the server stays stopped
RECOVERY = 3.0  # every request that begins this long after the server is back must succeed
STATUSES = ("available", "off_duty", "unavailable")
UNAVAILABLE = "database_unavailable"


@pytest.fixture
def own_pg(backend: Backend, request: pytest.FixtureRequest) -> Iterator[tuple[OwnPostgres, str]]:
    """A private PostgreSQL server with a copy of the template database; removed afterwards."""
    if backend.name != "postgresql":
        pytest.skip("the cluster runs on PostgreSQL")
    request.getfixturevalue("template_settings")
    server = OwnPostgres()
    try:
        server.init()
        yield server, server.copy_database(backend.url(_TEMPLATE), "iolaos_fault_pg")
    finally:
        server.destroy()


@pytest.fixture
def cluster(own_pg: tuple[OwnPostgres, str], tmp_path: Path, redis_url: str) -> Iterator[tuple[Cluster, Settings]]:
    """The two-instance cluster on the private server (the machine's Redis carries the wake-ups)."""
    found = Cluster(tmp_path, own_pg[1], redis_url, realtime_poll_interval=1, realtime_heartbeat_interval=1)
    try:
        yield found.start(), Settings(database_url=own_pg[1])
    finally:
        found.stop()


def _verify_chain(settings: Settings) -> str:
    """``iolaos audit verify`` against the database; its output (fails the test on a broken chain)."""
    cli = Path(sys.executable).with_name("iolaos")
    done = subprocess.run([str(cli), "audit", "verify"], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "IOLAOS_DATABASE_URL": settings.database_url})
    assert done.returncode == 0, f"audit chain broken after the restarts: {done.stdout}{done.stderr}"
    return done.stdout.strip()


def _journal_pairs(journal: Journal, volunteer: int, audit_from: int, event_from: int) -> tuple[int, int, int, str]:
    """(volunteer.update audit records, their events, events without such a record, last event's status)."""
    with journal.engine.connect() as conn:
        audits = conn.execute(text("SELECT seq FROM audit_record WHERE seq > :a AND action = 'volunteer.update' "
                                   "AND subject_id = :v"), {"a": audit_from, "v": str(volunteer)}).scalars().all()
        events = conn.execute(text("SELECT audit_seq, payload FROM event WHERE seq > :e AND topics LIKE :t "
                                   "ORDER BY seq"), {"e": event_from, "t": f"% volunteer:{volunteer} %"}).all()
        status = conn.execute(text("SELECT status FROM volunteer WHERE id = :v"), {"v": volunteer}).scalar_one()
    known = set(audits)
    orphans = sum(1 for audit_seq, _ in events if audit_seq not in known)
    last = events[-1][1] if events else ""
    assert f'"status":"{status}"' in last.replace(" ", ""), f"volunteer row ({status}) ≠ its last event {last}"
    return len(audits), len(events), orphans, status


def test_postgres_restart_fails_fast_with_503_and_recovers_by_itself(
        cluster: tuple[Cluster, Settings], own_pg: tuple[OwnPostgres, str], demo_passwords: dict[str, str]) -> None:
    found, settings = cluster
    server = own_pg[0]
    token = sign_in(found.url, "leader.penteli", demo_passwords["leader.penteli"])
    auth = bearer(token)
    me = httpx.get(found.url + "/api/v1/auth/me", headers=auth, timeout=10).json()
    topic = f"org:{me['organisation_id']}"
    volunteers = [v["id"] for v in httpx.get(found.url + "/api/v1/volunteers?limit=5", headers=auth,
                                             timeout=10).json()]
    written, keyed = volunteers[0], volunteers[1]
    journal = Journal(settings)
    start, epoch = journal.head()
    with journal.engine.connect() as conn:
        audit_start = conn.execute(text("SELECT audit_seq FROM journal_head")).scalar_one()
    calls = Calls()
    stop_load = threading.Event()
    marks: dict[str, float] = {}
    checks: dict[str, object] = {}
    targets = {"proxy": found.url, "api0": found.api_url(0), "api1": found.api_url(1)}
    clients = [httpx.Client() for _ in range(3)]

    def write(i: int) -> None:
        """Through the proxy: a volunteer change."""
        calls.run(clients[0], "proxy", "PATCH volunteer", "PATCH", f"{found.url}/api/v1/volunteers/{written}",
                  headers=auth, json={"status": STATUSES[i % 3]})

    def read(i: int) -> None:
        """Reads and probes, each target in turn; and a change with an Idempotency-Key (its middleware reads
        the database before the route does)."""
        name = ("proxy", "api0", "api1")[i % 3]
        base = targets[name]
        calls.run(clients[1], name, "GET volunteer", "GET", f"{base}/api/v1/volunteers/{written}", headers=auth)
        calls.run(clients[1], name, "GET /readyz", "GET", base + "/readyz")
        calls.run(clients[1], name, "GET /healthz", "GET", base + "/healthz")
        calls.run(clients[1], name, "PATCH keyed", "PATCH", f"{base}/api/v1/volunteers/{keyed}",
                  headers={**auth, "Idempotency-Key": uuid.uuid4().hex}, json={"status": STATUSES[i % 3]})

    followers = [Follower(name, first, found.url, token, topic, start, epoch)
                 for name, first in (("api0", found.api_url(0)), ("api1", found.api_url(1)), ("proxy", found.url))]

    async def scenario() -> None:
        stop = asyncio.Event()
        tasks = [asyncio.create_task(f.run(stop)) for f in followers]
        threads = [repeat(write, stop_load, 0.05), repeat(read, stop_load, 0.05)]
        try:
            await asyncio.sleep(2)
            marks["restart"] = time.monotonic()
            await asyncio.to_thread(server.restart, "fast")
            marks["restarted"] = time.monotonic()
            await asyncio.sleep(4)
            marks["stop"] = time.monotonic()
            await asyncio.to_thread(server.stop, "fast")
            marks["stopped"] = time.monotonic()
            await asyncio.sleep(1)
            # A new socket cannot be authenticated now: "try again later" (1013) at once, not a hang or 4001.
            began = time.monotonic()
            checks["new socket while down"] = await ws_auth_close(found.api_url(0), {"type": "auth", "token": token})
            checks["new socket seconds"] = time.monotonic() - began
            await asyncio.sleep(max(0.0, marks["stopped"] + DOWN - time.monotonic()))
            marks["start"] = time.monotonic()
            await asyncio.to_thread(server.start)
            marks["up"] = time.monotonic()
            await asyncio.sleep(RECOVERY + 3)
            stop_load.set()
            for thread in threads:
                await asyncio.to_thread(thread.join, 10)
            head = (await asyncio.to_thread(journal.head))[0]
            await wait_caught_up(followers, head, 15)
        finally:
            stop.set()
            stop_load.set()
            failures = [r for r in await asyncio.gather(*tasks, return_exceptions=True) if r is not None]
            assert not failures, failures

    try:
        asyncio.run(scenario())
        expected = journal.seqs(topic, start)
        audits, events, orphans, _ = _journal_pairs(journal, written, audit_start, start)
        chain = _verify_chain(settings)
    except BaseException:
        print(f"\nprivate PostgreSQL log:\n{server.tail()}\n\ninstance 0 log:\n{found.log(0)}")
        raise
    finally:
        stop_load.set()
        for client in clients:
            client.close()
        journal.dispose()

    items = calls.items
    down = calls.between(marks["stopped"], marks["start"])
    bad = [c for c in items if c.status not in (200, 503) or (c.status == 503 and c.code != UNAVAILABLE)]
    slowest = max(items, key=lambda c: c.seconds)
    failed = [c for c in items if c.status != 200]

    def failing(after: float, before: float = float("inf")) -> list[Call]:
        """Failed requests that began between ``after`` and ``before``."""
        return [c for c in failed if after <= c.began < before]

    def recovered(after: float, before: float = float("inf")) -> float:
        """Seconds from ``after`` to the end of the last failed request that began between it and ``before``."""
        return max((c.began + c.seconds for c in failing(after, before)), default=after) - after

    ok_writes = sum(1 for c in items if c.what == "PATCH volunteer" and c.status == 200)
    failed_writes = sum(1 for c in items if c.what == "PATCH volunteer" and c.status != 200)
    # A request that began just before the stop may reach the database after it: not a recovery failure.
    before_stop = marks["stop"] - 1.0
    after_restart, after_stop = recovered(marks["restarted"], before_stop), recovered(marks["up"])
    in_restart = [c for c in failed if marks["restart"] <= c.began < marks["stop"]]
    print(f"\npostgres restart: {len(items)} REST calls, {len(failed)} answered 503 ({len(in_restart)} around "
          f"pg_ctl restart, which took {marks['restarted'] - marks['restart']:.2f} s; all ok {after_restart:.2f} s "
          f"after it); during the {DOWN:.0f} s stop: {len(down)} calls, slowest "
          f"{max((c.seconds for c in down), default=0):.3f} s, median "
          f"{statistics.median([c.seconds for c in down]) if down else 0:.3f} s; all ok {after_stop:.2f} s after "
          f"the server was back; new socket refused in {checks['new socket seconds']:.2f} s; slowest overall "
          f"{slowest.seconds:.3f} s; writes {ok_writes} ok / {failed_writes} "
          f"refused, {events} events; reconnects {[f.reconnects for f in followers]}; {chain}")

    if bad:  # a dropped connection (ReadError) leaves its cause only in the instances' logs
        print(f"\ninstance 0 log:\n{found.log(0)}\n\ninstance 1 log:\n{found.log(1)}")
    assert not bad, f"{len(bad)} answers other than 200 or 503 {UNAVAILABLE}: {[c.describe() for c in bad[:10]]}"
    assert slowest.seconds < HUNG, f"a request hung: {slowest.describe()}"
    assert all(c.status == 200 for c in items if c.what == "GET /healthz"), "/healthz must stay 200"
    for name in targets:  # the outage was real and seen everywhere
        seen = {(c.what, c.status) for c in down if c.target == name}
        assert ("GET /readyz", 503) in seen and ("PATCH keyed", 503) in seen, f"{name} during the stop: {seen}"
    assert checks["new socket while down"] == ("closed", 1013), checks
    assert checks["new socket seconds"] < HUNG, checks
    assert ("PATCH volunteer", 503) in {(c.what, c.status) for c in down}
    late: list[Call] = [c for c in failed if c.began >= marks["up"] + RECOVERY]
    assert not late, f"still failing {RECOVERY:.0f} s after the server was back: {[c.describe() for c in late[:5]]}"
    lingering = [f"{c.began - marks['restarted']:.2f} s: {c.describe()}"
                 for c in failing(marks["restarted"], before_stop)]
    assert after_restart < RECOVERY, f"still failing {after_restart:.1f} s after pg_ctl restart: {lingering[-5:]}"
    assert orphans == 0 and audits == events, f"{audits} audit records vs {events} events ({orphans} orphans)"
    assert ok_writes <= events <= ok_writes + failed_writes, f"{ok_writes} writes answered 200 but {events} events"
    assert len(expected) >= 100, f"only {len(expected)} events were written"
    for follower in followers:
        follower.check(expected)
