"""What the hub reads from the database: new events, the journal head, tokens and topic decisions.

Every method here is blocking; the hub runs them in its worker threads, never on the event loop.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, create_engine, event, func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from iolaos.auth import service as auth_service
from iolaos.auth.principal import Principal
from iolaos.config import Settings
from iolaos.errors import Unauthenticated
from iolaos.journal.models import Event, JournalHead
from iolaos.kit.tables import table_of
from iolaos.patrols import visibility
from iolaos.patrols.visibility import PatrolFacts
from iolaos.realtime import protocol, topics

_ev, _head = table_of(Event), table_of(JournalHead)
_READ_AFTER = (select(_ev.c.seq, _ev.c.occurred_at, _ev.c.kind, _ev.c.topics, _ev.c.payload)
               .where(_ev.c.seq > bindparam("after")).order_by(_ev.c.seq).limit(bindparam("n")))
_READ_HEAD = select(_head.c.event_seq, _head.c.epoch).where(_head.c.id == 1)
_READ_MIN = select(func.min(_ev.c.seq))
# (seq, occurred_at, kind, topics, payload[, cells of the patrols it is about])
Row = tuple[Any, ...]
Resolved = tuple[Principal, topics.Audience]
FACTS_TTL = 5.0  # seconds a patrol's facts serve position events before they are read again
FACTS_CACHE_SIZE = 50_000  # patrols remembered (a few hundred bytes each)


@dataclass(slots=True)
class PatrolCell:
    """The facts of one patrol as last read (None: gone, or forgotten).

    Events hold the cell, not a copy: reading any later event about the patrol updates it, so an event replayed
    from memory is judged by the patrol as it is now, as REST would judge it.
    """

    facts: PatrolFacts | None
    read_at: float


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """An event read from the table, encoded once for every connection (twice when it has a location part)."""

    seq: int
    topics: tuple[str, ...]
    orgs: frozenset[int]
    text: str
    patrols: tuple[PatrolCell, ...] = ()  # the patrols it is about (topics.patrol_subjects)
    location: visibility.Location = "none"
    redacted: str | None = None  # the text without its location part (alerts), for those who may not locate
    coalesce_key: tuple[str, int, int] | None = None  # what a newer event supersedes (connection.offer)


_CREW = re.compile(r'"patrol_id":(\d+)|"volunteer_id":(\d+)')


def coalesce_key(kind: str, payload: str) -> tuple[str, int, int] | None:
    """A position supersedes the previous one of the same patrol crew member; other events supersede nothing."""
    if kind != "position":
        return None
    found = {group: int(m.group(group)) for m in _CREW.finditer(payload) if (group := m.lastindex) is not None}
    return ("position", found[1], found[2]) if 1 in found and 2 in found else None


def to_live(row: Row) -> LiveEvent:
    """Encode one row of the event table (rows from ``read_after`` carry their patrols' facts)."""
    seq, occurred_at, kind, topic_text, payload = row[:5]
    found = tuple(topic_text.split())
    text = protocol.event_message(seq, occurred_at, kind, found, payload)
    patrols: tuple[PatrolCell, ...] = row[5] if len(row) > 5 else \
        tuple(PatrolCell(None, 0.0) for _ in topics.patrol_subjects(found))  # unknown facts: nobody may see it
    location = visibility.location_part(kind, json.loads(payload) if kind.startswith("alert.") else None)
    redacted = protocol.event_message(seq, occurred_at, kind, found, visibility.redacted_text(payload)) \
        if location == "part" else None
    return LiveEvent(seq, found, topics.event_orgs(found), text, patrols, location, redacted,
                     coalesce_key=coalesce_key(kind, payload))


def _reader_engine(settings: Settings, engine: Engine) -> Engine:
    """On SQLite a separate read-only engine: its reads take no write lock (the app's engine begins every
    transaction with ``BEGIN IMMEDIATE``). Elsewhere the app's engine."""
    url = settings.database_url
    if engine.dialect.name != "sqlite" or ":memory:" in url or url.rstrip("/") == "sqlite:":
        return engine
    reader = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=4,
                           max_overflow=4)

    @event.listens_for(reader, "connect")
    def _read_only(dbapi_conn: Any, _: Any) -> None:
        dbapi_conn.execute("PRAGMA query_only=ON")

    return reader


