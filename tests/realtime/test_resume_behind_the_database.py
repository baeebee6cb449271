"""A resume on an instance whose hub has not yet heard of the newest commits still replays them before
``live``: the replay goes up to the database head at subscribe time, not up to the hub's high-water mark.

Two processes with the in-process fan-out cannot wake each other, and polls are 30 s apart, so the reader's
hub stays behind the events the writer commits for the whole test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from iolaos.config import Settings
from tests.conftest import Backend
from tests.realtime.conftest import QUICK, People, clone
from tests.realtime.live import Journal, LiveServer, connect, events, patch_volunteer, recv_until, start_servers


@pytest.fixture(scope="module")
def lagging(backend: Backend, template_settings: Settings,
            demo_passwords: dict[str, str]) -> Iterator[tuple[LiveServer, LiveServer, Journal, People]]:
    settings = clone(backend, "rt_lagging")
    env = dict(fanout="memory", realtime_poll_interval=30, **QUICK)
    writer, reader = LiveServer(settings, **env), LiveServer(settings, **env)
    start_servers(writer, reader)
    journal = Journal(settings)
    yield writer, reader, journal, People(writer, demo_passwords)
    journal.dispose()
    writer.stop()
    reader.stop()


def test_events_the_hub_has_not_seen_are_replayed_before_live(lagging):
    writer, reader, journal, people = lagging
    token = people.token("leader.penteli")
    org = people.me("leader.penteli")["organisation_id"]
    volunteer = people.volunteer_ids("leader.penteli")[0]
    start, epoch = journal.head()
    with httpx.Client() as http:
        for status in ["available", "off_duty", "available"]:
            patch_volunteer(http, writer.url, token, volunteer, status)
    missed = journal.wait_seqs(f"org:{org}", start, 3)

    async def run():
        ws, _, _ = await connect(reader, token, [f"org:{org}"], after=start, epoch=epoch)
        live, before = await recv_until(ws, lambda m: m["type"] == "live")
        await ws.close()
        return live, before
    live, before = asyncio.run(run())
    assert [e["seq"] for e in events(before)] == missed
    assert live["seq"] >= missed[-1]
