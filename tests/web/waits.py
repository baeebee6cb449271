"""Waiting on a page and counting what reached the database: shared by the browser tests."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from iolaos.db import session_scope
from iolaos.incidents.models import Incident


def incidents(engine) -> int:
    """Incidents stored so far."""
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(Incident))


def until(page, expression: str, timeout: float = 15) -> None:
    """Poll a JavaScript expression until true (wait_for_function would need 'unsafe-eval', which the CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        time.sleep(0.05)


def quiet(page, for_seconds: float = 0.4) -> None:
    """Wait until the page has had no API call in flight for a moment (a call cut off by going offline would be
    logged by Chromium as a console error, which these tests treat as a failure)."""
    calm_since = time.monotonic()
    deadline = calm_since + 15
    while time.monotonic() - calm_since < for_seconds:
        assert time.monotonic() < deadline, "the page never went quiet"
        if page.evaluate("import('/static/js/api.js').then(m => m.inflight())"):
            calm_since = time.monotonic()
        time.sleep(0.05)
