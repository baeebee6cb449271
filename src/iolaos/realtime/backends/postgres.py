"""Wake-ups over PostgreSQL LISTEN/NOTIFY (``IOLAOS_FANOUT=postgres``): no broker beyond the database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import psycopg
from sqlalchemy.engine import make_url

from iolaos.realtime.backends.base import Backend, Publisher

CHANNEL = "iolaos_events"


def libpq_url(database_url: str) -> str:
    """The SQLAlchemy URL of the database as a libpq connection URI."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresBackend(Backend):
    """``NOTIFY iolaos_events, '<seq>'`` after each commit; one LISTEN connection per process."""

    name = "postgres"
    lost = "listen connection lost"

    def __init__(self, database_url: str, channel: str = CHANNEL) -> None:
        super().__init__()
        self.conninfo = libpq_url(database_url)
        self.channel = channel
        self._notifier: psycopg.AsyncConnection | None = None
        self._publisher = Publisher(self._send)
        self._listener: asyncio.Task[None] | None = None

    async def _start(self) -> None:
        self._publisher.start()
        self._listener = asyncio.get_running_loop().create_task(self._listen(), name="iolaos-pg-listen")

    def _publish_soon(self, seq: int) -> None:
        self._publisher.offer(seq)

    async def _send(self, seq: int) -> None:
        try:
            if self._notifier is None or self._notifier.closed:
                self._notifier = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True,
                                                                       connect_timeout=2)
            await self._notifier.execute("SELECT pg_notify(%s, %s)", (self.channel, str(seq)))
        except Exception as exc:
            self._problem("notify failed", exc)
            if self._notifier is not None:
                with contextlib.suppress(Exception):
                    await self._notifier.close()
            self._notifier = None

    @contextlib.asynccontextmanager
    async def _subscribe(self) -> AsyncIterator[AsyncIterator[int]]:
        """LISTEN on a dedicated connection (base.Backend._listen reconnects)."""
        conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True, connect_timeout=2)
        try:
            await conn.execute(f"LISTEN {self.channel}")
            yield _notified(conn)
        finally:
            with contextlib.suppress(Exception):
                await conn.close()

    async def stop(self) -> None:
        """Stop listening and notifying; close both connections."""
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        await self._publisher.stop()
        if self._notifier is not None:
            with contextlib.suppress(Exception):
                await self._notifier.close()
        self.connected = False


async def _notified(conn: psycopg.AsyncConnection) -> AsyncIterator[int]:
    """The seqs notified on ``conn``, forever; raises when the connection fails."""
    while True:
        async for notify in conn.notifies(timeout=5.0):
            yield _seq(notify.payload)
        await conn.execute("SELECT 1")  # idle for 5 s: make sure the connection still works


def _seq(payload: str) -> int:
    try:
        return int(payload)
    except ValueError:
        return 0
