"""Fixtures of the journal tests: a 5,000-record chain per backend, an empty journal, the CLI's environment."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from iolaos.config import Settings, get_settings
from iolaos.db import make_engine, session_scope
from iolaos.journal import service as journal
from tests.journal.chain_tools import Chain, fill

CHAIN_LENGTH = 5_000


@pytest.fixture(scope="session")
def chain5000(backend, template_settings: Settings) -> Chain:
    """A chain of 5,000 records written through journal.record() in a real database, read back into memory.

    Built once per backend in its own copy of the template; tests must not write to it.
    """
    backend.clone("tpl", "journal_chain")
    settings = backend.settings("journal_chain")
    engine = make_engine(settings)
    try:
        fill(engine, CHAIN_LENGTH, random.Random(5000))
        with session_scope(engine) as session:
            rows = list(journal.iter_chain(session))
            head_seq, head_hash, epoch = journal.read_head(session)
    finally:
        engine.dispose()
    assert len(rows) == CHAIN_LENGTH and rows[-1].seq == head_seq
    return Chain(settings, rows, (head_seq, head_hash), epoch)


@pytest.fixture
def empty_engine(empty_db: Settings) -> Iterator[Engine]:
    """An engine on a migrated database whose journal is empty."""
    engine = make_engine(empty_db)
    yield engine
    engine.dispose()


@pytest.fixture
def cli_env(db: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Point ``iolaos`` commands at the test database through IOLAOS_DATABASE_URL."""
    monkeypatch.setenv("IOLAOS_DATABASE_URL", db.database_url)
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()
