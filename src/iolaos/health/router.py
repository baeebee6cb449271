"""``/healthz`` says the process is alive; ``/readyz`` says it can reach its database."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from iolaos.errors import ServiceUnavailable

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Process is alive")
async def healthz() -> dict:
    """Always ok while the process serves requests."""
    return {"status": "ok"}


@router.get("/readyz", summary="Database is reachable")
def readyz(request: Request) -> dict:
    """Ok when a trivial query succeeds; 503 otherwise."""
    engine = request.app.state.engine
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise ServiceUnavailable("database not reachable", code="database_unavailable") from exc
    return {"status": "ok", "database": engine.dialect.name}
