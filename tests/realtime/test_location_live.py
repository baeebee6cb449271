"""Issue 14: live delivery obeys the same visibility as REST (acceptance 2, and the "Location over /ws" findings).

One scripted field day (tests/field/scenario.py) runs against a real server while every demo user listens on
``/ws``, subscribed to every topic they may (regions, zones, organisations, themselves). Then, per user:

- the events delivered live equal the events of the day that user may read over REST at that moment (a patrol
  event: ``GET /patrols/{id}``; a position: also ``GET /patrols/{id}/positions``; an incident event:
  ``GET /incidents/{id}``; an alert's payload equals the alert as ``GET /alerts`` shows it to them);
- a resume from ``after: 0`` replays exactly the same, before the patrols end and again after they ended;
- no position, and no alert coordinates, reach anyone without ``volunteer.location`` for that patrol.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from iolaos.auth.permissions import scope_for
from iolaos.db import make_engine
from tests.auth.world import issue_token
from tests.conftest import Backend
from tests.field import scenario
from tests.realtime.conftest import clone
from tests.realtime.live import LiveServer, bearer, connect, recv, start_servers

MARKER_ZONE = "9220"  # a risk change in Marathon: public, so it closes every user's stream


@dataclass
class Stream:
    """What one socket of one user received."""

    topics: list[str]
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class World:
    """The server, the demo users and what each received."""

    server: LiveServer
    engine: Any
    tokens: dict[str, str]
    http: httpx.Client
    day: scenario.Day | None = None
    start: int = 0
    marks: dict[str, int] = field(default_factory=dict)      # phase → last seq of that phase (its marker)
    live: dict[str, Stream] = field(default_factory=dict)
    resumed: dict[str, dict[str, Stream]] = field(default_factory=dict)  # phase → user → stream from after=0
    rest: dict[str, dict[str, dict[int, dict[str, Any]]]] = field(default_factory=dict)  # phase → user → seq → view

    def call(self, username: str, method: str, path: str, json: Any = None, params: Any = None) -> httpx.Response:
        """A REST call as a demo user."""
        body = json if json is not None or method == "GET" else {}
        return self.http.request(method, path, headers=bearer(self.tokens[username]), json=body, params=params)

    def head(self) -> int:
        """The journal's last event seq."""
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT event_seq FROM journal_head WHERE id = 1")).scalar_one())

    def events(self, lo: int, hi: int) -> list[tuple[int, str, list[str], dict[str, Any]]]:
        """Stored events with ``lo < seq <= hi``: (seq, kind, topics, payload)."""
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT seq, kind, topics, payload FROM event WHERE seq > :lo AND seq <= :hi "
                                     "ORDER BY seq"), {"lo": lo, "hi": hi}).all()
        return [(seq, kind, topics.split(), json.loads(payload)) for seq, kind, topics, payload in rows]


def _candidate_topics(world: World, username: str, orgs: list[int]) -> list[str]:
    me = world.call(username, "GET", "/api/v1/auth/me").json()
    mine = [v["id"] for v in world.call(username, "GET", "/api/v1/volunteers?limit=200").json()
            if v.get("user_id") == me["id"]] if scope_for(me["role"], "volunteer.read") else []
    return ["risk", "zones", "region:GR-H", "region:GR-I", "zone:9153", "zone:9150", f"user:{me['id']}",
            *[f"volunteer:{v}" for v in mine], *[f"org:{o}" for o in orgs]]


async def _listen(world: World, username: str, topics: list[str], after: int | None) -> tuple[Any, Stream]:
    ws, _, subscribed = await connect(world.server, world.tokens[username], topics, after=after, max_size=None)
    assert subscribed is not None
    return ws, Stream(sorted(subscribed["topics"]))


async def _drain(ws: Any, stream: Stream, until: int) -> None:
    """Read events until the one with seq ``until`` (every user receives the public marker)."""
    while True:
        message = await recv(ws, timeout=20)
        if message["type"] == "event":
            stream.events.append(message)
            if message["seq"] >= until:
                return
        assert message["type"] in ("event", "live", "ping", "subscribed"), message


def _mark(world: World, phase: str) -> None:
    """A public event closing the phase: everyone who follows ``risk`` receives it."""
    from tests.planning.helpers import tomorrow

    level = {"zone_code": MARKER_ZONE, "date": tomorrow().isoformat(), "category": {"a": 2, "b": 3}[phase]}
    resp = world.call("dispatcher.attica", "POST", "/api/v1/risk/levels", {"levels": [level]})
    assert resp.status_code == 201, resp.text
    world.marks[phase] = world.head()


