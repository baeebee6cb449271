"""Scheduled field jobs: the lost-contact sweep and retention purges."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from anyio import to_thread
from sqlalchemy.engine import Engine

from iolaos.auth.actor import system_actor
from iolaos.config import Settings
from iolaos.db import session_scope
from iolaos.field import alerts, positions
from iolaos.idempotency import store as idempotency
from iolaos.journal import service as journal
from iolaos.kit.time import utcnow
from iolaos.patrols import service as patrols

log = logging.getLogger(__name__)


def sweep(engine: Engine, settings: Settings, now: datetime | None = None) -> int:
    """Raise lost-contact alerts once; returns how many were raised."""
    with session_scope(engine) as session:
        raised = alerts.sweep_lost_contact(session, now=now or utcnow(), after_minutes=settings.lost_contact_minutes,
                                           realert_minutes=settings.lost_contact_realert_minutes)
    return len(raised)


def expire(engine: Engine, now: datetime | None = None) -> dict[str, int]:
    """Proposals, acceptances and unstarted patrols of ended shifts expire (patrols/service.py)."""
    with session_scope(engine) as session:
        return patrols.expire_ended(session, now=now or utcnow())


def purge(engine: Engine, settings: Settings, now: datetime | None = None) -> dict[str, int]:
    """Delete positions past retention and old idempotency keys, journalled as one record."""
    with session_scope(engine) as session:
        counts = {
            "positions": positions.purge(session, older_than=timedelta(days=settings.position_retention_days),
                                         now=now),
            "idempotency_keys": idempotency.purge(session, older_than=timedelta(days=1)),
        }
        journal.record(session, actor=system_actor("retention"), action="retention.purge",
                       subject_type="retention", subject_id="positions",
                       data={**counts, "position_retention_days": settings.position_retention_days})
    return counts


async def run_sweeps(engine: Engine, settings: Settings) -> None:
    """Sweep every ``field_sweep_seconds`` until cancelled (one per API process; alerts stay unique)."""
    while True:
        await asyncio.sleep(settings.field_sweep_seconds)
        try:
            await to_thread.run_sync(sweep, engine, settings)
            await to_thread.run_sync(expire, engine)
        except Exception:  # a failed sweep must not stop the next one
            log.exception("lost-contact sweep or expiry failed")
