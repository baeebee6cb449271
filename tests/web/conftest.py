"""Fixtures of the browser tests: a real uvicorn server over a fresh demo database and headless Chromium.

The browser is Debian's ``/usr/bin/chromium`` driven by Playwright (no browser download). Every page opened
through ``browsing.open`` is guarded: a console error, an uncaught page error, or any request (HTTP or websocket)
to a host other than the service fails the test. The tests run on SQLite only (the pages do not care which
database serves the API, and the API itself is tested on both backends elsewhere).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from iolaos.config import Settings
from tests.web.server import CHROMIUM, CHROMIUM_ARGS, Server

LEAFLET = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "leaflet" / "dist" / "leaflet-src.esm.js"


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker of these tests."""
    config.addinivalue_line("markers", "browser: drives headless Chromium against a live server (SQLite only)")


def _missing(what: str) -> None:
    """Skip, or fail under CI=true, when something the browser tests need is not installed."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} (CI=true: not skipping)")
    pytest.skip(what)


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium per test module.

    Not per session: Playwright's sync API keeps an event loop on the main thread while it runs, and later
    tests that call asyncio.run() (the live-update tests on the other backend) would fail while it is open.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[dev]')")
    if not CHROMIUM.exists():
        _missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    if not LEAFLET.exists():
        _missing("Leaflet is not installed in web/node_modules (make web)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def web_db(request: pytest.FixtureRequest, backend) -> Settings:
    """The fresh demo database (the ``db`` fixture), on SQLite only."""
    if backend.name != "sqlite":
        pytest.skip("browser tests run on SQLite only (the API is tested on both backends elsewhere)")
    return request.getfixturevalue("db")


@pytest.fixture
def serve(web_db: Settings) -> Iterator[Callable[..., Server]]:
    """``serve(**overrides)`` starts a server over the fresh database with some settings changed."""
    started: list[Server] = []

    def _serve(**overrides) -> Server:
        server = Server(web_db.model_copy(update=overrides)).start()
        started.append(server)
        return server

    yield _serve
    for server in started:
        server.stop()


@dataclass
class Guard:
    """What a page did wrong: console errors, page errors, requests to other hosts."""

    origin: str
    problems: list[str] = field(default_factory=list)

    def attach(self, page) -> None:
        """Watch one page."""
        page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text} @ {m.location}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("request", lambda r: self._check_url(r.url))
        page.on("websocket", lambda ws: self._check_url(ws.url))

    def _check_url(self, url: str) -> None:
        host = self.origin.split("://", 1)[1]
        if url.startswith(("data:", "blob:")):
            return
        if url.split("://", 1)[-1].split("/", 1)[0] != host:
            self.problems.append(f"request to another host: {url}")

    def assert_clean(self) -> None:
        """Fail the test when anything went wrong so far."""
        assert not self.problems, "\n".join(self.problems)


@dataclass
class Browsing:
    """Open guarded pages on one server; the guard is checked again at teardown."""

    browser: object
    contexts: list = field(default_factory=list)
    guard: Guard | None = None

    def open(self, server: Server, path: str, *, viewport: dict, **context_options):
        """A new browser context (its own storage) and page at ``path``."""
        self.guard = self.guard or Guard(server.url)
        context = self.browser.new_context(viewport=viewport, locale="el-GR", timezone_id="UTC", **context_options)
        self.contexts.append(context)
        page = context.new_page()
        self.guard.attach(page)
        page.goto(server.url + path)
        return context, page


@pytest.fixture
def browsing(chromium) -> Iterator[Browsing]:
    """Guarded pages for one test."""
    session = Browsing(chromium)
    yield session
    for context in session.contexts:
        context.close()
    if session.guard is not None:
        session.guard.assert_clean()
