"""Fault: one API instance of the two-instance cluster is killed (SIGKILL) while clients follow live events.

Its websocket clients reconnect through the proxy, land on the surviving instance, resume from their last seq and
end up with every event, none twice. REST through the proxy never hangs beyond 2 s.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import websockets

from iolaos.config import Settings
from tests.conftest import Backend
from tests.deploy.cluster import Cluster, subscribe
from tests.realtime.conftest import clone
from tests.realtime.live import Journal, bearer, sign_in

pytestmark = pytest.mark.cluster
CHANGES = 30


@pytest.fixture
def cluster(backend: Backend, template_settings: Settings, tmp_path: object, redis_url: str
            ) -> Iterator[tuple[Cluster, Settings]]:
    """A fresh cluster over its own copy of the template (PostgreSQL only)."""
    if backend.name != "postgresql":
        pytest.skip("the cluster runs on PostgreSQL")
    settings = clone(backend, "fault_kill")
    found = Cluster(tmp_path, settings.database_url, redis_url, realtime_poll_interval=1,  # type: ignore[arg-type]
                    realtime_heartbeat_interval=1).start()
    yield found, settings
    found.stop()


def _writer(base: str, token: str, vid: int, stop: threading.Event, slow: list[float], errors: list[str]) -> None:
    """PATCH a volunteer through the proxy until told to stop; records request times and non-200 answers."""
    with httpx.Client(timeout=2.0) as http:
        for i in range(CHANGES):
            if stop.is_set():
                return
            began = time.monotonic()
            try:
                resp = http.patch(f"{base}/api/v1/volunteers/{vid}", headers=bearer(token),
                                  json={"status": ["available", "off_duty"][i % 2]})
                if resp.status_code != 200:
                    errors.append(f"{resp.status_code} {resp.text[:100]}")
            except httpx.HTTPError as exc:
                errors.append(f"{type(exc).__name__}")
            slow.append(time.monotonic() - began)
            time.sleep(0.1)


def test_killed_instance_clients_resume_on_the_other_without_loss(
        cluster: tuple[Cluster, Settings], demo_passwords: dict[str, str]) -> None:
    found, settings = cluster
    token = sign_in(found.url, "leader.penteli", demo_passwords["leader.penteli"])
    vid = httpx.get(found.url + "/api/v1/volunteers?limit=5", headers=bearer(token), timeout=10).json()[0]["id"]
    topic = f"volunteer:{vid}"
    journal = Journal(settings)
    start_seq, _ = journal.head()
    received: list[int] = []

    async def follow() -> None:
        ws, welcome = await subscribe(found.api_url(0), token, [topic])  # on the instance that will die
        epoch, last = welcome["epoch"], start_seq
        stop, slow, errors = threading.Event(), [], []
        writer = threading.Thread(target=_writer, args=(found.url, token, vid, stop, slow, errors))
        writer.start()
        killed = False
        deadline = time.monotonic() + 60
        try:
            while time.monotonic() < deadline:
                try:
                    raw = await asyncio.wait_for(ws.recv(), timeout=3)
                except (websockets.ConnectionClosed, OSError, TimeoutError):
                    await ws.close()
                    ws, _ = await subscribe(found.url, token, [topic], after=last, epoch=epoch)  # via the proxy
                    continue
                message = json.loads(raw)
                if message["type"] == "event":
                    received.append(message["seq"])
                if message["type"] in ("event", "ping", "live") and message.get("seq") is not None:
                    last = max(last, message["seq"])
                if not killed and len(received) >= 5:
                    os.kill(found.pid(0), signal.SIGKILL)
                    killed = True
                if not writer.is_alive() and len(received) >= len(journal.seqs(topic, start_seq)) and killed:
                    break
        finally:
            stop.set()
            writer.join(timeout=30)
            await ws.close()
        assert killed, "never killed the instance"
        assert max(slow) < 2.0, f"a request took {max(slow):.2f} s"
        assert not errors, errors

    try:
        asyncio.run(follow())
        expected = journal.seqs(topic, start_seq)
    finally:
        journal.dispose()
    assert len(expected) == CHANGES
    lost = sorted(set(expected) - set(received))
    assert received == expected, f"lost {lost}, duplicates {len(received) - len(set(received))}"
