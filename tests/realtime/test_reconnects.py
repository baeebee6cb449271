"""Acceptance 2: 100 forced reconnects while a writer produces events: nothing lost, duplicated or reordered."""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time

import httpx
import websockets

from tests.realtime.conftest import People
from tests.realtime.live import Journal, LiveServer, Message, connect, patch_volunteer, recv, recv_until

RECONNECTS = 100


class Stream:
    """What the client has seen: event seqs in arrival order and the resume point."""

    def __init__(self, after: int) -> None:
        self.seqs: list[int] = []
        self.after = after
        self.server_closes = 0
        self.kills = 0

    def take(self, message: Message) -> None:
        """Resume point: the largest seq in an event, ping or live message (see docs/realtime.md)."""
        assert message["type"] != "reset", message
        if message["type"] == "event":
            self.seqs.append(message["seq"])
        if message["type"] in ("event", "ping", "live") and message["seq"] is not None:
            self.after = max(self.after, message["seq"])


def _writer(server: LiveServer, token: str, volunteers: list[int], stop: threading.Event, count: list[int]) -> None:
    statuses = ["available", "off_duty", "unavailable"]
    with httpx.Client() as http:
        while not stop.is_set():
            patch_volunteer(http, server.url, token, volunteers[count[0] % len(volunteers)],
                            statuses[count[0] % len(statuses)])
            count[0] += 1


async def _session(server: LiveServer, token: str, topic: str, epoch: str, stream: Stream, index: int,
                   rng: random.Random) -> None:
    """One connection: resume, read a few messages, then the server closes it or the client dies."""
    ws, _, _ = await connect(server, token, [topic], after=stream.after, epoch=epoch)
    try:
        for _ in range(rng.randint(1, 6)):
            stream.take(await recv(ws, 0.3))
    except TimeoutError:
        pass
    if index % 2 == 0:  # server-side close while events are in flight: a malformed message gets 4000
        await ws.send("{")
        try:
            while True:
                stream.take(await recv(ws, 5))
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4000
        stream.server_closes += 1
    else:  # the client dies: TCP connection dropped without a close frame
        ws.transport.abort()
        stream.kills += 1


async def _run(server: LiveServer, token: str, topic: str, start: int, epoch: str, stop: threading.Event,
               journal: Journal, count: list[int]) -> Stream:
    stream, rng = Stream(start), random.Random(2021)
    for index in range(RECONNECTS):
        await _session(server, token, topic, epoch, stream, index, rng)
    stop.set()
    await asyncio.sleep(0.2)
    head = (await asyncio.to_thread(journal.wait_seqs, topic, start, count[0]))[-1]
    ws, _, _ = await connect(server, token, [topic], after=stream.after, epoch=epoch)
    live, before = await recv_until(ws, lambda m: m["type"] == "live", timeout=10)
    for message in [*before, live]:
        stream.take(message)
    while stream.after < head:  # the hub may not have read the last commits yet
        stream.take(await recv(ws, 5))
    await ws.close()
    return stream


def test_100_forced_reconnects_lose_duplicate_and_reorder_nothing(rt_server: LiveServer, rt_journal: Journal,
                                                                 people: People):
    token = people.token("leader.penteli")
    topic = f"org:{people.me('leader.penteli')['organisation_id']}"
    volunteers = people.volunteer_ids("leader.penteli")[:6]
    start, epoch = rt_journal.head()
    stop, count = threading.Event(), [0]
    thread = threading.Thread(target=_writer, args=(rt_server, token, volunteers, stop, count), daemon=True)
    began = time.monotonic()
    thread.start()
    try:
        stream = asyncio.run(_run(rt_server, token, topic, start, epoch, stop, rt_journal, count))
    finally:
        stop.set()
        thread.join(timeout=30)
    expected = rt_journal.wait_seqs(topic, start, count[0])
    took = time.monotonic() - began
    assert stream.server_closes + stream.kills == RECONNECTS
    assert len(expected) == count[0] and count[0] >= 100, f"only {count[0]} events written in {took:.1f}s"
    duplicates = len(stream.seqs) - len(set(stream.seqs))
    out_of_order = sum(1 for a, b in zip(stream.seqs, stream.seqs[1:], strict=False) if b <= a)
    lost = sorted(set(expected) - set(stream.seqs))
    assert (lost[:10], duplicates, out_of_order) == ([], 0, 0), json.dumps(
        {"lost": len(lost), "duplicates": duplicates, "out_of_order": out_of_order})
    print(f"\nreconnects: {stream.server_closes} server-side, {stream.kills} kills; {count[0]} events in {took:.1f}s; "
          f"client saw {len(stream.seqs)} in order")
    assert stream.seqs == expected