def _rest_view(world: World, username: str, events: list[tuple[int, str, list[str], dict[str, Any]]]
               ) -> dict[int, dict[str, Any]]:
    """For each event, what ``username`` may read of it over REST now ({} when nothing)."""
    patrols: dict[int, bool] = {}
    tracks: dict[int, list[dict[str, Any]] | None] = {}
    incidents: dict[int, bool] = {}
    alerts = {a["id"]: a for a in world.call(username, "GET", "/api/v1/alerts").json()} \
        if scope_for(_role(world, username), "alert.read") else {}
    view: dict[int, dict[str, Any]] = {}
    for seq, kind, topics, payload in events:
        incident = next((int(t[9:]) for t in topics if t.startswith("incident:")), None)
        patrol = next((int(t[7:]) for t in topics if t.startswith("patrol:")), None)
        if kind == "risk.changed":
            view[seq] = {"public": True}
        elif incident is not None:
            if incident not in incidents:
                incidents[incident] = world.call(username, "GET", f"/api/v1/incidents/{incident}").status_code == 200
            view[seq] = {"incident": incident} if incidents[incident] else {}
        elif patrol is not None:
            if patrol not in patrols:
                patrols[patrol] = world.call(username, "GET", f"/api/v1/patrols/{patrol}").status_code == 200
                track = world.call(username, "GET", f"/api/v1/patrols/{patrol}/positions")
                tracks[patrol] = track.json() if track.status_code == 200 else None
            if not patrols[patrol] or (kind == "position" and tracks[patrol] is None):
                view[seq] = {}
            elif kind.startswith("alert."):
                view[seq] = {"alert": alerts[payload["id"]]}
            else:
                view[seq] = {"patrol": patrol, "track": tracks[patrol]}
        else:
            raise AssertionError(f"the scripted day wrote an event the test cannot judge: {kind} {topics}")
    return view


def _role(world: World, username: str) -> str:
    return world.call(username, "GET", "/api/v1/auth/me").json()["role"]


async def _run_day(world: World, orgs: list[int]) -> None:
    users = sorted(world.tokens)
    topics = {u: await asyncio.to_thread(_candidate_topics, world, u, orgs) for u in users}
    sockets = {u: await _listen(world, u, topics[u], None) for u in users}
    world.live = {u: stream for u, (_, stream) in sockets.items()}
    for _, stream in sockets.values():
        assert stream.topics  # everyone may at least follow the public feeds
    world.start = await asyncio.to_thread(world.head)
    world.day = await asyncio.to_thread(scenario.plan, world.engine)
    for step in (scenario.accept, scenario.go_out, scenario.positions, scenario.stray, scenario.incident):
        await asyncio.to_thread(step, world.call, world.day)
    await asyncio.to_thread(_mark, world, "a")
    await asyncio.gather(*[_drain(ws, stream, world.marks["a"]) for ws, stream in sockets.values()])
    await _snapshot_and_resume(world, "a", topics)
    await asyncio.to_thread(scenario.end, world.call, world.day)
    await asyncio.to_thread(_mark, world, "b")
    await asyncio.gather(*[_drain(ws, stream, world.marks["b"]) for ws, stream in sockets.values()])
    await _snapshot_and_resume(world, "b", topics)
    for ws, _ in sockets.values():
        await ws.close()


async def _snapshot_and_resume(world: World, phase: str, topics: dict[str, list[str]]) -> None:
    events = await asyncio.to_thread(world.events, world.start, world.marks[phase])
    world.rest[phase] = {u: await asyncio.to_thread(_rest_view, world, u, events) for u in world.tokens}
    resumed = {u: await _listen(world, u, topics[u], 0) for u in world.tokens}
    await asyncio.gather(*[_drain(ws, stream, world.marks[phase]) for ws, stream in resumed.values()])
    for ws, _ in resumed.values():
        await ws.close()
    world.resumed[phase] = {u: stream for u, (_, stream) in resumed.items()}


@pytest.fixture(scope="module")
def world(backend: Backend, template_settings, demo_passwords: dict[str, str]) -> Iterator[World]:
    """The scripted day, run once per backend with every demo user listening."""
    settings = clone(backend, "location_live")
    server = LiveServer(settings, fanout="memory", realtime_poll_interval=0.25, realtime_max_replay=1_000_000)
    start_servers(server)
    engine = make_engine(settings)
    tokens = {u: issue_token(engine, u) for u in demo_passwords}  # signing in 29 times would cost ~30 s
    with httpx.Client(base_url=server.url, timeout=20) as http:
        found = World(server, engine, tokens, http)
        orgs = [o["id"] for o in found.call("admin", "GET", "/api/v1/organisations?limit=200").json()]
        try:
            asyncio.run(_run_day(found, orgs))
            yield found
        finally:
            engine.dispose()
            server.stop()


