"""A prefix check in front of each included router, so a request is not matched against every route of the app.

Why: FastAPI matches a request against the app's included routers in order, and each router against all of its
routes (a regular expression each, with bookkeeping in the scope); it then matches the chosen router once more to
run it. With twenty routers, a request to one of the later ones spent about a millisecond in matching alone —
more than its database work (measured for issue 19, docs/benchmarks.md). A route can only match a path that starts
with the literal text of its template before the first ``{``; so a router none of whose literal prefixes starts the
path answers "no match" at once, which is what its own matching would have answered, only later.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute, Match
from starlette.types import Scope


def _literal(path: str) -> str:
    """The part of a route template before its first parameter."""
    return path.split("{", 1)[0]


def _prefixes(route: BaseRoute) -> tuple[str, ...] | None:
    """Literal prefixes of every route behind an included router; None when one cannot be known."""
    router = getattr(route, "original_router", None)
    context = getattr(route, "include_context", None)
    prefixed = bool(getattr(context, "prefix", ""))
    if router is None or prefixed or bool(getattr(router, "_low_priority_routes", None)):
        return None  # not a plain include_router(router): leave it to FastAPI
    found: list[str] = []
    for child in router.routes:
        path = getattr(child, "path", None)
        if not isinstance(path, str) or not path.startswith("/") or getattr(child, "original_router", None):
            return None  # a nested router, a host route or anything else without a literal path
        found.append(_literal(path))
    return tuple(found) if found else None


def guard_included_routers(app: Any) -> int:
    """Give each included router of ``app`` a prefix check before its own matching; returns how many."""
    guarded = 0
    for route in app.router.routes:
        prefixes = _prefixes(route)
        if prefixes is None:
            continue
        route.matches = _guarded(route.matches, prefixes)  # shadows the method on this instance only
        guarded += 1
    return guarded


def _guarded(matches: Any, prefixes: tuple[str, ...]) -> Any:
    def guarded(scope: Scope) -> tuple[Match, Scope]:
        if not scope.get("root_path") and not scope["path"].startswith(prefixes):
            return Match.NONE, {}
        return matches(scope)

    return guarded
