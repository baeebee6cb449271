"""``create_app()``: the ASGI application with its lifespan, routers, error handlers and web pages."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from iolaos import __version__
from iolaos.auth.router import router as auth_router
from iolaos.config import Settings, get_settings
from iolaos.db import make_engine
from iolaos.errors import NotFound, install_error_handlers
from iolaos.health.router import router as health_router
from iolaos.incidents.router import router as incidents_router
from iolaos.organisations.router import router as organisations_router
from iolaos.responsibility.router import router as responsibility_router
from iolaos.review.router import router as review_router
from iolaos.volunteers.router import router as volunteers_router
from iolaos.zones.router import router as zones_router

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; engines and clients are created in the lifespan, not at import."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.engine = make_engine(settings)
        try:
            yield
        finally:
            app.state.engine.dispose()

    app = FastAPI(
        title="IOLAOS",
        version=__version__,
        description="Coordination service for volunteer civil protection during the fire season.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(zones_router)
    app.include_router(auth_router)
    app.include_router(organisations_router)
    app.include_router(volunteers_router)
    app.include_router(incidents_router)
    app.include_router(responsibility_router)
    app.include_router(review_router)
    _mount_web(app, settings)
    return app


def _mount_web(app: FastAPI, settings: Settings) -> None:
    """Serve the browser pages from ``web/`` when the folder is there."""
    web = settings.web_dir
    if not web.is_dir():
        log.info("no web folder at %s; serving the API only", web)
        return
    app.mount("/static", StaticFiles(directory=web), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        page = web / "index.html"
        if not page.exists():
            raise NotFound("no start page")
        return FileResponse(page)