def _expected(world: World, phase: str, username: str, lo: int, hi: int) -> set[int]:
    """Seqs in (lo, hi] on a topic the user follows that REST lets them read (as of ``phase``)."""
    mine = set(world.live[username].topics)
    return {seq for seq, _, topics, _ in world.events(lo, hi)
            if mine.intersection(topics) and world.rest[phase][username][seq]}


def _seqs(stream: Stream, lo: int, hi: int) -> set[int]:
    return {e["seq"] for e in stream.events if lo < e["seq"] <= hi}


def test_live_and_resumed_events_equal_what_each_user_may_read_over_rest(world: World):
    a, b = world.marks["a"], world.marks["b"]
    kinds = {kind for _, kind, _, _ in world.events(world.start, b)}
    assert {"patrol.proposed", "assignment.updated", "patrol.updated", "position", "alert.raised",
            "incident.reported", "risk.changed"} <= kinds, kinds
    kind_of = {seq: kind for seq, kind, _, _ in world.events(world.start, b)}

    def same(got: set[int], want: set[int], what: str) -> None:
        assert got == want, (f"{what}: delivered but not readable over REST "
                             f"{sorted((s, kind_of.get(s)) for s in got - want)}, readable but not delivered "
                             f"{sorted((s, kind_of.get(s)) for s in want - got)}")

    for user in world.tokens:
        before_end, day = _expected(world, "a", user, world.start, a), _expected(world, "b", user, world.start, b)
        same(_seqs(world.live[user], world.start, a), before_end, f"{user} live")
        same(_seqs(world.resumed["a"][user], world.start, a), before_end, f"{user} resumed from 0")
        same(_seqs(world.live[user], a, b), {s for s in day if s > a}, f"{user} live, the patrols ending")
        same(_seqs(world.resumed["b"][user], world.start, b), day, f"{user} resumed from 0 after the end")
    receivers = {u for u in world.tokens if _seqs(world.live[u], world.start, a)}
    assert {"dispatcher.sterea", "leader.limni", "volunteer.limni", "leader.north_evia"} <= receivers


def test_payloads_delivered_equal_the_rest_view(world: World):
    for phase, streams in (("a", world.live), ("b", world.resumed["b"])):
        for user, stream in streams.items():
            view = world.rest[phase][user]
            for event in stream.events:
                seen = view.get(event["seq"])
                if seen is None:
                    continue  # before the day (a replay from 0 starts with the seeding)
                if "alert" in seen:
                    assert event["payload"]["details"] == seen["alert"]["details"], (user, event)
                if event["kind"] == "position":
                    mine = {(p["volunteer_id"], p["lon"], p["lat"]) for p in seen["track"]}
                    p = event["payload"]
                    assert (p["volunteer_id"], p["lon"], p["lat"]) in mine, (user, event)


def test_no_location_reaches_a_principal_without_volunteer_location_for_the_patrol(world: World):
    """The findings: positions of a patrol with no executing organisation went to every region or zone
    subscriber, to another organisation's volunteer, and (on org: topics) to colleagues without the right."""
    assert world.day is not None
    empty, own = world.day.patrols["empty"], world.day.patrols["own"]
    for streams in (world.live, world.resumed["a"], world.resumed["b"]):
        for user, stream in streams.items():
            role = _role(world, user)
            for event in stream.events:
                if event["kind"] == "position":
                    assert scope_for(role, "volunteer.location"), (user, event)
                if event["kind"].startswith("alert.") and scope_for(role, "volunteer.location") is None:
                    assert "lon" not in event["payload"]["details"], (user, event)

    def positions(stream: Stream, patrol: int) -> int:
        return sum(1 for e in stream.events if e["kind"] == "position" and e["payload"]["patrol_id"] == patrol)

    other = world.live["volunteer.north_evia"]
    assert "region:GR-H" in other.topics and "zone:9153" in other.topics
    assert positions(other, empty) == 0, "another organisation's volunteer received the empty patrol's positions"
    colleague = world.live["volunteer.limni"]
    assert any(t.startswith("org:") for t in colleague.topics)
    assert positions(colleague, empty) == 0 and positions(world.resumed["a"]["volunteer.limni"], empty) == 0
    assert positions(world.live["leader.limni"], empty) == 0  # crews it, neither executes nor holds it
    assert any(e["kind"] == "alert.raised" for e in world.live["leader.limni"].events)  # …but sees its alert
    for user in ("dispatcher.sterea", "coordinator.mantoudi"):  # the responsible agency, the region's dispatch
        assert positions(world.live[user], empty) == 2 and positions(world.resumed["b"][user], empty) == 2, user
    executing = "leader.north_evia"  # locates its own patrol while it is live, not once it has ended
    assert positions(world.live[executing], own) == 1 and positions(world.resumed["a"][executing], own) == 1
    assert positions(world.resumed["b"][executing], own) == 0
