"""Field simulator: volunteer teams on patrol, driven through the public API like the field page drives it.

Each simulated team signs in as its leader (or crew member), finds the active patrol its volunteer is checked in
on, and every ``--interval`` seconds walks a little inside the patrol's zone and reports the position
(``POST /api/v1/positions``). Now and then it changes the crew's field status (on patrol → returning → on patrol)
or reports a smoke sighting nearby (``POST /api/v1/incidents``). With ``--listen`` each team also follows its
organisation's live topic on ``/ws``, as the phone does.

    # beside a running demo (make demo): prepare today's patrols through the API, then move the teams
    .venv/bin/python -m services.field_simulator --base http://127.0.0.1:8000 \\
        --credentials demo-credentials.txt --prepare --teams 10

``--prepare`` runs the morning routine of the demo regions through the API: each region's dispatcher publishes
today's fire-risk map (when none is published) and commits today's plan; each team leader declares availability
for the current shift, the dispatcher puts the leader on one of the team's current patrols, the leader accepts
the team's proposals, checks the crew in and starts the patrol. Everything is journalled like any other change.

The load benchmark (bench/load.py) uses :class:`Simulator` directly with its own accounts. The credentials file
has the layout of ``demo-credentials.txt``: one account per line, username then password.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import random
import statistics
import sys
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import shapely
import websockets
from shapely.geometry import shape

from services import morning
from services.morning import sign_in

STEP_METRES = (40.0, 160.0)  # how far a team on foot or in a 4x4 moves between two reports, at most
METRES_PER_DEGREE = 111_320.0


@dataclass
class Stats:
    """What the simulator did and how the service answered."""

    requests: int = 0
    errors: list[str] = field(default_factory=list)
    samples: list[tuple[float, float]] = field(default_factory=list)  # (wall-clock start, seconds) per request
    positions: int = 0
    statuses: int = 0
    sightings: int = 0
    events: int = 0

    def record(self, started: float, response: httpx.Response | None, what: str) -> bool:
        """Count one request; a non-2xx answer or a transport failure is an error."""
        self.requests += 1
        seconds = time.monotonic() - started
        self.samples.append((time.time() - seconds, seconds))
        if response is None or response.status_code >= 300:
            detail = "no answer" if response is None else f"{response.status_code} {response.text[:120]}"
            self.errors.append(f"{what}: {detail}")
            return False
        return True

    def p95_ms(self) -> float:
        """95th percentile request latency in milliseconds (nan with fewer than 20 requests)."""
        if len(self.samples) < 20:
            return float("nan")
        return statistics.quantiles([s for _, s in self.samples], n=20)[-1] * 1000

    def line(self) -> str:
        """One progress line."""
        return (f"requests {self.requests:,}  errors {len(self.errors)}  positions {self.positions:,}  "
                f"status changes {self.statuses}  sightings {self.sightings}  live events {self.events:,}  "
                f"p95 {self.p95_ms():.0f} ms")


@dataclass
class Team:
    """One patrol team in the field: who reports, for which patrol, where it is."""

    username: str
    token: str
    patrol_id: int
    organisation_id: int
    zone: Any  # shapely geometry of the patrol's zone
    lon: float
    lat: float
    field_status: str = "on_patrol"
    pending: list[dict[str, Any]] = field(default_factory=list)  # reports not yet accepted (weak network)

    def walk(self, rng: random.Random) -> None:
        """A step in a random direction that stays inside the zone (else a step back towards its inside)."""
        for _ in range(8):
            metres = rng.uniform(*STEP_METRES)
            angle = rng.uniform(0, 2 * math.pi)
            lon = self.lon + metres * math.cos(angle) / METRES_PER_DEGREE / max(math.cos(self.lat * 0.0174533), 0.2)
            lat = self.lat + metres * math.sin(angle) / METRES_PER_DEGREE
            if shapely.contains_xy(self.zone, lon, lat):
                self.lon, self.lat = lon, lat
                return
        inside = self.zone.representative_point()
        self.lon, self.lat = (self.lon + inside.x) / 2, (self.lat + inside.y) / 2


def read_credentials(path: Path) -> dict[str, str]:
    """username → password from a file laid out like demo-credentials.txt."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2 and not line.startswith("#"):
            found[parts[0]] = parts[1]
    return found


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def find_team(http: httpx.AsyncClient, username: str, token: str, zones: dict[str, Any]) -> Team | None:
    """The active patrol this account's volunteer is checked in on (None when there is none)."""
    me = (await http.get("/api/v1/auth/me", headers=_bearer(token))).json()
    mine = [v["id"] for v in (await http.get("/api/v1/volunteers", headers=_bearer(token),
                                             params={"limit": 500})).json() if v.get("user_id") == me["id"]]
    patrols = (await http.get("/api/v1/patrols", headers=_bearer(token),
                              params={"status": "active", "limit": 500})).json()
    for patrol in patrols:
        if any(c["volunteer_id"] in mine and c["status"] == "checked_in" for c in patrol["crew"]):
            zone = await zone_shape(http, token, patrol["zone_code"], zones)
            start = zone.representative_point()
            return Team(username, token, int(patrol["patrol_id"]), int(me["organisation_id"]), zone, start.x,
                        start.y)
    return None