class JournalReader:
    """Blocking reads for the hub, on an engine that never writes."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self._app_engine = engine
        self.engine = _reader_engine(settings, engine)
        self._cells: dict[int, PatrolCell] = {}
        self._epoch: str | None = None
        self._facts_lock = threading.Lock()  # the hub reads from two threads (live catch-up and replays)

    def read_after(self, after: int, n: int) -> list[Row]:
        """Up to ``n`` events with ``seq > after`` in seq order, each with the facts of the patrols it is about."""
        with Session(self.engine) as session:
            rows = [tuple(r) for r in session.connection().execute(_READ_AFTER, {"after": after, "n": n})]
            about = [topics.patrol_subjects(r[3].split()) for r in rows]
            with self._facts_lock:
                self._refresh(session, rows, about)
                cells = self._cells
                return [(*r, tuple(cells[p] for p in ids)) for r, ids in zip(rows, about, strict=True)]

    def _refresh(self, session: Session, rows: list[tuple[Any, ...]], about: list[tuple[int, ...]]) -> None:
        """Read the facts of the patrols these events are about.

        Every change to a patrol's crew, status or holder is journalled with its topic, so an event other than a
        position reads its patrol afresh; positions (many a second) reuse facts read less than FACTS_TTL ago.
        """
        now, cells = time.monotonic(), self._cells
        stale = {p for r, ids in zip(rows, about, strict=True) for p in ids
                 if r[2] != "position" or p not in cells or now - cells[p].read_at > FACTS_TTL}
        if not stale:
            return
        found = visibility.facts(session, stale)
        for patrol_id in stale:
            cell = cells.get(patrol_id)
            if cell is None:
                cells[patrol_id] = PatrolCell(found.get(patrol_id), now)
            else:
                cell.facts, cell.read_at = found.get(patrol_id), now
        if len(cells) > FACTS_CACHE_SIZE:
            self._forget(set(stale))

    def _forget(self, keep: set[int]) -> None:
        """Drop the quarter of the cells read longest ago; events still holding one then reach nobody
        (failing closed) rather than being judged by facts nobody keeps up to date."""
        cells = self._cells
        oldest = sorted((c.read_at, p) for p, c in cells.items() if p not in keep)[:len(cells) // 4]
        for _, patrol_id in oldest:
            cells.pop(patrol_id).facts = None

    def read_head(self) -> tuple[int, str]:
        """The journal head: (last event seq, epoch)."""
        with self.engine.connect() as conn:
            seq, epoch = conn.execute(_READ_HEAD).one()
        if epoch != self._epoch:  # another database (a restore): its patrols are not the ones remembered
            with self._facts_lock:
                for cell in self._cells.values():
                    cell.facts, cell.read_at = None, 0.0
                self._cells.clear()
            self._epoch = epoch
        return int(seq), str(epoch)

    def read_min(self) -> int | None:
        """The oldest event seq still stored (None when the table is empty)."""
        with self.engine.connect() as conn:
            return conn.execute(_READ_MIN).scalar()

    def resolve(self, token: str) -> Resolved | None:
        """The principal behind a token and its audience; None when the token is not (or no longer) valid."""
        with Session(self.engine) as session:
            try:
                principal = auth_service.resolve_token(session, token)
            except Unauthenticated:
                return None
            return principal, topics.audience(session, principal)

    def resolve_many(self, tokens: set[str]) -> dict[str, Resolved | None]:
        """``resolve`` for many tokens: one query for the tokens, one audience per distinct account state."""
        out: dict[str, Resolved | None] = {}
        audiences: dict[tuple[int, str, int, int | None], topics.Audience] = {}
        with Session(self.engine) as session:
            for token, principal in auth_service.resolve_tokens(session, tokens).items():
                if principal is None:
                    out[token] = None
                    continue
                key = (principal.user_id, principal.role, principal.organisation_id, principal.region_id)
                if key not in audiences:
                    audiences[key] = topics.audience(session, principal)
                out[token] = (principal, audiences[key])
        return out

    def authorise(self, principal: Principal, names: list[str] | set[str]) -> dict[str, str | None]:
        """``topics.authorise`` in a fresh session."""
        with Session(self.engine) as session:
            return topics.authorise(session, principal, sorted(names) if isinstance(names, set) else names)

    def dispose(self) -> None:
        """Close the reader's own engine (not the app's)."""
        if self.engine is not self._app_engine:
            self.engine.dispose()
