"""The prefix check in front of each included router (src/iolaos/kit/routing.py) changes no routing decision."""

from __future__ import annotations

import re

from starlette.routing import Match

import iolaos.app as app_module
from iolaos.config import Settings


def _first_match(app, path: str, method: str) -> tuple[int, Match] | None:
    scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": [], "query_string": b""}
    partial = None
    for index, route in enumerate(app.router.routes):
        match, _ = route.matches(dict(scope))
        if match is Match.FULL:
            return index, match
        if match is Match.PARTIAL and partial is None:
            partial = (index, match)
    return partial


def test_every_path_is_routed_as_without_the_guard(tmp_path, monkeypatch):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}")
    guarded = app_module.create_app(settings)
    monkeypatch.setattr(app_module, "guard_included_routers", lambda app: 0)
    plain = app_module.create_app(settings)
    assert sum(1 for r in guarded.router.routes if r.matches.__name__ == "guarded") >= 15  # the API's routers
    templates = set(guarded.openapi()["paths"]) | {r.path for r in guarded.routes if hasattr(r, "path")}
    assert "/api/v1/incidents/{incident_id}" in templates and "/ogc/collections/tracks/items" in templates
    paths = {re.sub(r"\{[^}]+\}", "1", t) for t in templates}
    paths |= {p + "/" for p in paths} | {"/nowhere", "/api/v1/nowhere", "/ogc/nowhere", "/api/v1/incidents/x/y"}
    for path in sorted(paths):
        for method in ("GET", "POST", "DELETE"):
            assert _first_match(guarded, path, method) == _first_match(plain, path, method), (method, path)
