"""Fault: the cluster's Redis is stopped for 30 s while clients follow live events and writes keep coming.

Two API instances behind nginx use a redis-server of this test's own (on a spare port; only that process is
killed, by its pid). Websocket clients follow one organisation's topic on each instance directly and through the
proxy while volunteer changes are written through the proxy without pause. Redis being down must only degrade
the service: REST answers every request (no error, none slower than 2 s), tickets for /ws are still issued
(valid on the issuing instance), events still reach every client (the hubs poll the table), and once Redis is
back both instances reconnect by themselves and wake-ups make delivery prompt again. Every client ends with
exactly the journal's events, in order, none twice.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from iolaos.config import Settings
from tests.conftest import Backend
from tests.deploy.cluster import Cluster
from tests.faults.clients import HUNG, Calls, Follower, repeat, wait_caught_up, ws_auth_close
from tests.faults.services import OwnRedis
from tests.realtime.conftest import clone
from tests.realtime.live import Journal, bearer, sign_in

pytestmark = pytest.mark.cluster
OUTAGE = 30.0
# The hubs' poll interval. Without wake-ups an event waits for the next poll (up to 2 s); a median delivery far
# below that after the outage shows that wake-ups through Redis are back.
POLL = 2.0
STATUSES = ("available", "off_duty", "unavailable")


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    """A redis-server of this test only."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed")
    server = OwnRedis()
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def cluster(backend: Backend, tmp_path: object, own_redis: OwnRedis,
            request: pytest.FixtureRequest) -> Iterator[tuple[Cluster, Settings]]:
    """The two-instance cluster over a fresh copy of the template, with the test's own Redis (PostgreSQL only)."""
    if backend.name != "postgresql":
        pytest.skip("the cluster runs on PostgreSQL")
    request.getfixturevalue("template_settings")
    settings = clone(backend, "fault_redis")
    found = Cluster(tmp_path, settings.database_url, own_redis.url, realtime_poll_interval=POLL,  # type: ignore[arg-type]
                    realtime_heartbeat_interval=1)
    try:
        yield found.start(), settings
    finally:
        found.stop()


def _connected(found: Cluster, token: str) -> list[bool]:
    """``backend_connected`` of each instance (asked directly, not through the proxy)."""
    return [httpx.get(found.api_url(i) + "/api/v1/realtime/status", headers=bearer(token), timeout=HUNG
                      ).json()["backend_connected"] for i in (0, 1)]


def _ticket(calls: Calls, http: httpx.Client, found: Cluster, i: int, token: str) -> str:
    """A ticket from instance ``i``; it must be issued (200) whatever the state of Redis."""
    call = calls.run(http, f"api{i}", "POST ticket", "POST", found.api_url(i) + "/api/v1/realtime/ticket",
                     headers=bearer(token))
    assert call.status == 200, f"ticket not issued: {call.describe()}"
    return str(call.body["ticket"])


