"""The journal head's version, read cheaply from the event loop: the version of everything journaled.

Every journaled change moves ``journal_head.audit_seq`` under the head row's lock, in the transaction that makes
the change (``journal.record``), so the value a reader sees moves in commit order, whichever process committed:
this instance, another one, the CLI or the worker. Two reads that return the same value bracket a time in which
no journaled change committed. The head's ``epoch`` is read with it, so a database restored from a backup (its
sequence starting again, with other data) never looks like the same version. The answer cache
(``iolaos.answers``) keys answers by it.

Read without a worker thread and without the request pool: on SQLite a private read-only connection (a point
read in WAL mode takes microseconds and does not wait for writers; its busy wait is kept short because it runs on
the event loop); on PostgreSQL one asynchronous connection, where callers that arrive while a read is in flight
share the *next* read, never the one already running (it may have begun before their request arrived, and could
miss a change committed just before it). A read that fails, for whatever reason, answers ``None`` (the caller then
does without), and the reader does without for ``RETRY_SECONDS`` before trying again.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

from iolaos.db import is_memory_url

log = logging.getLogger(__name__)

Version = tuple[str, int]  # (epoch, audit_seq)

_QUERY = "SELECT epoch, audit_seq FROM journal_head WHERE id = 1"
RETRY_SECONDS = 1.0  # after a failed read, do without for this long instead of reconnecting on every request
SQLITE_BUSY_SECONDS = 0.05  # on the event loop: never wait long for a lock (WAL reads normally take none)


class HeadReader:
    """Reads the head of one database; ``await read()`` → ``(epoch, audit_seq)``, or ``None`` when it cannot."""

    def __init__(self, database_url: str | URL, *, timeout: float = 2.0) -> None:
        self.url = make_url(database_url)
        self.timeout = timeout
        self._sqlite: sqlite3.Connection | None = None
        self._pg: Any = None  # psycopg.AsyncConnection, imported only on PostgreSQL
        self._next: asyncio.Future[Version | None] | None = None
        self._drainer: asyncio.Task[None] | None = None  # referenced, so that it cannot be collected mid-read
        self._failed_at = float("-inf")
        self.sqlite = self.url.get_backend_name() == "sqlite"
        # An in-memory database has no file a second connection could open: no head to read, nothing kept.
        text = database_url if isinstance(database_url, str) else database_url.render_as_string(hide_password=False)
        self.enabled = not (self.sqlite and is_memory_url(text))

    async def read(self) -> Version | None:
        """The committed head as of a moment after this call began; ``None`` when it cannot be read."""
        if not self.enabled or time.monotonic() - self._failed_at < RETRY_SECONDS:
            return None
        if self.sqlite:
            return self._read_sqlite()
        loop = asyncio.get_running_loop()
        if self._next is None:
            self._next = loop.create_future()
        waiting = self._next
        if self._drainer is None or self._drainer.done():
            self._drainer = loop.create_task(self._drain())
        try:
            async with asyncio.timeout(self.timeout + 1):  # a last guard: the drain answers within its timeout
                return await asyncio.shield(waiting)
        except TimeoutError:
            return None

    def close(self) -> None:
        """Close the connections (the PostgreSQL one without waiting for the server)."""
        if self._drainer is not None:
            self._drainer.cancel()
            self._drainer = None
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        if self._pg is not None:
            self._pg.pgconn.finish()
            self._pg = None

    # ------------------------------------------------------------------------------------------------- SQLite
    def _sqlite_uri(self) -> str:
        database = str(self.url.database)
        if database.startswith("file:"):  # already a URI (sqlite:///file:...?uri=true)
            return database + ("&" if "?" in database else "?") + "mode=ro"
        return Path(database).resolve().as_uri() + "?mode=ro"

    def _read_sqlite(self) -> Version | None:
        try:
            if self._sqlite is None:
                # Read-only and in autocommit: every SELECT is its own WAL snapshot, taken when it runs.
                self._sqlite = sqlite3.connect(self._sqlite_uri(), uri=True, isolation_level=None,
                                               check_same_thread=False, timeout=SQLITE_BUSY_SECONDS)
            row = self._sqlite.execute(_QUERY).fetchone()
        except sqlite3.Error as exc:
            self._failed(exc)
            return None
        return (str(row[0]), int(row[1])) if row else None

    # ----------------------------------------------------------------------------------------------- PostgreSQL
    async def _drain(self) -> None:
        """Answer the waiting callers, one read per batch, until nobody waits; whatever happens, nobody is left
        waiting on a future that no one will answer."""
        waiting: asyncio.Future[Version | None] | None = None
        try:
            while self._next is not None:
                waiting, self._next = self._next, None
                value = await self._read_pg()
                if not waiting.done():
                    waiting.set_result(value)
        finally:
            for future in (waiting, self._next):
                if future is not None and not future.done():
                    future.set_result(None)
            self._next = None

    async def _read_pg(self) -> Version | None:
        import psycopg

        try:
            async with asyncio.timeout(self.timeout):
                if self._pg is None or self._pg.closed:
                    self._pg = await psycopg.AsyncConnection.connect(
                        self._conninfo(), autocommit=True, connect_timeout=max(2, int(self.timeout)))
                cursor = await self._pg.execute(_QUERY)
                row = await cursor.fetchone()
        except Exception as exc:  # any failure: do without (the request takes the ordinary path)
            if self._pg is not None:
                self._pg.pgconn.finish()
                self._pg = None
            self._failed(exc)
            return None
        return (str(row[0]), int(row[1])) if row else None

    def _conninfo(self) -> str:
        return self.url.set(drivername="postgresql").render_as_string(hide_password=False)

    def _failed(self, exc: BaseException) -> None:
        self._failed_at = time.monotonic()
        log.warning("journal head unreadable (%s); answers are not cached for %.0f s", exc, RETRY_SECONDS)
