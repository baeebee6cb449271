"""Wake-up backends behind one small interface, chosen by ``IOLAOS_FANOUT`` (see ``make_backend``)."""

from __future__ import annotations

from iolaos.config import Settings
from iolaos.realtime.backends.base import Backend, WakeCallback

__all__ = ["Backend", "WakeCallback", "backend_name", "make_backend"]


def backend_name(settings: Settings) -> str:
    """The configured backend: ``IOLAOS_FANOUT``, else redis when a broker URL is set, else memory."""
    if settings.fanout:
        return settings.fanout
    return "redis" if settings.broker_url else "memory"


def make_backend(settings: Settings) -> Backend:
    """Build (not start) the configured wake-up backend."""
    name = backend_name(settings)
    if name == "redis":
        if not settings.broker_url:
            raise ValueError("IOLAOS_FANOUT=redis needs IOLAOS_BROKER_URL=redis://…")
        from iolaos.realtime.backends.redis import RedisBackend

        return RedisBackend(settings.broker_url)
    if name == "postgres":
        if settings.is_sqlite:
            raise ValueError("IOLAOS_FANOUT=postgres needs a PostgreSQL IOLAOS_DATABASE_URL")
        from iolaos.realtime.backends.postgres import PostgresBackend

        return PostgresBackend(settings.database_url)
    from iolaos.realtime.backends.memory import MemoryBackend

    return MemoryBackend()
