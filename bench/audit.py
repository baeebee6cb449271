"""Benchmark of the audit journal (issue 4): what journalling costs a write, and how fast the chain verifies.

    .venv/bin/python bench/audit.py [--writes 2000] [--records 100000] [--pg-url URL | --no-pg]

(a) Journalling share. A benchmark-only table ``bench_item`` (id, name, counter, updated_at) is created beside the
migrated schema. The change is what a service function does: load one row by id through the ORM, change two
columns, flush, and (in the journalled variant) call ``journal.record()`` (audit record + live event, two topics).
It is measured twice: as the bare transaction (``session_scope``: open, change, commit) and as a whole HTTP
request (a benchmark-only FastAPI app, PATCH with a JSON body validated by pydantic, the real ``get_session``
dependency, JSON response; driven in-process by TestClient). Each runs ``--writes`` times without and with
journalling, in adjacent blocks of 10 whose order alternates, so load from elsewhere hits both alike.
share = median over adjacent block pairs of (with − without) / with; times shown are medians of the blocks.
Backends: an SQLite file database (WAL, as configured by ``make_engine``) and PostgreSQL when reachable.

(b) Verification speed. ``--records`` hash-chained records are written with the journal's own hash function
(bulk inserts; ``record()`` itself is measured in (a)), then: in memory = ``verify_rows`` over rows already read
into a list; end to end = ``verify_chain`` on a fresh session (batched reads from the database plus hashing).

The last line prints the worst journalling share over the backends and the slowest end-to-end verify speed.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field
from sqlalchemy import Integer, String, create_engine, insert, text, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlmodel import Session

from iolaos.auth.actor import Actor
from iolaos.config import Settings
from iolaos.db import make_engine, session_scope
from iolaos.deps import get_session
from iolaos.journal import service as journal
from iolaos.journal.audit import GENESIS_HASH, record_hash, verify_rows
from iolaos.journal.models import AuditRecord, JournalHead
from iolaos.kit.time import UtcDateTime, iso, utcnow
from iolaos.migrate import upgrade

DEFAULT_PG = os.environ.get("IOLAOS_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/iolaos_bench_audit")
ACTOR = Actor(user_id=42, organisation_id=7, role="coordinator", name="Ελένη Παπαδάκη")


class _Base(DeclarativeBase):
    """Benchmark-only metadata, kept apart from the application's models."""


class BenchItem(_Base):
    """A small table standing in for any entity a request changes."""

    __tablename__ = "bench_item"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    counter: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


@dataclass
class BackendResult:
    """Figures for one backend."""

    name: str
    txn: Timing
    request: Timing
    in_memory_rps: float
    from_db_rps: float
    records: int


def write_request(engine: Engine, item_id: int, journalled: bool) -> None:
    """The bare unit of work of a write: load, change, flush, (journal), commit."""
    with session_scope(engine) as session:
        change_item(session, item_id, f"sector {item_id}", journalled)


def change_item(session: Session, item_id: int, name: str, journalled: bool) -> BenchItem:
    """What a service function does: load the row, change it, flush, and (if asked) journal the change."""
    item = session.get(BenchItem, item_id)
    if item is None:
        raise LookupError(item_id)
    item.counter += 1
    item.name = f"{name} round {item.counter}"
    item.updated_at = utcnow()
    session.flush()
    if journalled:
        journal.record(session, actor=ACTOR, action="bench_item.update", subject_type="bench_item",
                       subject_id=item_id, data={"name": item.name, "counter": item.counter},
                       topics=[f"bench_item:{item_id}", "bench"])
    return item


class ItemPatch(BaseModel):
    """The request body of the benchmark route."""

    name: str = Field(min_length=1, max_length=60)