async def wait_ready(http: httpx.AsyncClient, seconds: float = 120.0) -> None:
    """Return once ``/readyz`` answers 200 (the demo starts the simulator before its server is up)."""
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(httpx.TransportError):
            if (await http.get("/readyz")).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the service did not become ready within {seconds:.0f} s")
        await asyncio.sleep(0.5)


async def zone_shape(http: httpx.AsyncClient, token: str, code: str, cache: dict[str, Any]) -> Any:
    """A zone's geometry (prepared for fast point-in-polygon tests), fetched once per code."""
    if code not in cache:
        resp = await http.get(f"/api/v1/zones/{code}", headers=_bearer(token))
        resp.raise_for_status()
        geometry = shape(resp.json()["geometry"])
        shapely.prepare(geometry)
        cache[code] = geometry
    return cache[code]


class Simulator:
    """Moves teams and reports for them until a deadline; counts everything in :attr:`stats`."""

    def __init__(self, base_url: str, *, interval: float = 5.0, smoke_chance: float = 0.01,
                 status_chance: float = 0.02, listen: bool = False, seed: int = 1821) -> None:
        self.base_url = base_url.rstrip("/")
        self.interval = interval
        self.smoke_chance = smoke_chance
        self.status_chance = status_chance
        self.listen = listen
        self.rng = random.Random(seed)
        self.stats = Stats()
        self.teams: list[Team] = []

    def client(self, connections: int = 50) -> httpx.AsyncClient:
        """An HTTP client for the service (keep-alive, bounded pool, short timeouts as a phone would use)."""
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        return httpx.AsyncClient(base_url=self.base_url, limits=limits, timeout=httpx.Timeout(10.0, connect=5.0))

    async def join(self, http: httpx.AsyncClient, accounts: Iterable[tuple[str, str]], limit: int) -> list[Team]:
        """Sign in and find each account's active patrol, until ``limit`` teams are in the field."""
        zones: dict[str, Any] = {}
        for username, password in accounts:
            if len(self.teams) >= limit:
                break
            token = await sign_in(http, username, password)
            team = await find_team(http, username, token, zones)
            if team is not None:
                self.teams.append(team)
        return self.teams

    async def run(self, seconds: float, *, progress: float = 10.0) -> Stats:
        """Every team reports every ``interval`` seconds (spread evenly) for ``seconds``; prints progress."""
        deadline = time.monotonic() + seconds
        tasks = [asyncio.create_task(self._team_loop(team, i, deadline)) for i, team in enumerate(self.teams)]
        listeners = [asyncio.create_task(self._listen(team, deadline)) for team in self.teams] if self.listen else []
        reporter = asyncio.create_task(self._progress(progress)) if progress > 0 else None
        await asyncio.gather(*tasks)
        for task in [*listeners, *([reporter] if reporter else [])]:
            task.cancel()
        await asyncio.gather(*listeners, *([reporter] if reporter else []), return_exceptions=True)
        return self.stats

    async def _progress(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            print(f"field simulator: {len(self.teams)} teams  {self.stats.line()}", flush=True)

    async def _team_loop(self, team: Team, index: int, deadline: float) -> None:
        # Teams start spread over one interval, as phones do, instead of all reporting in the same instant.
        await asyncio.sleep(self.interval * index / max(len(self.teams), 1))
        next_at = time.monotonic()
        async with self.client(connections=1) as http:  # each phone has its own connection
            while next_at < deadline:
                await self.tick(http, team)
                next_at += self.interval
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def tick(self, http: httpx.AsyncClient, team: Team) -> None:
        """One report: a step and its position; sometimes a field status change or a smoke sighting."""
        team.walk(self.rng)
        now = datetime.now(UTC).isoformat()
        team.pending.append({"patrol_id": team.patrol_id, "at": now, "lon": round(team.lon, 6),
                             "lat": round(team.lat, 6), "accuracy_m": round(self.rng.uniform(4, 25), 1)})
        batch, team.pending = team.pending[-500:], []
        started = time.monotonic()
        resp = await self._send(http, "POST", "/api/v1/positions", team, {"reports": batch})
        if self.stats.record(started, resp, "positions") and resp is not None:
            self.stats.positions += int(resp.json()["accepted"])
        elif resp is None:
            team.pending = batch  # the phone keeps what it could not send and sends it with the next report
        roll = self.rng.random()
        if roll < self.status_chance:
            await self._toggle_status(http, team)
        elif roll < self.status_chance + self.smoke_chance:
            await self._report_smoke(http, team)

    async def _toggle_status(self, http: httpx.AsyncClient, team: Team) -> None:
        team.field_status = "returning" if team.field_status == "on_patrol" else "on_patrol"
        started = time.monotonic()
        resp = await self._send(http, "POST", f"/api/v1/patrols/{team.patrol_id}/field-status", team,
                                {"status": team.field_status})
        if self.stats.record(started, resp, "field-status"):
            self.stats.statuses += 1

    async def _report_smoke(self, http: httpx.AsyncClient, team: Team) -> None:
        lon = team.lon + self.rng.uniform(-0.01, 0.01)
        lat = team.lat + self.rng.uniform(-0.01, 0.01)
        body = {"kind": "smoke", "severity": self.rng.choice(["low", "medium", "medium", "high"]),
                "description": "Καπνός στον ορίζοντα / smoke on the horizon (field simulator)",
                "point": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}}
        started = time.monotonic()
        resp = await self._send(http, "POST", "/api/v1/incidents", team, body)
        if self.stats.record(started, resp, "incident"):
            self.stats.sightings += 1

    async def _send(self, http: httpx.AsyncClient, method: str, path: str, team: Team,
                    body: dict[str, Any]) -> httpx.Response | None:
        """One write with an idempotency key, retried once on a transport failure (a weak network)."""
        headers = {**_bearer(team.token), "Idempotency-Key": uuid.uuid4().hex}
        for attempt in range(2):
            try:
                return await http.request(method, path, json=body, headers=headers)
            except httpx.TransportError:
                if attempt == 1:
                    return None
                await asyncio.sleep(0.5)
        return None

    async def _listen(self, team: Team, deadline: float) -> None:
        """Follow the team's organisation live, as the field page does; reconnect and resume when dropped."""
        url = self.base_url.replace("http", "ws", 1) + "/ws"
        after: int | None = None
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, websockets.ConnectionClosed, TimeoutError):
                async with websockets.connect(url, open_timeout=10) as ws:
                    # Several messages per frame, one per line, when the server is busy (docs/realtime.md).
                    await ws.send(json.dumps({"type": "auth", "token": team.token, "frames": "batch"}))
                    request: dict[str, Any] = {"type": "subscribe", "topics": [f"org:{team.organisation_id}"]}
                    if after is not None:
                        request["after"] = after
                    await ws.send(json.dumps(request))
                    async for frame in ws:
                        for raw in str(frame).split("\n"):
                            message = json.loads(raw)
                            if message.get("type") == "event":
                                self.stats.events += 1
                            if message.get("seq") is not None and message.get("type") in ("event", "live", "ping"):
                                after = message["seq"]
            await asyncio.sleep(1.0)


