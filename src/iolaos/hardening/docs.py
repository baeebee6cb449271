"""The API docs (Swagger UI on /docs, ReDoc on /redoc) from local assets, under a content security policy.

FastAPI's defaults load both from a CDN: blank pages offline (the field is often offline) and a third
party's script running with the reader's token. The assets come from the ``fastapi-offline`` package
(a pip dependency, so ``make test`` needs nothing else); the pages' inline start-up script runs under a
per-response nonce and nothing else may run.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).parent / "static"
PREFIX = "/docs/assets"


def policy(nonce: str) -> str:
    """The docs pages' CSP: own origin only, inline scripts only with this response's nonce."""
    return ("default-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "font-src 'self'; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
            "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def _secured(page: HTMLResponse) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    html = bytes(page.body).decode("utf-8").replace("<script", f'<script nonce="{nonce}"')
    return HTMLResponse(html, headers={"Content-Security-Policy": policy(nonce), "Cache-Control": "no-cache",
                                       "Referrer-Policy": "same-origin"})


def install_docs(app: FastAPI) -> None:
    """Serve /docs, /redoc and /docs/oauth2-redirect from the bundled assets."""
    app.mount(PREFIX, StaticFiles(directory=ASSETS), name="docs-assets")

    async def swagger(request: Request) -> HTMLResponse:
        return _secured(get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} – API",
            swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js", swagger_css_url=f"{PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{PREFIX}/favicon.png", oauth2_redirect_url="/docs/oauth2-redirect"))

    async def redirect(request: Request) -> HTMLResponse:
        return _secured(get_swagger_ui_oauth2_redirect_html())

    async def redoc(request: Request) -> HTMLResponse:
        return _secured(get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} – API",
            redoc_js_url=f"{PREFIX}/redoc.standalone.js", redoc_favicon_url=f"{PREFIX}/favicon.png",
            with_google_fonts=False))

    app.add_route("/docs", swagger, methods=["GET"], include_in_schema=False)
    app.add_route("/docs/oauth2-redirect", redirect, methods=["GET"], include_in_schema=False)
    app.add_route("/redoc", redoc, methods=["GET"], include_in_schema=False)