def bench_app(engine: Engine) -> FastAPI:
    """A benchmark-only app: the same change behind PATCH routes using the real request session dependency."""
    app = FastAPI()
    app.state.engine = engine

    def patch(item_id: int, body: ItemPatch, session: Session, journalled: bool) -> dict[str, object]:
        try:
            item = change_item(session, item_id, body.name, journalled)
        except LookupError:
            raise HTTPException(404, "no such item") from None
        return {"id": item.id, "name": item.name, "counter": item.counter, "updated_at": iso(item.updated_at)}

    @app.patch("/plain/items/{item_id}")
    def patch_plain(item_id: int, body: ItemPatch, session: Session = Depends(get_session)) -> dict[str, object]:
        return patch(item_id, body, session, False)

    @app.patch("/journalled/items/{item_id}")
    def patch_journalled(item_id: int, body: ItemPatch,
                         session: Session = Depends(get_session)) -> dict[str, object]:
        return patch(item_id, body, session, True)

    return app


@dataclass
class Timing:
    """Interleaved timings of one kind of write: µs per call of each block, without and with journalling."""

    without: list[float]
    with_: list[float]

    @property
    def typical(self) -> tuple[float, float]:
        """Median µs per call without and with journalling."""
        return statistics.median(self.without), statistics.median(self.with_)

    @property
    def share(self) -> float:
        """Median over adjacent block pairs of (with − without) / with: robust to load that drifts."""
        return statistics.median((w - wo) / w for wo, w in zip(self.without, self.with_, strict=True))


