"""``create_app()``: the ASGI application with its lifespan, routers, error handlers and web pages."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware

from iolaos import __version__
from iolaos.admission import AdmissionMiddleware
from iolaos.answers import AnswerCacheMiddleware
from iolaos.auth.router import router as auth_router
from iolaos.cap.router import router as cap_router
from iolaos.config import Settings, get_settings
from iolaos.db import make_engine, make_read_engine
from iolaos.documents.router import router as documents_router
from iolaos.errors import NotFound, install_error_handlers
from iolaos.exports.router import router as exports_router
from iolaos.field.jobs import run_sweeps
from iolaos.field.router import router as field_router
from iolaos.hardening import install as install_hardening
from iolaos.health.router import router as health_router
from iolaos.i18n.middleware import LanguageMiddleware
from iolaos.idempotency.middleware import IdempotencyMiddleware
from iolaos.incidents.router import router as incidents_router
from iolaos.journal.head import HeadReader
from iolaos.kit.routing import guard_included_routers
from iolaos.kit.time import utcnow
from iolaos.notifications.router import router as notifications_router
from iolaos.ogc.router import router as ogc_router
from iolaos.organisations.router import router as organisations_router
from iolaos.planning.router import router as planning_router
from iolaos.pwa import mount_pwa
from iolaos.realtime.hub import Hub
from iolaos.realtime.router import router as realtime_router
from iolaos.recognition.router import router as recognition_router
from iolaos.responsibility.router import router as responsibility_router
from iolaos.review.router import router as review_router
from iolaos.risk.router import public_router as risk_public_router
from iolaos.risk.router import router as risk_router
from iolaos.volunteers.router import router as volunteers_router
from iolaos.warnings.router import router as warnings_router
from iolaos.wiring import wire
from iolaos.zones.router import router as zones_router

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, clock: Callable[[], datetime] = utcnow) -> FastAPI:
    """Build the application; engines and clients are created in the lifespan, not at import.

    ``clock`` is the time every rule with a time window reads (``app.state.clock``); tests drive it.
    """
    settings = settings or get_settings()
    wire(settings)  # session hooks, subjects, and outbox rows written with the audit records that cause them

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        sys.setswitchinterval(settings.gil_switch_interval)
        app.state.engine = make_engine(settings)
        app.state.read_engine = make_read_engine(settings, app.state.engine)  # GET/HEAD requests (deps.py)
        app.state.head_reader = HeadReader(settings.database_url)  # the answer cache's version (answers.py)
        app.state.hub = Hub(settings, app.state.engine)
        await app.state.hub.start()
        sweeper = asyncio.create_task(run_sweeps(app.state.engine, settings)) if settings.field_sweep_seconds else None
        try:
            yield
        finally:
            if sweeper is not None:
                sweeper.cancel()
            await app.state.hub.stop()
            app.state.head_reader.close()
            app.state.read_engine.dispose()  # where it shares the writer's pool, that pool is disposed twice: harmless
            app.state.engine.dispose()

    app = FastAPI(
        title="IOLAOS",
        version=__version__,
        description="Coordination service for volunteer civil protection during the fire season.",
        lifespan=lifespan,
        docs_url=None,  # served from local assets under a CSP by iolaos.hardening.docs
        redoc_url=None,
    )
    app.state.clock = clock
    install_error_handlers(app)
    app.add_middleware(IdempotencyMiddleware)
    # Outside the idempotency middleware, which uses the database itself.
    app.add_middleware(AdmissionMiddleware, limit=settings.max_concurrent_requests or settings.db_pool_size,
                       wait_seconds=settings.request_queue_timeout)
    # Outside admission: an answer served again takes no slot, no thread and no pooled connection.
    app.add_middleware(AnswerCacheMiddleware, budget_bytes=settings.answer_cache_bytes,
                       max_age=settings.answer_cache_seconds)
    # Large answers (zone boundaries, long lists, exports) compressed when the client accepts gzip; small ones are
    # not worth the CPU. Outside the idempotency middleware, which stores (and replays) the plain body.
    app.add_middleware(GZipMiddleware, minimum_size=settings.gzip_minimum_size, compresslevel=5)
    # Body limits, input guards, headers, trusted proxies: outside admission, so refused requests take no slot.
    install_hardening(app, settings)
    # Outside admission and idempotency, so that their own error answers speak the caller's language.
    app.add_middleware(LanguageMiddleware, default=settings.default_language)
    if settings.metrics_enabled:
        from iolaos.metrics import install_metrics

        install_metrics(app)  # outermost: times every request, including refused ones
    app.include_router(health_router)
    app.include_router(zones_router)
    app.include_router(auth_router)
    app.include_router(organisations_router)
    app.include_router(volunteers_router)
    app.include_router(realtime_router)
    app.include_router(incidents_router)
    app.include_router(responsibility_router)
    app.include_router(review_router)
    app.include_router(risk_router)
    app.include_router(risk_public_router)
    app.include_router(planning_router)
    app.include_router(field_router)
    app.include_router(recognition_router)
    app.include_router(ogc_router)
    app.include_router(cap_router)
    app.include_router(warnings_router)
    app.include_router(exports_router)
    app.include_router(documents_router)
    app.include_router(notifications_router)
    if settings.notify_sms_url == "fake":  # the demo's SMS gateway (notifications/fakesms.py)
        from iolaos.notifications.fakesms import FakeSmsGateway

        app.state.fake_sms = FakeSmsGateway()
        app.mount("/fake-sms", app.state.fake_sms.app)
    _mount_web(app, settings)
    guard_included_routers(app)  # after every include: matching a request no longer scans every router
    return app


def _mount_web(app: FastAPI, settings: Settings) -> None:
    """Serve the browser pages from ``web/`` (console ``/``, field ``/field``, review ``/review``) and their assets."""
    web = settings.web_dir
    if not web.is_dir():
        log.info("no web folder at %s; serving the API only", web)
        return
    leaflet = web / "node_modules" / "leaflet" / "dist"
    if leaflet.is_dir():  # installed from the npm registry by `make web`; mounted before /static, which would shadow it
        app.mount("/static/vendor/leaflet", StaticFiles(directory=leaflet), name="leaflet")
    else:
        log.warning("Leaflet is missing at %s; run `make web` (the maps will not load)", leaflet)
    app.mount("/static", StaticFiles(directory=web / "static", check_dir=False), name="static")
    mount_pwa(app, web)
    for path, name in (("/", "index.html"), ("/field", "field.html"), ("/review", "review.html")):
        app.add_route(path, _page(web / name, settings), methods=["GET"], include_in_schema=False)


def _page(page: Path, settings: Settings):
    """A handler serving one HTML page with the tile URL filled in and a same-origin content policy."""
    tiles = settings.tile_url or ""
    tile_origin = ""
    if tiles:
        parts = urlsplit(tiles.replace("{s}", "*"))
        tile_origin = f" {parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    policy = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
              f"img-src 'self' data: blob:{tile_origin}; connect-src 'self'; font-src 'self'; object-src 'none'; "
              "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")

    async def serve(request: Request) -> HTMLResponse:
        if not page.exists():
            raise NotFound("no such page")
        text = page.read_text(encoding="utf-8").replace(
            '<meta name="iolaos-tile-url" content="">', f'<meta name="iolaos-tile-url" content="{escape(tiles)}">')
        return HTMLResponse(text, headers={"Content-Security-Policy": policy, "Cache-Control": "no-cache",
                                           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"})

    return serve
