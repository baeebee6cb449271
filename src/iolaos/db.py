"""Engine, naming convention and the per-request session (commit once on success, roll back on error)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel, create_engine

from iolaos.config import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata

_AFTER_COMMIT = "iolaos_after_commit"


def make_engine(settings: Settings) -> Engine:
    """An engine for the configured URL, tuned for its backend."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(settings.database_url, pool_size=settings.db_pool_size)
    # Fail fast, recover by itself (tests/faults/test_postgres_restart.py): a short connect timeout and pool
    # wait turn an unreachable server into a quick 503 (errors.py); pre-ping replaces the connections a restart
    # killed, so requests succeed again as soon as the server is back, without restarting the service.
    return create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=True,
        pool_timeout=settings.db_pool_timeout,
        connect_args={
            "connect_timeout": settings.db_connect_timeout,
            "options": f"-c statement_timeout={settings.db_statement_timeout_ms}",
            # A server that vanishes without closing its sockets (host crash, network cut) is noticed within
            # about 20 s instead of the OS's retransmission limit (many minutes): keepalives while waiting for
            # an answer, the user timeout (ms) while a query is being sent.
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 3,
            "keepalives_count": 3,
            "tcp_user_timeout": 10_000,
        },
    )


def is_memory_url(database_url: str) -> bool:
    """True for an in-memory SQLite URL (no file another connection could open)."""
    return ":memory:" in database_url or "mode=memory" in database_url or database_url.rstrip("/") == "sqlite:"


def _private_file(path: str | None) -> None:
    """Create the database file readable by its owner only (0600) before SQLite would create it 0644.

    It holds personal data and password hashes. SQLite gives the -wal and -shm files the main file's mode.
    """
    if not path or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return
    except OSError:  # e.g. the folder does not exist: SQLite reports it with its own error
        return
    os.chmod(path, 0o600)  # whatever the umask


def _sqlite_engine(database_url: str, *, pool_size: int, read_only: bool = False) -> Engine:
    """SQLite in WAL mode: writers take the write lock up front, readers read a snapshot and never lock.

    The writing engine begins every transaction with ``BEGIN IMMEDIATE``: writers are serialised at the start
    of the unit of work instead of failing when a reader later upgrades to a writer, and with it the journal's
    hash chain has a single head. The read-only engine (``make_read_engine``) begins deferred, i.e. as a WAL
    read snapshot that waits for nobody, and its connections are ``query_only``: a read request that tried to
    write would fail at once, every time, rather than now and then with SQLITE_BUSY when a writer got in first.
    Connections are pooled, so the PRAGMAs run once per connection, not once per request.
    """
    in_memory = is_memory_url(database_url)
    if not in_memory and not read_only:
        _private_file(make_url(database_url).database)
    pooling: dict[str, Any] = {} if in_memory else {"pool_size": pool_size, "max_overflow": pool_size,
                                                    "pool_timeout": 30}
    engine = create_engine(database_url, connect_args={"check_same_thread": False, "timeout": 30}, **pooling)
    begin = "BEGIN" if read_only else "BEGIN IMMEDIATE"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")  # before query_only; a no-op once the file is in WAL mode
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        if read_only:
            cur.execute("PRAGMA query_only=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


def make_read_engine(settings: Settings, engine: Engine) -> Engine:
    """The engine of read-only requests (GET, HEAD): same database, no write lock, writes refused.

    SQLite (a file): a pool of its own whose transactions are deferred WAL snapshots, so reads never queue
    behind writers or each other. PostgreSQL: the same pool, with transactions begun ``READ ONLY`` (psycopg
    sends it with the BEGIN it sends anyway: no extra round trip). In-memory SQLite: the engine itself.
    """
    if engine.dialect.name == "sqlite":
        if is_memory_url(settings.database_url):
            return engine
        return _sqlite_engine(settings.database_url, pool_size=settings.db_pool_size, read_only=True)
    return engine.execution_options(postgresql_readonly=True)


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once this session's transaction has committed (never on rollback)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def _run_after_commit(session: Session) -> None:
    for callback in session.info.pop(_AFTER_COMMIT, []):
        callback()


def _drop_after_commit(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)


SESSION_HOOKS = (("after_commit", _run_after_commit), ("after_rollback", _drop_after_commit))


def install_session_hooks(hooks: tuple[tuple[str, Callable[[Session], None]], ...] = SESSION_HOOKS) -> None:
    """Listen on every Session for ``hooks`` (event name, function); idempotent.

    Called by ``iolaos.wiring.wire`` from the entry points, never at import, so importing a module changes no
    global state and a test sees exactly the hooks it installed.
    """
    for name, hook in hooks:
        if not event.contains(Session, name, hook):
            event.listen(Session, name, hook)


def session_hooks_installed(hooks: tuple[tuple[str, Callable[[Session], None]], ...] = SESSION_HOOKS) -> bool:
    """True once every one of ``hooks`` listens on Session."""
    return all(event.contains(Session, name, hook) for name, hook in hooks)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A unit of work: commit if the block succeeds, roll back if it raises."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

