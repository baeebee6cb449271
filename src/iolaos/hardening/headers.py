"""Response headers for every HTTP answer, and OPTIONS answered with ``Allow``.

- ``Cache-Control: no-store`` on every response that does not set its own policy: API answers carry
  personal data, positions and tokens (``/auth/token`` included), and a shared or browser cache must not
  keep them. Static assets and pages set their own.
- ``X-Content-Type-Options: nosniff`` everywhere, so a JSON or CSV body is never sniffed into HTML.
- No ``Server`` header (uvicorn is started with ``server_header=False``; any other one is dropped here).
- ``OPTIONS`` answers 204 with the methods the path accepts (RFC 9110 §9.3.7) instead of 405 without them.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_OWN_CACHE_POLICY = ("/static/", "/docs/assets/")
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(scope: Scope) -> list[str]:
    """The methods some route accepts at this path (empty when no route matches it)."""
    app = scope.get("app")
    found: set[str] = set()
    for route in getattr(getattr(app, "router", None), "routes", []):
        # Probe each method: routes and included routers answer FULL only for a method they serve.
        if isinstance(route, Mount):
            if route.matches(dict(scope, method="GET"))[0] is not Match.NONE:
                found |= {"GET", "HEAD"}
            continue
        found |= {m for m in _METHODS if route.matches(dict(scope, method=m))[0] is Match.FULL}
    if found:
        found |= {"OPTIONS"} | ({"HEAD"} if "GET" in found else set())
    return sorted(found)


class HeadersMiddleware:
    """Adds the security headers above to HTTP responses and answers OPTIONS itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer OPTIONS; otherwise pass the request on and adjust the response's headers."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            methods = allowed_methods(scope)
            if methods:
                allow = ", ".join(methods).encode()
                await send({"type": "http.response.start", "status": 204,
                            "headers": [(b"allow", allow), (b"cache-control", b"no-store"),
                                        (b"x-content-type-options", b"nosniff")]})
                await send({"type": "http.response.body", "body": b""})
                return
        keeps_own = scope["path"].startswith(_OWN_CACHE_POLICY)

        async def patched(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "server" in headers:
                    del headers["server"]
                if "cache-control" not in headers and not keeps_own:
                    headers["Cache-Control"] = "no-store"
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if message["status"] == 405:  # every method of the path, not only those of the first route
                    headers["Allow"] = ", ".join(allowed_methods(scope))
            await send(message)

        await self.app(scope, receive, patched)
