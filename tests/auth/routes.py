"""Every route the application serves, found by walking its routers (new routes are found too)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute

# Allowed without a token (issue 3, acceptance 1): health, sign-in, API docs, public reference data.
PUBLIC_API = {("GET", "/healthz"), ("GET", "/readyz"), ("POST", "/api/v1/auth/token"),
              # OGC API – Features discovery documents (issue 9); the incidents/tracks collections need a token
              ("GET", "/ogc"), ("GET", "/ogc/conformance"), ("GET", "/ogc/collections"),
              ("GET", "/api/v1/exports/zones.gpkg"), ("GET", "/api/v1/exports/zones.geojson"),
              ("GET", "/api/v1/exports/zones.csv")}
# read-only reference data: zones and risk levels (REST and OGC API – Features), public CAP warnings (issue 9)
PUBLIC_PREFIXES = ("/api/v1/zones", "/ogc/collections/zones", "/ogc/collections/risk", "/api/v1/cap")
DOCS_PATHS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
WEB_SHELL = {("GET", "/")}  # the browser start page (static HTML; it signs in through the API)
PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")


@dataclass(frozen=True)
class Endpoint:
    """One method on one path."""

    method: str
    path: str
    route: object

    @property
    def params(self) -> list[str]:
        """Names of the path parameters."""
        return PARAM.findall(self.path)

    @property
    def is_api(self) -> bool:
        """True for FastAPI routes (as opposed to docs pages and mounts)."""
        return isinstance(self.route, APIRoute)

    @property
    def is_public(self) -> bool:
        """True when the route is allowed without a token."""
        key = (self.method, self.path)
        if key in PUBLIC_API or key in WEB_SHELL or self.path in DOCS_PATHS:
            return True
        return self.method in ("GET", "HEAD") and self.path.startswith(PUBLIC_PREFIXES)

    def url(self, **values: object) -> str:
        """The path with parameters filled in (``1`` for those not given)."""
        return PARAM.sub(lambda m: str(values.get(m.group(1), 1)), self.path)


def _flatten(app: FastAPI) -> list[tuple[object, str | None, set[str] | None]]:
    """(route, path, methods) for every route, including those of included routers."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI ≥ 0.165 includes routers lazily
    except ImportError:  # pragma: no cover - older FastAPI flattens routes on include
        return [(r, getattr(r, "path", None), getattr(r, "methods", None)) for r in app.routes]
    return [(c.original_route, c.path, c.methods) for c in iter_route_contexts(app.routes)]


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every (method, path) the application answers, HEAD left out (it mirrors GET)."""
    found = []
    for route, path, methods in _flatten(app):
        if path is None or methods is None:
            continue  # mounts (static files) have no methods
        found += [Endpoint(m, path, route) for m in sorted(methods) if m != "HEAD"]
    return found


def websocket_paths(app: FastAPI) -> list[str]:
    """Paths of the application's websocket endpoints."""
    return [path for route, path, _ in _flatten(app) if isinstance(route, APIWebSocketRoute) and path]
