"""Acceptance 4: Redis stopped for 10 s during a stream; REST keeps answering, clients end up with every event.

The test starts its own redis-server on a spare loopback port and kills only that process.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import subprocess
import threading
import time
from datetime import datetime

import httpx
import pytest

from iolaos.config import Settings
from tests.conftest import Backend
from tests.realtime.conftest import QUICK, People, clone
from tests.realtime.live import Journal, LiveServer, connect, free_port, patch_volunteer, recv, start_servers

OUTAGE = 10.0


class OwnRedis:
    """A redis-server of this test only, on a fixed spare port so that it can come back at the same address."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Its URL."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it and wait until it answers."""
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
                return
            except redis.RedisError:
                assert time.monotonic() < deadline, "own redis-server did not start"
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL this test's own redis-server (by its pid)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)


@pytest.fixture
def own_redis():
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed")
    server = OwnRedis()
    server.start()
    yield server
    server.kill()


def _writer(server: LiveServer, token: str, volunteers: list[int], stop: threading.Event,
            latencies: list[tuple[float, float]]) -> None:
    statuses = ["available", "off_duty", "unavailable"]
    with httpx.Client() as http:
        i = 0
        while not stop.is_set():
            began = time.monotonic()
            patch_volunteer(http, server.url, token, volunteers[i % len(volunteers)], statuses[i % 3])
            latencies.append((began, time.monotonic() - began))
            i += 1
            time.sleep(0.02)


def test_redis_outage_keeps_rest_answering_and_loses_no_event(backend: Backend, template_settings: Settings,
                                                              demo_passwords: dict[str, str], own_redis: OwnRedis):
    settings = clone(backend, "rt_outage")
    env = dict(fanout="redis", broker_url=own_redis.url, realtime_poll_interval=2, **QUICK)
    writer, reader = LiveServer(settings, **env), LiveServer(settings, **env)
    start_servers(writer, reader)
    journal = Journal(settings)
    people = People(writer, demo_passwords)
    try:
        token = people.token("leader.penteli")
        topic = f"org:{people.me('leader.penteli')['organisation_id']}"
        volunteers = people.volunteer_ids("leader.penteli")[:5]
        start, epoch = journal.head()
        received: list[tuple[int, float, float]] = []  # seq, arrival, latency (s)
        latencies: list[tuple[float, float]] = []
        stop = threading.Event()
        thread = threading.Thread(target=_writer, args=(writer, token, volunteers, stop, latencies), daemon=True)

        async def run() -> dict[str, float]:
            ws, _, _ = await connect(reader, token, [topic], after=start, epoch=epoch)
            marks: dict[str, float] = {}

            async def listen() -> None:
                while True:
                    message = await recv(ws, 30)
                    if message["type"] == "event":
                        at = datetime.fromisoformat(message["at"].replace("Z", "+00:00")).timestamp()
                        received.append((message["seq"], time.monotonic(), time.time() - at))

            listener = asyncio.create_task(listen())
            thread.start()
            await asyncio.sleep(2)
            own_redis.kill()
            marks["down"] = time.monotonic()
            await asyncio.sleep(OUTAGE)
            await asyncio.to_thread(own_redis.start)
            marks["up"] = time.monotonic()
            deadline = time.monotonic() + 10
            while not all(await asyncio.to_thread(lambda: [s.status(token)["backend_connected"]
                                                           for s in (writer, reader)])):
                assert time.monotonic() < deadline, "the servers did not reconnect to Redis"
                await asyncio.sleep(0.2)
            marks["reconnected"] = time.monotonic()
            await asyncio.sleep(2)
            stop.set()
            await asyncio.to_thread(thread.join, 30)
            head = (await asyncio.to_thread(journal.wait_seqs, topic, start, len(latencies)))[-1]
            deadline = time.monotonic() + 10
            while (not received or received[-1][0] < head) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            listener.cancel()
            await ws.close()
            return marks

        marks = asyncio.run(run())
    finally:
        stop.set()
        journal_seqs = journal.seqs(topic, start)
        journal.dispose()
        writer.stop()
        reader.stop()

    during = [lat for began, lat in latencies if marks["down"] <= began <= marks["up"]]
    after = [lat for seq, arrival, lat in received if arrival > marks["reconnected"] + 0.5]
    print(f"\nredis outage: {len(during)} REST writes while down (max {max(during, default=0):.3f}s), "
          f"{len(received)} events received of {len(journal_seqs)}, reconnected "
          f"{marks['reconnected'] - marks['up']:.1f}s after restart, median delivery after "
          f"{statistics.median(after) if after else float('nan'):.3f}s")
    assert len(during) >= 50, f"REST answered only {len(during)} writes during the outage"
    assert max(lat for _, lat in latencies) < 2.0, "a REST write waited on Redis"
    assert [seq for seq, _, _ in received] == journal_seqs, "the client must end up with every event, in order"
    assert after and statistics.median(after) < 0.5, f"wake-ups not restored after Redis came back: {after[:10]}"
