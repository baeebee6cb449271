"""The dispatcher consoles of the load benchmark (bench/load.py): one process holds many consoles.

Each console does what the web console does: it opens ``/ws`` through the proxy, authenticates with its own
token, follows its organisation and region (``org:<id>``, ``region:<code>``), loads the open incidents and active
patrols over REST once, and refreshes the incident list every ``refresh`` seconds (staggered). It records every
event it receives (seq, and the delivery latency: for positions from the time the phone stamped the report, for
other events from the time the server committed them), every REST request's latency and status, and every
dropped socket. A dropped socket reconnects and resumes from its last seq, so a loss would show as a missing seq.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import websockets


@dataclass
class Console:
    """One dispatcher console: what it follows and what it saw."""

    token: str
    topics: list[str]
    live_seq: int | None = None
    seqs: list[int] = field(default_factory=list)
    coalesced: list[int] = field(default_factory=list)  # seqs a received position replaced (never sent)
    delivery: list[tuple[float, float]] = field(default_factory=list)  # (wall-clock arrival, seconds late)
    reconnects: int = 0


@dataclass
class Results:
    """What a console process measured (sent back to the orchestrator)."""

    consoles: list[dict[str, Any]] = field(default_factory=list)
    rest: list[tuple[float, float, int]] = field(default_factory=list)  # (wall start, seconds, status; 0: none)
    errors: list[str] = field(default_factory=list)


def _seconds_since(stamp: str) -> float:
    return time.time() - datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


async def _follow(console: Console, ws_url: str, stop: asyncio.Event, connected: asyncio.Event,
                  errors: list[str]) -> None:
    """Stay subscribed until ``stop``; resume from the last seq after a drop."""
    last: int | None = None
    while not stop.is_set():
        try:
            async with websockets.connect(ws_url, open_timeout=30, ping_interval=None, compression=None,
                                          max_size=2**22) as ws:
                await ws.send(json.dumps({"type": "auth", "token": console.token, "frames": "batch"}))
                request: dict[str, Any] = {"type": "subscribe", "topics": console.topics}
                if last is not None:
                    request["after"] = last
                await ws.send(json.dumps(request))
                async for frame in ws:
                    for raw in str(frame).split("\n"):  # several messages per frame under load
                        message = json.loads(raw)
                        kind = message.get("type")
                        if kind == "event":
                            console.seqs.append(message["seq"])
                            console.coalesced += message.get("coalesced", [])
                            payload = message.get("payload") or {}
                            stamp = payload.get("at") if message.get("kind") == "position" else message.get("at")
                            console.delivery.append((time.time(), _seconds_since(stamp or message["at"])))
                            last = message["seq"]
                        elif kind == "live":
                            if console.live_seq is None:
                                console.live_seq = message["seq"]
                            last = max(last or 0, message["seq"])
                            connected.set()
                        elif kind == "subscribed" and message.get("denied"):
                            errors.append(f"topics denied: {message['denied']}")
                        elif kind == "reset":
                            errors.append(f"reset: {message.get('reason')}")
                        if stop.is_set():
                            return
        except (OSError, websockets.ConnectionClosed, TimeoutError) as exc:
            if stop.is_set():
                return
            console.reconnects += 1
            errors.append(f"websocket dropped: {type(exc).__name__}")
            await asyncio.sleep(0.5)


async def _rest(http: httpx.AsyncClient, console: Console, results: Results, stop: asyncio.Event,
                refresh: float, warmup: float, rng: random.Random) -> None:
    """The console's REST traffic: a first load within the warm-up (dispatchers open their consoles over
    time, not in one instant), then a refresh of the incident list every ``refresh`` seconds."""
    headers = {"Authorization": f"Bearer {console.token}"}

    async def get(path: str, params: dict[str, Any]) -> None:
        began = time.monotonic()
        try:
            resp = await http.get(path, params=params, headers=headers)
            status = resp.status_code
        except httpx.HTTPError as exc:
            status = 0
            results.errors.append(f"GET {path}: {type(exc).__name__}")
        seconds = time.monotonic() - began
        results.rest.append((time.time() - seconds, seconds, status))
        if status and status != 200:
            results.errors.append(f"GET {path}: {status}")

    await asyncio.sleep(rng.uniform(0, max(warmup, 1.0)))
    await get("/api/v1/incidents", {"open": "true", "limit": 200})
    await get("/api/v1/patrols", {"status": "active", "limit": 200})
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=refresh)
        except TimeoutError:
            await get("/api/v1/incidents", {"open": "true", "limit": 200})


async def run_consoles(base_url: str, specs: list[tuple[str, list[str]]], refresh: float, warmup: float,
                       ready: Any, go: Any, stop_flag: Any, seed: int) -> Results:
    """Connect every console (20 at a time), signal ``ready``, wait for ``go``, run until ``stop_flag``."""
    ws_url = base_url.replace("http://", "ws://") + "/ws"
    consoles = [Console(token, topics) for token, topics in specs]
    results = Results()
    stop = asyncio.Event()
    rng = random.Random(seed)
    gate = asyncio.Semaphore(20)
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=httpx.Timeout(10.0)) as http:
        followers = []
        for console in consoles:
            connected = asyncio.Event()
            async with gate:
                followers.append(asyncio.create_task(_follow(console, ws_url, stop, connected, results.errors)))
                await asyncio.wait_for(connected.wait(), 60)
        ready.set()
        while not go.is_set():
            await asyncio.sleep(0.05)
        rest = [asyncio.create_task(_rest(http, c, results, stop, refresh, warmup, rng)) for c in consoles]
        while not stop_flag.is_set():
            await asyncio.sleep(0.1)
        await _drain(consoles)
        stop.set()
        for task in followers:
            task.cancel()
        await asyncio.gather(*rest, *followers, return_exceptions=True)
    results.consoles = [{"topics": c.topics, "token": c.token, "live_seq": c.live_seq, "seqs": c.seqs,
                         "reconnects": c.reconnects,
                         "coalesced": c.coalesced, "delivery": c.delivery} for c in consoles]
    return results


async def _drain(consoles: list[Console], quiet: float = 2.0, limit: float = 30.0) -> None:
    """Wait until no console received anything for ``quiet`` seconds (at most ``limit``)."""
    deadline = time.monotonic() + limit
    seen = -1
    while time.monotonic() < deadline:
        count = sum(len(c.seqs) for c in consoles)
        if count == seen:
            return
        seen = count
        await asyncio.sleep(quiet)


def consoles_main(base_url: str, specs: list[tuple[str, list[str]]], refresh: float, warmup: float, ready: Any,
                  go: Any, stop: Any, out: Any, seed: int) -> None:
    """Process entry point: run the consoles and put their :class:`Results` (as a dict) on ``out``."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * len(specs) + 256)), hard))
    found = asyncio.run(run_consoles(base_url, specs, refresh, warmup, ready, go, stop, seed))
    out.put({"consoles": found.consoles, "rest": found.rest, "errors": found.errors})
