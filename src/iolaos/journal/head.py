"""The journal head's ``audit_seq``, read cheaply from the event loop: the version of everything journaled.

Every journaled change moves ``journal_head.audit_seq`` under the head row's lock, in the transaction that makes
the change (``journal.record``), so the value a reader sees moves in commit order, whichever process committed:
this instance, another one, the CLI or the worker. Two reads that return the same value bracket a time in which
no journaled change committed. The answer cache (``iolaos.answers``) keys answers by it.

Read without a worker thread and without the request pool: on SQLite a private connection of its own (a point
read in WAL mode takes microseconds and never waits for writers); on PostgreSQL one asynchronous connection,
where callers that arrive while a read is in flight share the *next* read, never the one already running (it
may have begun before their request arrived, and could miss a change committed just before it).
A read that fails answers ``None`` (the caller then does without), and the reader retries after a pause.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

log = logging.getLogger(__name__)

_QUERY = "SELECT audit_seq FROM journal_head WHERE id = 1"
RETRY_SECONDS = 1.0  # after a failed read, do without for this long instead of reconnecting on every request


class HeadReader:
    """Reads the head of one database; ``await read()`` → ``audit_seq`` or ``None`` when it cannot be read."""

    def __init__(self, database_url: str | URL, *, timeout: float = 2.0) -> None:
        self.url = make_url(database_url)
        self.timeout = timeout
        self._sqlite: sqlite3.Connection | None = None
        self._pg: Any = None  # psycopg.AsyncConnection, imported only on PostgreSQL
        self._next: asyncio.Future[int | None] | None = None
        self._draining = False
        self._failed_at = float("-inf")
        self.enabled = not (self.url.get_backend_name() == "sqlite" and self.url.database in (None, "", ":memory:"))

    async def read(self) -> int | None:
        """The committed ``audit_seq`` as of a moment after this call began; ``None`` when it cannot be read."""
        if not self.enabled or time.monotonic() - self._failed_at < RETRY_SECONDS:
            return None
        if self.url.get_backend_name() == "sqlite":
            return self._read_sqlite()
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
            if not self._draining:
                self._draining = True
                asyncio.get_running_loop().create_task(self._drain())
        return await asyncio.shield(self._next)

    def close(self) -> None:
        """Close the connections (the PostgreSQL one without waiting for the server)."""
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        if self._pg is not None:
            self._pg.pgconn.finish()
            self._pg = None

    # ------------------------------------------------------------------------------------------------- SQLite
    def _read_sqlite(self) -> int | None:
        try:
            if self._sqlite is None:
                # Read-only and in autocommit: every SELECT is its own WAL snapshot, taken when it runs.
                uri = Path(str(self.url.database)).resolve().as_uri() + "?mode=ro"
                self._sqlite = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False,
                                               timeout=self.timeout)
            row = self._sqlite.execute(_QUERY).fetchone()
        except sqlite3.Error as exc:
            self._failed(exc)
            return None
        return int(row[0]) if row else None

    # ----------------------------------------------------------------------------------------------- PostgreSQL
    async def _drain(self) -> None:
        try:
            while self._next is not None:
                waiting, self._next = self._next, None
                value = await self._read_pg()
                if not waiting.done():
                    waiting.set_result(value)
        finally:
            self._draining = False

    async def _read_pg(self) -> int | None:
        import psycopg

        try:
            async with asyncio.timeout(self.timeout):
                if self._pg is None or self._pg.closed:
                    self._pg = await psycopg.AsyncConnection.connect(
                        self._conninfo(), autocommit=True, connect_timeout=max(2, int(self.timeout)))
                cursor = await self._pg.execute(_QUERY)
                row = await cursor.fetchone()
        except (psycopg.Error, OSError, TimeoutError) as exc:
            if self._pg is not None:
                self._pg.pgconn.finish()
                self._pg = None
            self._failed(exc)
            return None
        return int(row[0]) if row else None

    def _conninfo(self) -> str:
        return self.url.set(drivername="postgresql").render_as_string(hide_password=False)

    def _failed(self, exc: BaseException) -> None:
        self._failed_at = time.monotonic()
        log.warning("journal head unreadable (%s); answers are not cached for %.0f s", exc, RETRY_SECONDS)
        return None
