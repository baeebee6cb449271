"""HTTP hardening in front of every route: body limits, input guards, response headers, trusted proxies, docs.

``install(app, settings)`` adds the middlewares in a fixed order (outermost first): trusted-proxy address
resolution, response headers and OPTIONS, then the body limit and input guard, so an oversized or hostile
request is refused before it takes an admission slot or a database connection. docs/security.md lists each
control with the test that proves it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from iolaos.config import Settings
from iolaos.hardening.docs import install_docs
from iolaos.hardening.headers import HeadersMiddleware
from iolaos.hardening.limits import BodyLimitMiddleware
from iolaos.hardening.proxies import trusted_hosts
from iolaos.idempotency.openapi import document


def install(app: FastAPI, settings: Settings) -> None:
    """Add the hardening middlewares and the local API docs to ``app``."""
    app.add_middleware(BodyLimitMiddleware, settings=settings)
    app.add_middleware(HeadersMiddleware)
    hosts = trusted_hosts(settings)
    if hosts:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=hosts)
    install_docs(app)
    _document_idempotency(app)


def _document_idempotency(app: FastAPI) -> None:
    """Declare the Idempotency-Key header in the OpenAPI document (built once, on first request)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        first = app.openapi_schema is None
        schema = generate()
        return document(schema) if first else schema

    app.openapi = openapi  # type: ignore[method-assign]


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn options every launcher uses: no ``Server`` header, and forwarded headers left to the app.

    uvicorn by default believes X-Forwarded-For from loopback, so on a machine where anything local can
    connect, a changed header would move a client to another address; the app applies ``trusted_proxies``
    itself (an explicit setting, empty by default) and uvicorn trusts no one.
    """
    return {"server_header": False, "proxy_headers": False, "forwarded_allow_ips": ""}
