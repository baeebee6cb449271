"""journal.record(): the chain it writes verifies, failures write nothing, events carry their topics."""

from __future__ import annotations

import hashlib
import json
import random
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text, update

from iolaos.auth.actor import Actor, system_actor
from iolaos.db import session_scope
from iolaos.journal import service as journal
from iolaos.journal.audit import GENESIS_HASH, ChainRow, canonical_json, record_hash, verify_rows
from iolaos.journal.models import AuditRecord, Event
from iolaos.zones.models import Zone
from tests.journal.chain_tools import fill

ACTOR = Actor(user_id=12, organisation_id=3, role="coordinator", name="Ελένη Παπαδάκη")


def _counts(session) -> tuple[int, int, tuple]:
    audits = session.scalar(select(func.count()).select_from(AuditRecord))
    events = session.scalar(select(func.count()).select_from(Event))
    head = session.execute(text("SELECT audit_seq, audit_hash, event_seq FROM journal_head")).one()
    return audits, events, tuple(head)


def test_hash_of_a_fixed_record_is_stable():
    """The canonical form is part of the stored data: changing it would break every existing chain."""
    at = datetime(2026, 7, 14, 9, 30, 0, 123456, tzinfo=UTC)
    args = dict(prev_hash=GENESIS_HASH, seq=1, occurred_at=at, actor=(12, None, "coordinator", "Ελένη \"Ε\""),
                action="patrol.handover", subject=("patrol", "42"), data=canonical_json({"to": 7, "why": "βάρδια"}))
    body = canonical_json([1, "2026-07-14T09:30:00.123456Z", [12, None, "coordinator", "Ελένη \"Ε\""],
                           "patrol.handover", ["patrol", "42"], '{"to":7,"why":"βάρδια"}'])
    assert record_hash(**args) == hashlib.sha256((GENESIS_HASH + body).encode()).hexdigest()
    assert record_hash(**args) == "83a0a19bc0c520d40b1158b1adb869a2eaf244b3f7ab2e0a5c8a2a25911a865b"
    row = ChainRow(1, at, 12, None, "coordinator", "Ελένη \"Ε\"", "patrol.handover", "patrol", "42",
                   '{"to":7,"why":"βάρδια"}', GENESIS_HASH, record_hash(**args))
    assert row.expected_hash() == row.hash
    assert verify_rows([row], head=(1, row.hash)).ok


def test_record_writes_a_chain_that_verifies(engine):
    with session_scope(engine) as session:
        before = journal.read_head(session)
    rng = random.Random(1)
    fill(engine, before[0] + 120, rng, per_transaction=7)
    with session_scope(engine) as session:
        made = journal.record(session, actor=ACTOR, action="patrol.create", subject_type="patrol", subject_id=9,
                              data={"zone": "9186", "note": "Πάρνηθα"})
    with session_scope(engine) as session:
        result = journal.verify_chain(session)
        stored = session.get(AuditRecord, made.seq)
        head = journal.read_head(session)
    assert result.ok, result
    assert result.checked == before[0] + 121 == head[0] == made.seq
    assert result.head_hash == head[1] == made.hash
    assert (stored.actor_user_id, stored.actor_organisation_id, stored.actor_role, stored.actor_name) == (
        12, 3, "coordinator", "Ελένη Παπαδάκη")
    assert (stored.action, stored.subject_type, stored.subject_id) == ("patrol.create", "patrol", "9")
    assert json.loads(stored.data) == {"zone": "9186", "note": "Πάρνηθα"}
    assert stored.occurred_at == made.occurred_at and stored.prev_hash == made.prev_hash
    assert head[2] == before[2], "the epoch never changes"


def test_iter_chain_matches_the_orm(engine):
    fill(engine, 40, random.Random(2), per_transaction=40)
    with session_scope(engine) as session:
        rows = list(journal.iter_chain(session, batch=7))
        orm = session.scalars(select(AuditRecord).order_by(AuditRecord.seq)).all()
    assert [r.seq for r in rows] == list(range(1, len(orm) + 1))
    for row, rec in zip(rows, orm, strict=True):
        assert row == ChainRow(*(getattr(rec, name) for name in ChainRow._fields))
        assert row.occurred_at.tzinfo is UTC


