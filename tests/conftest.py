"""Test fixtures: every database test runs on SQLite and on PostgreSQL/PostGIS.

Each backend gets a template database, migrated and loaded once with Greece's real boundaries
(the light file). Tests that write get a fresh copy of it (``db``); read-only tests may share
the template itself (``shared_db``). With CI=true an unreachable PostgreSQL fails the run instead
of skipping it.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from iolaos.app import create_app
from iolaos.auth.actor import system_actor
from iolaos.config import Settings
from iolaos.db import make_engine, session_scope
from iolaos.demo import seed
from iolaos.hardening import server_options
from iolaos.migrate import upgrade
from iolaos.wiring import wire
from iolaos.zones import loading

PG_URL = os.environ.get("IOLAOS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/iolaos_test")
BACKENDS = [b for b in os.environ.get("IOLAOS_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]
_TEMPLATE = "tpl"
_WORK = "work"


class Backend:
    """Creates, clones and drops test databases on one backend."""

    def __init__(self, name: str, tmp: Path) -> None:
        self.name = name
        self.tmp = tmp

    def url(self, suffix: str) -> str:
        if self.name == "sqlite":
            return f"sqlite:///{self.tmp / f'iolaos_{suffix}.db'}"
        base = make_url(PG_URL)
        return base.set(database=f"{base.database}_{suffix}").render_as_string(hide_password=False)

    def settings(self, suffix: str) -> Settings:
        return Settings(database_url=self.url(suffix))

    def _admin(self) -> Engine:
        return create_engine(make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")

    def create_empty(self, suffix: str) -> None:
        if self.name == "sqlite":
            Path(make_url(self.url(suffix)).database).unlink(missing_ok=True)
            return
        name = make_url(self.url(suffix)).database
        admin = self._admin()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()

    def clone(self, source: str, target: str) -> None:
        if self.name == "sqlite":
            shutil.copyfile(make_url(self.url(source)).database, make_url(self.url(target)).database)
            return
        src, dst = make_url(self.url(source)).database, make_url(self.url(target)).database
        admin = self._admin()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dst}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{dst}" TEMPLATE "{src}"'))
        admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def _wired() -> None:
    """The test run is an entry point too: tests that call services on a bare session get the hooks the app,
    the CLI and the worker install (nothing is installed at import; tests/test_wiring.py checks that)."""
    wire()


def _pg_reachable() -> str | None:
    try:
        engine = create_engine(make_url(PG_URL).set(database="postgres"), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    """One database backend; PostgreSQL is skipped when unreachable, except under CI=true."""
    name = request.param
    if name == "postgresql":
        problem = _pg_reachable()
        if problem:
            message = f"PostgreSQL at {PG_URL} unreachable: {problem}"
            if os.environ.get("CI") == "true":
                pytest.fail(message + " (CI=true: not skipping)")
            pytest.skip(message)
        problem = _postgis_missing()
        if problem:
            if os.environ.get("CI") == "true":
                pytest.fail(problem + " (CI=true: not skipping)")
            pytest.skip(problem)  # one reason for every PostgreSQL test: pytest reports it as one line
    return Backend(name, tmp_path_factory.mktemp(name))


def _postgis_missing() -> str | None:
    """A one-line explanation when the reachable PostgreSQL cannot create the PostGIS extension."""
    engine = create_engine(make_url(PG_URL).set(database="postgres"), connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            available = conn.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")).first()
            version = conn.execute(text("SHOW server_version_num")).scalar_one()
    finally:
        engine.dispose()
    if available:
        return None
    major = int(version) // 10000
    return (f"PostgreSQL at {PG_URL} has no PostGIS: install it (Debian: apt-get install postgresql-{major}-postgis-3) "
            "or run only SQLite with IOLAOS_TEST_BACKENDS=sqlite")


@pytest.fixture(scope="session")
def template_settings(backend: Backend, demo_passwords: dict[str, str]) -> Settings:
    """A migrated database with Greece's regions and municipalities and the demo actors, built once per backend."""
    backend.create_empty(_TEMPLATE)
    settings = backend.settings(_TEMPLATE)
    upgrade(settings)
    engine = make_engine(settings)
    loading.load_greece(engine, settings, actor=system_actor("tests"))
    with session_scope(engine) as session:
        accounts = seed.seed(session)
    engine.dispose()
    demo_passwords.clear()
    demo_passwords.update({a.username: a.password for a in accounts})
    return settings


@pytest.fixture(scope="session")
def demo_passwords() -> dict[str, str]:
    """Passwords of the demo accounts of the current backend's template (random per template)."""
    return {}


@pytest.fixture(scope="session")
def sign_in(demo_passwords: dict[str, str]):
    """``sign_in(client, username)`` → Authorization headers for that demo account."""

    def _sign_in(client: TestClient, username: str) -> dict[str, str]:
        resp = client.post("/api/v1/auth/token", data={"username": username, "password": demo_passwords[username]})
        assert resp.status_code == 200, resp.text
        return {"Authorization": f"Bearer {resp.json()['access_token']}"}

    return _sign_in


@pytest.fixture
def db(backend: Backend, template_settings: Settings) -> Settings:
    """Settings of a fresh copy of the template database, for tests that write."""
    backend.clone(_TEMPLATE, _WORK)
    return backend.settings(_WORK)


@pytest.fixture
def empty_db(backend: Backend) -> Settings:
    """Settings of a migrated database with no zones."""
    backend.create_empty("empty")
    settings = backend.settings("empty")
    upgrade(settings)
    return settings


@pytest.fixture
def engine(db: Settings) -> Iterator[Engine]:
    """An engine on the fresh database."""
    eng = make_engine(db)
    yield eng
    eng.dispose()


@pytest.fixture
def client(db: Settings) -> Iterator[TestClient]:
    """An HTTP client on an app over the fresh database."""
    with TestClient(create_app(db), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def live_url(db):
    """A real server on a free loopback port over the fresh database."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(db), host="127.0.0.1", port=port, log_level="warning",
                                           **server_options(db)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="session")
def shared_db(backend: Backend, template_settings: Settings) -> Settings:
    """A copy of the template shared by read-only tests (the template must stay idle to be cloned)."""
    backend.clone(_TEMPLATE, "shared")
    return backend.settings("shared")


@pytest.fixture(scope="session")
def shared_client(shared_db: Settings) -> Iterator[TestClient]:
    """An HTTP client over the shared database, for read-only tests."""
    with TestClient(create_app(shared_db), raise_server_exceptions=False) as test_client:
        yield test_client


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say how many tests ran on each backend, so CI logs show both ran."""
    counts: Counter[tuple[str, str]] = Counter()
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") not in ("call", "setup"):
                continue
            if outcome == "passed" and report.when != "call":
                continue
            for name in ("sqlite", "postgresql"):
                if f"[{name}" in report.nodeid or f"-{name}]" in report.nodeid:
                    counts[(name, outcome)] += 1
    if counts:
        terminalreporter.section("backends")
        for name in ("sqlite", "postgresql"):
            parts = [f"{counts[(name, o)]} {o}" for o in ("passed", "failed", "error", "skipped") if counts[(name, o)]]
            if parts:
                terminalreporter.write_line(f"{name}: {', '.join(parts)}")
