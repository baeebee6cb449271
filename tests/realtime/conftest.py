"""Fixtures of the live-update tests: real uvicorn processes over copies of the test database.

Every test here talks to real services: SQLite or PostgreSQL (the ``backend`` of tests/conftest.py), Redis at
``IOLAOS_TEST_REDIS_URL`` (default redis://127.0.0.1:6379/15; skipped when unreachable, except under CI=true)
and uvicorn subprocesses on free loopback ports.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis

from iolaos.config import Settings
from tests.conftest import _TEMPLATE, Backend
from tests.realtime.live import Journal, LiveServer, get, sign_in, start_servers

REDIS_URL = os.environ.get("IOLAOS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
FANOUTS = ["memory", "redis", "postgres"]

# Short intervals so the tests run quickly; production defaults are in config.py.
QUICK = dict(realtime_heartbeat_interval=1, realtime_revalidate_interval=1, realtime_auth_timeout=1.5,
             realtime_ticket_ttl=1, realtime_stall_timeout=3)


def clone(backend: Backend, suffix: str) -> Settings:
    """A fresh copy of the template database."""
    backend.clone(_TEMPLATE, suffix)
    return backend.settings(suffix)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The machine's Redis (a test database number); skip when unreachable unless CI=true."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        message = f"Redis at {REDIS_URL} unreachable: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: not skipping)")
        pytest.skip(message)
    return REDIS_URL


@dataclass
class People:
    """Demo accounts of one database, signed in once through a server of that database."""

    server: LiveServer
    passwords: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, username: str) -> str:
        """A bearer token for ``username`` (cached)."""
        if username not in self.tokens:
            self.tokens[username] = sign_in(self.server.url, username, self.passwords[username])
        return self.tokens[username]

    def me(self, username: str) -> dict[str, Any]:
        """``/auth/me`` of ``username``."""
        return get(self.server.url, self.token(username), "/api/v1/auth/me")

    def volunteer_ids(self, username: str) -> list[int]:
        """Volunteers ``username`` may see."""
        return [v["id"] for v in get(self.server.url, self.token(username), "/api/v1/volunteers?limit=50")]


@pytest.fixture(scope="session")
def rt_db(backend: Backend, template_settings: Settings) -> Settings:
    """One database shared by the non-contract live tests of this backend."""
    return clone(backend, "rt")


@pytest.fixture(scope="session")
def rt_server(rt_db: Settings) -> Iterator[LiveServer]:
    """One server (in-process fan-out, short intervals, 0.25 s polls) for the guarantee tests."""
    server = LiveServer(rt_db, fanout="memory", realtime_poll_interval=0.25, **QUICK)
    start_servers(server)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def rt_journal(rt_db: Settings) -> Iterator[Journal]:
    """Direct access to the shared database."""
    found = Journal(rt_db)
    yield found
    found.dispose()


@pytest.fixture(scope="session")
def people(rt_server: LiveServer, demo_passwords: dict[str, str]) -> People:
    """Demo accounts on the shared server."""
    return People(rt_server, demo_passwords)


@dataclass
class Pair:
    """Two instances on one database: changes go through ``writer``, clients connect to ``reader``.

    With the in-process backend both are the same process (it cannot cross processes); with Redis or
    PostgreSQL they are two processes, so every delivery crosses the backend.
    """

    fanout: str
    writer: LiveServer
    reader: LiveServer
    journal: Journal
    people: People


@pytest.fixture(scope="module", params=FANOUTS)
def pair(request: pytest.FixtureRequest, backend: Backend, template_settings: Settings,
         demo_passwords: dict[str, str]) -> Iterator[Pair]:
    """The contract suite's servers for one fan-out backend (postgres only on PostgreSQL).

    Polls are 30 s apart, so an event that arrives within a second came through a wake-up.
    """
    fanout = request.param
    if fanout == "postgres" and backend.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY needs the PostgreSQL database")
    broker = request.getfixturevalue("redis_url") if fanout == "redis" else None
    settings = clone(backend, f"rt_contract_{fanout}")
    env: dict[str, Any] = dict(fanout=fanout, broker_url=broker, realtime_poll_interval=30, realtime_max_replay=20,
                               **QUICK)
    writer = LiveServer(settings, **env)
    reader = writer if fanout == "memory" else LiveServer(settings, **env)
    start_servers(*{writer, reader})
    journal = Journal(settings)
    yield Pair(fanout, writer, reader, journal, People(writer, demo_passwords))
    journal.dispose()
    for server in {writer, reader}:
        server.stop()
