"""Concurrent writers leave one unbroken chain: seq order is commit order, with no gaps."""

from __future__ import annotations

import random
import threading
import time

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from iolaos.db import make_read_engine, session_scope
from iolaos.journal import service as journal
from iolaos.journal.models import AuditRecord, Event
from tests.journal.chain_tools import record_random

# PostgreSQL: the acceptance criterion (8 writers × 500 changes). SQLite serialises whole transactions with
# BEGIN IMMEDIATE, so a smaller run there shows the same property without slowing the suite.
SIZES = {"postgresql": (8, 500), "sqlite": (4, 100)}


class _Abort(Exception):
    """A change refused after it was journalled."""


def test_concurrent_writers_leave_one_unbroken_chain(empty_engine, backend):
    writers, changes = SIZES[backend.name]
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        """``changes`` committed changes, each its own transaction; about 2% extra attempts abort."""
        rng = random.Random(k)
        try:
            start.wait()
            done = 0
            while done < changes:
                try:
                    with session_scope(empty_engine) as session:
                        record_random(session, rng)
                        if rng.random() < 0.02:
                            raise _Abort
                    done += 1
                except _Abort:
                    pass
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    false_alarms: list[object] = []
    verifications = 0
    writing = True

    def verifier() -> None:
        """Verify over and over while the writers run, in the default isolation level (no snapshot)."""
        nonlocal verifications
        while writing:
            with session_scope(empty_engine) as session:
                result = journal.verify_chain(session)
            verifications += 1
            if not result.ok:
                false_alarms.append(result)
            time.sleep(0.2)  # leave the CPU to the writers

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(writers)]
    checker = threading.Thread(target=verifier)
    for t in threads:
        t.start()
    checker.start()
    for t in threads:
        t.join()
    writing = False
    checker.join()
    assert not errors, errors[:3]
    assert verifications > 0 and false_alarms == [], false_alarms[:3]
    total = writers * changes
    snapshot = journal.snapshot_engine(empty_engine)
    with session_scope(snapshot) as session:
        result = journal.verify_chain(session)
        seqs = session.scalars(select(AuditRecord.seq).order_by(AuditRecord.seq)).all()
        events = session.execute(select(Event.seq, Event.audit_seq).order_by(Event.seq)).all()
        head_seq, _, _ = journal.read_head(session)
    snapshot.dispose()
    assert result.ok, result
    assert result.checked == total == head_seq
    assert seqs == list(range(1, total + 1)), "audit seqs 1..N with no gaps"
    assert [e.seq for e in events] == list(range(1, len(events) + 1)), "event seqs 1..M with no gaps"
    audit_seqs = [e.audit_seq for e in events]
    assert audit_seqs == sorted(audit_seqs) and len(set(audit_seqs)) == len(audit_seqs)
    assert 0 < len(events) < total  # records without topics have no event


def test_reads_take_no_lock_and_cannot_write_while_writers_stay_serialised(empty_engine, empty_db, backend):
    """Read-only requests (db.make_read_engine) read a snapshot beside an open writer and refuse to write."""
    reader = make_read_engine(empty_db, empty_engine)
    holding, release = threading.Event(), threading.Event()
    problems: list[BaseException] = []

    def slow_writer() -> None:
        """One write transaction that keeps the journal's write lock (and head row) until released."""
        try:
            with session_scope(empty_engine) as session:
                record_random(session, random.Random(1))
                holding.set()
                assert release.wait(20)
        except BaseException as exc:
            problems.append(exc)
            holding.set()

    with session_scope(empty_engine) as session:
        record_random(session, random.Random(0))
    thread = threading.Thread(target=slow_writer)
    thread.start()
    try:
        assert holding.wait(20)
        began = time.monotonic()
        with Session(reader) as session:  # with BEGIN IMMEDIATE (the old reads) this waited for the writer
            seen = journal.read_head(session)[0]
        assert time.monotonic() - began < 2.0 and seen == 1, "a read waits for nobody and sees the committed head"
        with pytest.raises(DBAPIError), Session(reader) as session:  # same on both backends: refused at once
            record_random(session, random.Random(2))
    finally:
        release.set()
        thread.join()
    assert not problems, problems
    with Session(reader) as session:
        assert journal.read_head(session)[0] == 2  # the writer's record; the refused one left nothing
        assert session.scalars(select(AuditRecord.seq).order_by(AuditRecord.seq)).all() == [1, 2]
    if reader is not empty_engine:
        reader.dispose()
