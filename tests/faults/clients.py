"""Clients of the fault tests: a websocket follower that resumes after any drop, and timed REST calls.

Both record what they saw so that a test can assert afterwards, with figures in the failure message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import websockets

from tests.deploy.cluster import subscribe

# No request may take longer than this (the acceptance); the client gives up a little later so that a
# hung request is recorded as such instead of blocking the test.
HUNG = 2.0
CLIENT_TIMEOUT = 3.0


@dataclass
class Call:
    """One REST request and its outcome."""

    began: float  # time.monotonic()
    seconds: float
    target: str  # "proxy", "api0", "api1"
    what: str  # e.g. "PATCH volunteer"
    status: int  # 0: no HTTP answer (connection refused, reset or client timeout)
    code: str | None  # the "error" field of the one error shape, when there is one
    failure: str = ""  # exception name or the start of an unexpected body
    body: Any = None  # the JSON body of a successful answer

    def describe(self) -> str:
        """A line for failure messages."""
        return f"{self.what} via {self.target}: {self.status} {self.code or ''} {self.failure} ({self.seconds:.2f} s)"


@dataclass
class Calls:
    """Every timed request of a test (appended from several threads)."""

    items: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, http: httpx.Client, target: str, what: str, method: str, url: str, **kwargs: Any) -> Call:
        """Send one request and record it; never raises for HTTP or connection problems."""
        began = time.monotonic()
        status, code, failure, body = 0, None, "", None
        try:
            resp = http.request(method, url, timeout=CLIENT_TIMEOUT, **kwargs)
            status = resp.status_code
            if status < 300:
                body = resp.json() if resp.headers.get("content-type", "").startswith("application/json") else None
            else:
                try:
                    shape = resp.json()
                    code = shape.get("error") if isinstance(shape, dict) else None
                except ValueError:
                    failure = resp.text[:80].replace("\n", " ")
        except httpx.HTTPError as exc:
            failure = type(exc).__name__
        call = Call(began, time.monotonic() - began, target, what, status, code, failure, body)
        with self.lock:
            self.items.append(call)
        return call

    def between(self, start: float, end: float) -> list[Call]:
        """Requests that began in [start, end)."""
        return [c for c in self.items if start <= c.began < end]


def repeat(step: Callable[[int], None], stop: threading.Event, pause: float) -> threading.Thread:
    """Run ``step(i)`` for i = 0, 1, … in a daemon thread until ``stop`` is set."""

    def loop() -> None:
        i = 0
        while not stop.is_set():
            step(i)
            i += 1
            stop.wait(pause)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


@dataclass
class Follower:
    """Follows one topic over /ws from ``first`` (an instance or the proxy); after any drop it reconnects through
    ``again`` and resumes after the last seq it saw, as docs/realtime.md tells clients to."""

    name: str
    first: str
    again: str
    token: str
    topic: str
    last: int
    epoch: str
    received: list[tuple[int, float, tuple[str, ...]]] = field(default_factory=list)  # seq, latency s, topics
    reconnects: int = 0
    refusals: list[str] = field(default_factory=list)  # why a reconnection attempt failed
    resets: list[dict[str, Any]] = field(default_factory=list)  # a resume must never need one here

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop``: read events; reconnect and resume whenever the socket drops or falls silent."""
        ws: Any = None
        base = self.first
        while not stop.is_set():
            if ws is None:
                try:
                    ws, _ = await subscribe(base, self.token, [self.topic], after=self.last, epoch=self.epoch)
                except (OSError, websockets.WebSocketException, AssertionError, TimeoutError) as exc:
                    self.refusals.append(f"{type(exc).__name__}: {str(exc)[:80]}")
                    await asyncio.sleep(0.5)
                    continue
                base = self.again
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=3)  # heartbeats come every second
            except (websockets.ConnectionClosed, OSError, TimeoutError):
                await _close(ws)
                ws = None
                self.reconnects += 1
                continue
            message = json.loads(raw)
            if message["type"] == "event":
                at = datetime.fromisoformat(message["at"].replace("Z", "+00:00")).timestamp()
                self.received.append((message["seq"], time.time() - at, tuple(message["topics"])))
            elif message["type"] == "reset":
                self.resets.append(message)
            if message["type"] in ("event", "ping", "live") and message.get("seq") is not None:
                self.last = max(self.last, message["seq"])
        if ws is not None:
            await _close(ws)

    def seqs(self) -> list[int]:
        """The seqs received, in arrival order."""
        return [seq for seq, _, _ in self.received]

    def check(self, expected: list[int]) -> None:
        """Every expected seq, in order, none twice, nothing else."""
        got = self.seqs()
        lost = sorted(set(expected) - set(got))
        twice = len(got) - len(set(got))
        assert not self.resets, f"{self.name}: the server answered a resume with reset: {self.resets[:3]}"
        assert got == expected, (f"{self.name}: {len(got)} events received of {len(expected)}; lost {lost[:20]}, "
                                 f"{twice} twice, in order: {got == sorted(got)}; {self.reconnects} reconnects, "
                                 f"refusals {self.refusals[:5]}")


async def _close(ws: Any) -> None:
    with contextlib.suppress(Exception):  # already gone: nothing to close
        await asyncio.wait_for(ws.close(), timeout=2)


async def wait_caught_up(followers: list[Follower], head: int, timeout: float) -> None:
    """Wait until every follower has seen ``head`` (events, pings or ``live``), or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while any(f.last < head for f in followers) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)


async def ws_auth_close(base: str, first: dict[str, Any]) -> tuple[str, int | None]:
    """Open /ws at ``base``, send ``first``; returns ("welcome", None) or ("closed", close code)."""
    url = base.replace("http://", "ws://") + "/ws"
    async with websockets.connect(url, open_timeout=5) as ws:
        await ws.send(json.dumps(first))
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), timeout=HUNG))
        except websockets.ConnectionClosed as closed:
            return "closed", closed.rcvd.code if closed.rcvd else None
        return str(message.get("type")), None
