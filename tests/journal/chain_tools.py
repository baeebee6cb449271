"""Helpers for the journal tests: varied records, tampering with rows in memory and in the database."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url

from iolaos.auth.actor import Actor, system_actor
from iolaos.config import Settings
from iolaos.db import session_scope
from iolaos.journal import service as journal
from iolaos.journal.audit import GENESIS_HASH, ChainRow, record_hash

NAMES = ["Ελένη Παπαδάκη", "Γιώργος Νικολάου", 'O\'Brien "Bob"', "back\\slash", "emoji 🔥 fire", "tab\tand\nnewline"]
ACTIONS = ["patrol.create", "patrol.handover", "incident.update", "zone.import", "volunteer.join"]
SUBJECTS = ["patrol", "incident", "zone", "volunteer", "organisation"]
TOPICS = ["zone:1", "zone:2", "org:7", "patrol:all", "incidents", "διάφορα"]


def random_actor(rng: random.Random) -> Actor:
    """A person acting for an organisation, or the system."""
    if rng.random() < 0.15:
        return system_actor(rng.choice(["cli", "scheduler", "tests"]))
    return Actor(user_id=rng.randint(1, 10_000), organisation_id=rng.choice([None, rng.randint(1, 60)]),
                 role=rng.choice(["volunteer", "coordinator", "authority"]), name=rng.choice(NAMES))


def random_data(rng: random.Random) -> dict[str, Any]:
    """A small record body with nested values, unicode and awkward characters."""
    return {"name": rng.choice(NAMES), "count": rng.randint(-5, 10**12), "ratio": rng.random(),
            "flags": [rng.random() < 0.5 for _ in range(rng.randint(0, 3))], "none": None,
            "nested": {"z": rng.choice(TOPICS), "a": [rng.randint(0, 9), "\u2028", "€"]}}


def record_random(session: Any, rng: random.Random) -> None:
    """One journal.record() call with random but valid content."""
    journal.record(session, actor=random_actor(rng), action=rng.choice(ACTIONS), subject_type=rng.choice(SUBJECTS),
                   subject_id=rng.choice([rng.randint(1, 99_999), f"Κ-{rng.randint(1, 99)}"]),
                   data=random_data(rng), topics=rng.sample(TOPICS, rng.randint(0, 3)))


def fill(engine: Engine, total: int, rng: random.Random, per_transaction: int = 100) -> None:
    """Add records through journal.record() until the chain holds ``total`` records."""
    with session_scope(engine) as session:
        have = journal.read_head(session)[0]
    while have < total:
        n = min(per_transaction, total - have)
        with session_scope(engine) as session:
            for _ in range(n):
                record_random(session, rng)
        have += n


@dataclass(frozen=True)
class Chain:
    """A chain read into memory, with its stored head."""

    settings: Settings
    rows: list[ChainRow]
    head: tuple[int, str]
    epoch: str


# -- tampering in memory ---------------------------------------------------------------------------------------------

def _other_text(value: str, rng: random.Random) -> str:
    """The same text with one character replaced, inserted or removed."""
    chars = list(value)
    op = rng.choice(["replace", "insert", "delete"]) if chars else "insert"
    pos = rng.randrange(len(chars)) if chars else 0
    if op == "replace":
        chars[pos] = rng.choice([c for c in "aZ9 é\"\\{}" if c != chars[pos]])
    elif op == "insert":
        chars.insert(pos, rng.choice("aZ9 é\"\\{}"))
    else:
        del chars[pos]
    return "".join(chars)


def _other_hex(value: str, rng: random.Random) -> str:
    pos = rng.randrange(len(value))
    return value[:pos] + rng.choice([c for c in "0123456789abcdef" if c != value[pos]]) + value[pos + 1:]


def modified(row: ChainRow, field: str, rng: random.Random) -> ChainRow:
    """``row`` with one field changed to a different value of the same kind."""
    old = getattr(row, field)
    if field == "seq":
        new: Any = old + rng.choice([-3, -1, 1, 2, 1000])
    elif field == "occurred_at":
        new = old + timedelta(microseconds=rng.choice([1, -1, 999, 3_600_000_000]))
    elif field in ("actor_user_id", "actor_organisation_id"):
        new = rng.randint(1, 50) if old is None else rng.choice([None, old + rng.choice([-1, 1, 100])])
    elif field in ("prev_hash", "hash"):
        new = _other_hex(old, rng)
    else:
        new = _other_text(old, rng)
    assert new != old
    return row._replace(**{field: new})


def swapped_contents(a: ChainRow, b: ChainRow) -> tuple[ChainRow, ChainRow]:
    """Two rows exchanging everything but their seq."""
    return b._replace(seq=a.seq), a._replace(seq=b.seq)


def rechain(rows: list[ChainRow], start: int = 0) -> list[ChainRow]:
    """Recompute prev_hash and hash from index ``start`` on, as an attacker with the hash function would."""
    out = list(rows[:start])
    prev = out[-1].hash if out else GENESIS_HASH
    for row in rows[start:]:
        digest = record_hash(prev_hash=prev, seq=row.seq, occurred_at=row.occurred_at,
                             actor=(row.actor_user_id, row.actor_organisation_id, row.actor_role, row.actor_name),
                             action=row.action, subject=(row.subject_type, row.subject_id), data=row.data)
        out.append(row._replace(prev_hash=prev, hash=digest))
        prev = digest
    return out


# -- tampering in the database -----------------------------------------------------------------------------------------

@contextmanager
def bypassing_protection(settings: Settings) -> Iterator[Connection]:
    """A superuser/owner connection on which the append-only triggers do not fire (committed on exit).

    SQLite: the triggers are dropped. PostgreSQL: ``session_replication_role = replica`` (superuser only)
    disables ordinary triggers for this session, as an attacker with superuser access could.
    """
    url = make_url(settings.database_url)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            if url.get_backend_name() == "sqlite":
                conn.execute(text("DROP TRIGGER IF EXISTS audit_record_no_update"))
                conn.execute(text("DROP TRIGGER IF EXISTS audit_record_no_delete"))
            else:
                conn.execute(text("SET LOCAL session_replication_role = replica"))
            yield conn
    finally:
        engine.dispose()


def set_head(conn: Connection, seq: int, digest: str) -> None:
    """Point the journal head at (seq, digest), as an attacker covering their tracks would."""
    conn.execute(text("UPDATE journal_head SET audit_seq = :s, audit_hash = :h WHERE id = 1"), {"s": seq, "h": digest})