async def _main(args: argparse.Namespace) -> int:
    path = Path(args.credentials)
    if not path.is_file():
        print(f"field simulator: no credentials file at {path} (`iolaos demo` writes demo-credentials.txt in the "
              "folder it runs in)", file=sys.stderr)
        return 2
    credentials = read_credentials(path)
    simulator = Simulator(args.base, interval=args.interval, smoke_chance=args.smoke_chance,
                          status_chance=args.status_chance, listen=args.listen, seed=args.seed)
    async with simulator.client() as http:
        if args.wait:
            await wait_ready(http)
        if args.prepare:
            await morning.prepare(http, credentials, regions=args.regions.split(","), log=print)
        leaders = [(u, p) for u, p in credentials.items() if u.startswith(("leader.", "volunteer."))]
        others = [(u, p) for u, p in credentials.items() if not u.startswith(("leader.", "volunteer."))]
        teams = await simulator.join(http, [*leaders, *others], args.teams)
        if not teams:
            print("field simulator: no account in the credentials file is checked in on an active patrol "
                  "(run with --prepare beside the demo)", file=sys.stderr)
            return 2
        print(f"field simulator: {len(teams)} teams in the field, reporting every {args.interval:g} s "
              f"for {args.duration:g} s", flush=True)
        stats = await simulator.run(args.duration)
    print(f"field simulator: done. {stats.line()}")
    for error in stats.errors[:10]:
        print(f"  error: {error}", file=sys.stderr)
    return 1 if stats.errors else 0


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000", help="the service's base URL")
    parser.add_argument("--credentials", default="demo-credentials.txt", help="username password per line")
    parser.add_argument("--teams", type=int, default=10, help="how many teams to move (at most)")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between two reports of a team")
    parser.add_argument("--duration", type=float, default=3600.0, help="seconds to run")
    parser.add_argument("--smoke-chance", type=float, default=0.005, help="chance of a sighting per report")
    parser.add_argument("--status-chance", type=float, default=0.02, help="chance of a status change per report")
    parser.add_argument("--prepare", action="store_true", help="plan and start today's patrols through the API")
    parser.add_argument("--regions", default="GR-I,GR-H", help="regions --prepare plans (comma-separated codes)")
    parser.add_argument("--listen", action=argparse.BooleanOptionalAction, default=True,
                        help="follow each team's organisation on /ws")
    parser.add_argument("--wait", action="store_true", help="wait (up to 2 min) until the service is ready")
    parser.add_argument("--seed", type=int, default=1821, help="random seed (walks, sightings)")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(_main(args))
    except (RuntimeError, httpx.HTTPError) as exc:
        print(f"field simulator: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
