"""The journal head reader answers every caller, whatever goes wrong (journal/head.py)."""

from __future__ import annotations

import asyncio

from iolaos.journal import head
from iolaos.journal.head import HeadReader


def test_an_unexpected_failure_answers_none_and_later_reads_work_again(monkeypatch):
    """A PostgreSQL read that fails in an unforeseen way must not leave callers waiting forever."""
    monkeypatch.setattr(head, "RETRY_SECONDS", 0.0)
    reader = HeadReader("postgresql+psycopg://nobody@127.0.0.1:1/none")
    calls = []

    async def flaky():
        calls.append(1)
        await asyncio.sleep(0.01)
        if len(calls) == 1:
            raise RuntimeError("not a database error")
        return ("epoch", 7)

    reader._read_pg = flaky

    async def scenario():
        first = asyncio.create_task(reader.read())
        await asyncio.sleep(0)  # the first read is in flight
        second = asyncio.create_task(reader.read())  # waits for the next read
        results = await asyncio.wait_for(asyncio.gather(first, second, return_exceptions=True), 5)
        later = await asyncio.wait_for(reader.read(), 5)
        return results, later

    results, later = asyncio.run(scenario())
    assert results[0] is None and later == ("epoch", 7)
    assert results[1] in (None, ("epoch", 7))


def test_callers_arriving_during_a_read_share_the_next_one():
    reader = HeadReader("postgresql+psycopg://nobody@127.0.0.1:1/none")
    started = []

    async def counted():
        started.append(1)
        await asyncio.sleep(0.02)
        return ("epoch", len(started))

    reader._read_pg = counted

    async def scenario():
        first = asyncio.create_task(reader.read())
        await asyncio.sleep(0.005)  # the first read has begun
        later = [asyncio.create_task(reader.read()) for _ in range(5)]
        return await first, await asyncio.gather(*later)

    first, later = asyncio.run(scenario())
    assert first == ("epoch", 1)
    assert later == [("epoch", 2)] * 5  # one more read for all five, begun after they arrived
    assert len(started) == 2


def test_an_in_memory_sqlite_database_has_no_reader():
    assert not HeadReader("sqlite://").enabled and not HeadReader("sqlite:///:memory:").enabled
    assert HeadReader("sqlite:///some/file.db").enabled
