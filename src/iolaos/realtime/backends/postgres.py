"""Wake-ups over PostgreSQL LISTEN/NOTIFY (``IOLAOS_FANOUT=postgres``): no broker beyond the database."""

from __future__ import annotations

import asyncio
import contextlib

import psycopg
from sqlalchemy.engine import make_url

from iolaos.realtime.backends.base import Backend, Publisher, log

CHANNEL = "iolaos_events"


def libpq_url(database_url: str) -> str:
    """The SQLAlchemy URL of the database as a libpq connection URI."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresBackend(Backend):
    """``NOTIFY iolaos_events, '<seq>'`` after each commit; one LISTEN connection per process."""

    name = "postgres"

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

    async def _listen(self) -> None:
        """LISTEN on a dedicated connection; on failure wait a little and listen again."""
        delay = 0.1
        while True:
            conn: psycopg.AsyncConnection | None = None
            try:
                conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True, connect_timeout=2)
                await conn.execute(f"LISTEN {self.channel}")
                if not self.connected:
                    log.info("postgres fan-out: listening on %s", self.channel)
                self.connected, delay = True, 0.1
                self._wake(0)  # notifications may have been missed while disconnected: read now
                while True:
                    async for notify in conn.notifies(timeout=5.0):
                        self._wake(_seq(notify.payload))
                    await conn.execute("SELECT 1")  # idle for 5 s: make sure the connection still works
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._problem("listen connection lost", exc)
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

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


def _seq(payload: str) -> int:
    try:
        return int(payload)
    except ValueError:
        return 0