def test_failing_transaction_writes_nothing(engine):
    """An exception after record(): no audit record, no event, head unchanged, and the change itself undone."""
    with session_scope(engine) as session:
        zone = session.scalars(select(Zone).order_by(Zone.id)).first()
        zone_id, name = zone.id, zone.name_en
        before = _counts(session)
    woken: list[int] = []
    journal.add_wake_listener(woken.append)
    try:
        with pytest.raises(RuntimeError, match="refused"), session_scope(engine) as session:
            session.execute(update(Zone).where(Zone.id == zone_id).values(name_en="renamed"))
            journal.record(session, actor=ACTOR, action="zone.rename", subject_type="zone", subject_id=zone_id,
                           data={"name_en": "renamed"}, topics=[f"zone:{zone_id}"])
            journal.record(session, actor=ACTOR, action="zone.note", subject_type="zone", subject_id=zone_id)
            raise RuntimeError("refused by a later rule")
    finally:
        journal.remove_wake_listener(woken.append)
    with session_scope(engine) as session:
        assert _counts(session) == before
        assert session.get(Zone, zone_id).name_en == name
        assert journal.verify_chain(session).ok
    assert woken == [], "listeners are woken only after a commit"


def test_events_carry_topics_and_wake_after_commit(engine):
    woken: list[int] = []
    journal.add_wake_listener(woken.append)
    try:
        with session_scope(engine) as session:
            _, _, (_, _, event_seq0) = _counts(session)
            rec = journal.record(session, actor=ACTOR, action="incident.update", subject_type="incident",
                                 subject_id="Κ-7", data={"status": "contained"},
                                 topics=["zone:2", "incidents", "zone:2"])
            quiet = journal.record(session, actor=ACTOR, action="incident.note", subject_type="incident",
                                   subject_id="Κ-7", data={"x": 1})
            custom = journal.record(session, actor=system_actor(), action="zones.import", subject_type="zone_set",
                                    subject_id="file.geojson", data={"big": list(range(50))}, topics=["zones"],
                                    event_kind="zones.changed", payload={"created": 3})
            assert woken == []
        with session_scope(engine) as session:
            events = session.scalars(select(Event).where(Event.seq > event_seq0).order_by(Event.seq)).all()
    finally:
        journal.remove_wake_listener(woken.append)
    assert [e.seq for e in events] == [event_seq0 + 1, event_seq0 + 2]
    assert woken == [event_seq0 + 1, event_seq0 + 2]
    first, second = (journal.event_to_wire(e) for e in events)
    assert first["topics"] == ["incidents", "zone:2"] and events[0].topics == " incidents zone:2 "
    assert first["kind"] == "incident.update" and events[0].audit_seq == rec.seq
    assert first["payload"] == {"subject": ["incident", "Κ-7"], "status": "contained"}
    assert second == {"seq": event_seq0 + 2, "kind": "zones.changed", "at": second["at"], "topics": ["zones"],
                      "payload": {"created": 3}}
    assert events[1].audit_seq == custom.seq == quiet.seq + 1


def test_verification_reads_a_snapshot_without_blocking_writers(engine):
    """``snapshot_engine``: a long verification neither blocks the application's writers nor sees their records."""
    fill(engine, 30, random.Random(6), per_transaction=30)
    snapshot = journal.snapshot_engine(engine)
    try:
        with session_scope(snapshot) as reader:
            before = journal.verify_chain(reader)
            done = threading.Event()

            def write() -> None:
                with session_scope(engine) as session:
                    journal.record(session, actor=ACTOR, action="patrol.create", subject_type="patrol", subject_id=1)
                done.set()

            writer = threading.Thread(target=write)
            writer.start()
            assert done.wait(10), "the writer was blocked by the verification"
            writer.join()
            during = journal.verify_chain(reader)
            assert journal.read_head(reader)[0] == before.head_seq
        assert before.ok and during.ok and during.checked == before.checked
    finally:
        snapshot.dispose()
    with session_scope(engine) as session:
        assert journal.verify_chain(session).checked == before.checked + 1