def _interleaved(run: Callable[[int, bool], None], writes: int, block: int = 10) -> Timing:
    """Time ``run`` in adjacent pairs of blocks, one without and one with journalling (order alternating)."""
    for i in range(100):  # warm caches, connections and compiled statements
        run(i, i % 2 == 0)
    timing = Timing([], [])
    done = 0
    while done < writes:
        for journalled in ((False, True) if (done // block) % 2 == 0 else (True, False)):
            start = time.perf_counter()
            for i in range(block):
                run(done + i, journalled)
            (timing.with_ if journalled else timing.without).append((time.perf_counter() - start) / block * 1e6)
        done += block
    return timing


def measure_share(engine: Engine, writes: int) -> dict[str, Timing]:
    """µs per write without and with journalling: the bare transaction, and a whole HTTP request."""
    _Base.metadata.create_all(engine)
    with session_scope(engine) as session:
        session.add_all([BenchItem(id=i, name=f"sector {i}", counter=0, updated_at=utcnow()) for i in range(1, 51)])
    result = {"transaction": _interleaved(lambda i, j: write_request(engine, 1 + i % 50, j), writes)}
    with TestClient(bench_app(engine)) as client:
        def request(i: int, journalled: bool) -> None:
            path = f"/{'journalled' if journalled else 'plain'}/items/{1 + i % 50}"
            response = client.patch(path, json={"name": f"sector {i % 50}"})
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code} {response.text}")

        result["request"] = _interleaved(request, writes)
    return result


def fill_chain(engine: Engine, records: int, batch: int = 10_000) -> None:
    """Append ``records`` chained audit records in bulk, hashed exactly as ``record()`` hashes them."""
    audit, head = AuditRecord.__table__, JournalHead.__table__
    with session_scope(engine) as session:
        seq, prev, _ = journal.read_head(session)
    at = utcnow()
    while records > 0:
        rows = []
        for _ in range(min(batch, records)):
            seq += 1
            at += timedelta(microseconds=1_337)
            data = f'{{"counter":{seq},"name":"Τομέας {seq % 300}","status":"active"}}'
            actor = (seq % 400 + 1, seq % 12 + 1, "volunteer", f"Εθελοντής {seq % 400}")
            subject = ("patrol", str(seq % 977))
            digest = record_hash(prev_hash=prev, seq=seq, occurred_at=at, actor=actor, action="patrol.update",
                                 subject=subject, data=data)
            rows.append(dict(seq=seq, occurred_at=at, actor_user_id=actor[0], actor_organisation_id=actor[1],
                             actor_role=actor[2], actor_name=actor[3], action="patrol.update",
                             subject_type=subject[0], subject_id=subject[1], data=data, prev_hash=prev,
                             hash=digest))
            prev = digest
        with session_scope(engine) as session:
            session.execute(insert(audit), rows)
            session.execute(update(head).where(head.c.id == 1).values(audit_seq=seq, audit_hash=prev))
        records -= len(rows)


def measure_verify(engine: Engine, records: int) -> tuple[float, float, int]:
    """Records/s verified in memory and end to end from the database (best of three each)."""
    fill_chain(engine, records)
    snap = journal.snapshot_engine(engine)
    best_db, checked = 0.0, 0
    for _ in range(3):
        with Session(snap) as session:
            gc.collect()
            start = time.perf_counter()
            result = journal.verify_chain(session)
            elapsed = time.perf_counter() - start
        if not result.ok:
            raise SystemExit(f"benchmark chain does not verify: {result}")
        checked = result.checked
        best_db = max(best_db, result.checked / elapsed)
    with Session(snap) as session:
        rows = list(journal.iter_chain(session))
        head_seq, head_hash, _ = journal.read_head(session)
    snap.dispose()
    best_mem = 0.0
    for _ in range(3):
        gc.collect()
        start = time.perf_counter()
        result = verify_rows(rows, start_hash=GENESIS_HASH, head=(head_seq, head_hash))
        best_mem = max(best_mem, len(rows) / (time.perf_counter() - start))
        assert result.ok
    return best_mem, best_db, checked


def run_backend(name: str, url: str, writes: int, records: int, log: Callable[[str], None]) -> BackendResult:
    """Migrate a scratch database at ``url`` and take both measurements on it."""
    settings = Settings(database_url=url)
    upgrade(settings)
    engine = make_engine(settings)
    try:
        log(f"[{name}] {writes} writes without and with journal.record, as bare transactions and HTTP requests …")
        shares = measure_share(engine, writes)
        for kind, timing in shares.items():
            without, with_ = timing.typical
            log(f"[{name}] {kind}: {without:,.0f} µs without, {with_:,.0f} µs with journalling "
                f"(median of {len(timing.without)} blocks each); journalling {timing.share:.1%}")
        log(f"[{name}] chaining {records:,} records and verifying …")
        in_mem, from_db, checked = measure_verify(engine, records)
    finally:
        engine.dispose()
    return BackendResult(name, shares["transaction"], shares["request"], in_mem, from_db, checked)


def _pg_database(url: str, *, create: bool) -> bool:
    """(Re)create or drop the scratch PostgreSQL database; False when the server is unreachable."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            if create:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    except Exception as exc:  # unreachable server: report and carry on with SQLite
        print(f"PostgreSQL skipped: {type(exc).__name__}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return False
    finally:
        admin.dispose()
    return True


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one summary line last."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=2000, help="write requests per variant (default 2000)")
    parser.add_argument("--records", type=int, default=100_000, help="records to verify (default 100,000)")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="scratch PostgreSQL database (dropped and recreated)")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    results: list[BackendResult] = []
    with tempfile.TemporaryDirectory(prefix="iolaos-bench-audit-") as tmp:
        results.append(run_backend("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", args.writes, args.records, log))
    if not args.no_pg and _pg_database(args.pg_url, create=True):
        try:
            results.append(run_backend("PostgreSQL", args.pg_url, args.writes, args.records, log))
        finally:
            _pg_database(args.pg_url, create=False)

    print(f"{'backend':<11} {'transaction µs':>15} {'share':>6} {'HTTP request µs':>16} {'share':>6} "
          f"{'verify memory/s':>16} {'verify DB/s':>12}")
    for r in results:
        (t0, t1), (q0, q1) = r.txn.typical, r.request.typical
        print(f"{r.name:<11} {t0:>6,.0f} → {t1:>6,.0f} {r.txn.share:>6.1%} {q0:>7,.0f} → {q1:>6,.0f} "
              f"{r.request.share:>6.1%} {r.in_memory_rps:>16,.0f} {r.from_db_rps:>12,.0f}")
    worst_request = max(r.request.share for r in results)
    worst_txn = max(r.txn.share for r in results)
    slowest = min(results, key=lambda r: r.from_db_rps)
    print(f"journal share {worst_request:.1%} of a write request ({worst_txn:.1%} of the bare transaction; "
          f"worst backend each); verify {slowest.from_db_rps:,.0f} records/s from the database "
          f"({min(r.in_memory_rps for r in results):,.0f} in memory)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