def test_redis_down_30s_service_degrades_and_recovers_without_loss(
        cluster: tuple[Cluster, Settings], own_redis: OwnRedis, demo_passwords: dict[str, str]) -> None:
    found, settings = cluster
    token = sign_in(found.url, "leader.penteli", demo_passwords["leader.penteli"])
    auth = bearer(token)
    me = httpx.get(found.url + "/api/v1/auth/me", headers=auth, timeout=10).json()
    topic = f"org:{me['organisation_id']}"
    volunteers = [v["id"] for v in httpx.get(found.url + "/api/v1/volunteers?limit=5", headers=auth,
                                             timeout=10).json()]
    written, probed = volunteers[0], volunteers[1]
    journal = Journal(settings)
    start, epoch = journal.head()
    calls = Calls()
    http = httpx.Client()
    stop_writes = threading.Event()
    marks: dict[str, float] = {}
    checks: dict[str, object] = {}

    def write(i: int) -> None:
        """Through the proxy: a volunteer change, and every fifth turn a ticket."""
        calls.run(http, "proxy", "PATCH volunteer", "PATCH", f"{found.url}/api/v1/volunteers/{written}",
                  headers=auth, json={"status": STATUSES[i % 3]})
        if i % 5 == 0:
            calls.run(http, "proxy", "POST ticket", "POST", found.url + "/api/v1/realtime/ticket", headers=auth)

    followers = [Follower(name, first, found.url, token, topic, start, epoch)
                 for name, first in (("api0", found.api_url(0)), ("api1", found.api_url(1)), ("proxy", found.url))]

    async def scenario() -> None:
        stop = asyncio.Event()
        tasks = [asyncio.create_task(f.run(stop)) for f in followers]
        writer = repeat(write, stop_writes, 0.05)
        try:
            await asyncio.sleep(2)
            own_redis.kill()
            marks["down"] = time.monotonic()
            await asyncio.sleep(3)
            checks["connected while down"] = await asyncio.to_thread(_connected, found, token)
            # Tickets while Redis is down: issued, redeemable on the issuing instance, "try again later"
            # (1013: the client retries) and never "unknown ticket" (4001: sign in again) on the other one.
            ticket = await asyncio.to_thread(_ticket, calls, http, found, 0, token)
            checks["local ticket on its instance"] = await ws_auth_close(found.api_url(0),
                                                                         {"type": "auth", "ticket": ticket})
            ticket = await asyncio.to_thread(_ticket, calls, http, found, 0, token)
            checks["local ticket elsewhere"] = await ws_auth_close(found.api_url(1), {"type": "auth", "ticket": ticket})
            await asyncio.sleep(max(0.0, marks["down"] + OUTAGE - time.monotonic()))
            await asyncio.to_thread(own_redis.start)
            marks["up"] = time.monotonic()
            while not all(await asyncio.to_thread(_connected, found, token)):
                assert time.monotonic() - marks["up"] < 10, "the instances did not reconnect to Redis within 10 s"
                await asyncio.sleep(0.1)
            marks["reconnected"] = time.monotonic()
            await asyncio.sleep(3)
            stop_writes.set()
            await asyncio.to_thread(writer.join, 10)
            # Shared tickets again: one issued by instance 0 opens a socket on instance 1.
            while "." in (ticket := await asyncio.to_thread(_ticket, calls, http, found, 0, token)):
                assert time.monotonic() - marks["reconnected"] < 10, "tickets still local 10 s after reconnecting"
                await asyncio.sleep(0.2)
            checks["shared ticket elsewhere"] = await ws_auth_close(found.api_url(1),
                                                                    {"type": "auth", "ticket": ticket})
            # Prompt delivery: changes written on instance 0 reach the client of instance 1 only through a
            # wake-up over Redis or the next poll (nothing else is written meanwhile).
            await asyncio.sleep(1)
            marks["probes"] = time.monotonic()
            for i in range(10):
                await asyncio.to_thread(calls.run, http, "api0", "PATCH volunteer", "PATCH",
                                        f"{found.api_url(0)}/api/v1/volunteers/{probed}", headers=auth,
                                        json={"status": STATUSES[i % 3]})
                await asyncio.sleep(0.3)
            head = (await asyncio.to_thread(journal.head))[0]
            await wait_caught_up(followers, head, 15)
        finally:
            stop.set()
            stop_writes.set()
            failures = [r for r in await asyncio.gather(*tasks, return_exceptions=True) if r is not None]
            assert not failures, failures

    try:
        asyncio.run(scenario())
        expected = journal.seqs(topic, start)
    finally:
        stop_writes.set()
        http.close()
        journal.dispose()

    during = calls.between(marks["down"], marks["up"])
    slowest = max(calls.items, key=lambda c: c.seconds)
    probe = [lat for _, lat, topics in followers[1].received if f"volunteer:{probed}" in topics]
    outage_latency = [lat for f in followers for seq, lat, _ in f.received]
    print(f"\nredis down {OUTAGE:.0f} s: {len(calls.items)} REST calls ({len(during)} during the outage), slowest "
          f"{slowest.seconds:.3f} s, max during the outage {max(c.seconds for c in during):.3f} s; instances "
          f"reconnected {marks['reconnected'] - marks['up']:.1f} s after Redis restarted; {len(expected)} events, "
          f"max delivery {max(outage_latency):.2f} s; cross-instance delivery after: median "
          f"{statistics.median(probe) if probe else float('nan'):.3f} s")

    errors = [c.describe() for c in calls.items if c.status != 200]
    assert not errors, f"{len(errors)} REST errors: {errors[:10]}"
    assert slowest.seconds < HUNG, f"a request took too long: {slowest.describe()}"
    assert len(during) >= 100, f"only {len(during)} requests during the outage"
    assert checks["connected while down"] == [False, False], "the instances did not notice that Redis was down"
    assert checks["local ticket on its instance"] == ("welcome", None), checks
    assert checks["local ticket elsewhere"] == ("closed", 1013), checks
    assert checks["shared ticket elsewhere"] == ("welcome", None), checks
    assert len(expected) >= 200, f"only {len(expected)} events were written"
    for follower in followers:
        assert follower.reconnects == 0, f"{follower.name}: the socket dropped {follower.reconnects} times"
        follower.check(expected)
    assert len(probe) == 10 and statistics.median(probe) < 0.5, f"wake-ups not restored: probe latencies {probe}"
