"""Bearer token → principal, kept for ``auth_cache_seconds`` so a read needs neither a query nor a thread to know
who is calling (issue 19).

Reads only: a write always reads who is calling from the database (``auth.deps.current_principal``).

The bound: a change of a token, an account or an organisation (revocation, sign-out, disabled account, new role,
deactivated organisation, a moved organisation and so the organisations a scope reaches) takes effect within
``auth_cache_seconds`` (2 s by default, like the live socket's re-check; 0 turns the cache off), whoever makes it:
another instance, the CLI, or SQL typed by hand. Changes made through SQLAlchemy in this process take effect at
once in practice: every ``UPDATE``/``DELETE`` of those tables (and every new organisation) drops the whole cache
when it is executed and again when its transaction commits, and a lookup that began before a drop keeps nothing
(only a lookup in the instant of the commit itself could keep the old state, and then within the bound).
A token's own expiry is checked on every use. The principal's memo of the organisations each scope reaches
(``principal.organisation_ids``) lives as long as its entry, so it has the same bound.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.dml import Delete, Insert, Update

from iolaos.auth.principal import Principal
from iolaos.auth.service import digest

MAX_ENTRIES = 10_000  # tokens in use at once are far fewer; beyond this the cache starts afresh
_WATCHED = frozenset({"app_user", "auth_token", "organisation"})
_DIRTY = "iolaos_auth_changed"


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    expires_at: datetime  # the token's own expiry
    cached_at: float  # by the cache's clock
    generation: int


class PrincipalCache:
    """Principals by token digest; every entry dies after ``seconds`` or at the next change of the tables above.

    ``clock`` is a monotonic clock in seconds (tests pass one they can move forward).
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._entries: dict[str, _Entry] = {}

    def get(self, token: str, now: datetime) -> Principal | None:
        """The cached principal of ``token``, if within the bound and the token's lifetime (``now``: UTC)."""
        if self.seconds <= 0:
            return None
        entry = self._entries.get(digest(token))
        if entry is None or entry.generation != _generation or entry.expires_at <= now:
            return None
        if self.clock() - entry.cached_at >= self.seconds:
            return None
        return entry.principal

    def put(self, token: str, principal: Principal, expires_at: datetime, generation: int) -> None:
        """Keep ``principal``, looked up from generation ``generation`` on (nothing is kept if it moved since)."""
        if self.seconds <= 0 or generation != _generation:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[digest(token)] = _Entry(principal, expires_at, self.clock(), generation)


def caller_key(principal: Principal) -> tuple[Any, ...]:
    """Who is calling, as far as what they may read goes: the same for every token of one account."""
    return (principal.user_id, principal.username, principal.full_name, principal.role, principal.organisation_id,
            principal.organisation_kind, principal.region_id)


def of(app: Any) -> PrincipalCache:
    """The app's cache (made on first use from the ``auth_cache_seconds`` setting)."""
    cache = getattr(app.state, "principal_cache", None)
    if cache is None:
        cache = app.state.principal_cache = PrincipalCache(app.state.settings.auth_cache_seconds)
    return cache


# ------------------------------------------------------------------------------------- invalidation, in process
_generation = 0
_lock = threading.Lock()


def generation() -> int:
    """The current generation: it moves on every change of an account, a token or an organisation."""
    return _generation


def changed() -> None:
    """Drop every cached principal of this process (all caches compare their entries' generation with this)."""
    global _generation
    with _lock:
        _generation += 1


def _touches(statement: Any) -> bool:
    if isinstance(statement, (Update, Delete)):
        return getattr(statement.table, "name", None) in _WATCHED
    return isinstance(statement, Insert) and getattr(statement.table, "name", None) == "organisation"


def _after_execute(conn: Connection, statement: Any, *args: Any) -> None:
    if _touches(statement):
        conn.info[_DIRTY] = True
        changed()


def _on_commit(conn: Connection) -> None:
    if conn.info.pop(_DIRTY, False):
        changed()


def _on_rollback(conn: Connection) -> None:
    # When the connection died with its transaction (a database restart), reading its info raises; raised here,
    # the error would escape the session's close after the answer was sent, and uvicorn would drop the client's
    # connection. Nothing of that transaction can commit, so there is nothing to forget.
    with suppress(SQLAlchemyError):
        conn.info.pop(_DIRTY, None)


_ENGINE_HOOKS = (("after_execute", _after_execute), ("commit", _on_commit), ("rollback", _on_rollback))


def install() -> None:
    """Watch every engine for changes of accounts, tokens and organisations; idempotent.

    Called by ``iolaos.wiring.wire`` from the entry points, never at import (tests/test_wiring.py).
    """
    for name, hook in _ENGINE_HOOKS:
        if not event.contains(Engine, name, hook):
            event.listen(Engine, name, hook)


def installed() -> bool:
    """True once every invalidation hook listens on Engine."""
    return all(event.contains(Engine, name, hook) for name, hook in _ENGINE_HOOKS)
