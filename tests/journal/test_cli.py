"""``iolaos audit verify|keygen|checkpoint`` against real databases, including tampering done in the database."""

from __future__ import annotations

import json
import random
import stat
from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from iolaos.cli import app as cli_app
from iolaos.db import make_engine, session_scope
from iolaos.journal import service as journal
from tests.journal.chain_tools import bypassing_protection, fill, rechain, set_head

runner = CliRunner()
LENGTH = 80


def _run(*args: str):
    return runner.invoke(cli_app, ["audit", *args])


def _chain(settings) -> list:
    engine = make_engine(settings)
    try:
        fill(engine, LENGTH, random.Random(3), per_transaction=20)
        with session_scope(engine) as session:
            return list(journal.iter_chain(session))
    finally:
        engine.dispose()


def _keys_and_checkpoint(tmp_path: Path) -> tuple[Path, Path, Path]:
    key = tmp_path / "audit.key"
    assert _run("keygen", "--out", str(key)).exit_code == 0
    cp = tmp_path / "checkpoint.json"
    result = _run("checkpoint", "--key", str(key), "--out", str(cp))
    assert result.exit_code == 0, result.output
    return key, Path(f"{key}.pub"), cp


def test_verify_reports_ok_with_speed_and_progress(cli_env):
    _chain(cli_env)
    result = _run("verify", "--progress-interval", "0")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"ok: {LENGTH} records in ") and "records/s" in result.stdout
    assert f"verified {LENGTH} of {LENGTH} records (100%)" in result.stderr and "records/s" in result.stderr


def test_in_database_modification_is_named(cli_env, backend):
    """SQLite: the trigger dropped; PostgreSQL: triggers disabled by a superuser (session_replication_role)."""
    _chain(cli_env)
    with bypassing_protection(cli_env) as conn:
        conn.execute(text("UPDATE audit_record SET data = :d WHERE seq = 37"), {"d": '{"amount":1000000}'})
    result = _run("verify")
    assert result.exit_code == 1
    assert "BROKEN at record 37: content does not match its hash" in result.stderr
    engine = make_engine(cli_env)  # the same in one request session: the stopped walk leaves it usable
    with session_scope(engine) as session:
        first, again = journal.verify_chain(session), journal.verify_chain(session)
        assert journal.read_head(session)[0] == LENGTH
    engine.dispose()
    assert (first.ok, first.broken_seq, first.checked) == (again.ok, again.broken_seq, again.checked) == (False, 37, 36)


def test_in_database_deletion_and_reordering_are_named(cli_env):
    rows = _chain(cli_env)
    with bypassing_protection(cli_env) as conn:
        conn.execute(text("DELETE FROM audit_record WHERE seq = 50"))
        conn.execute(text("UPDATE audit_record SET actor_name = :n WHERE seq = 20"), {"n": rows[21].actor_name + "x"})
    result = _run("verify")
    assert result.exit_code == 1 and "BROKEN at record 20" in result.stderr


def test_record_inserted_around_the_journal_is_named(cli_env):
    """INSERT is allowed on audit_record, but a row added without moving the head does not pass."""
    rows = _chain(cli_env)
    last = rows[-1]
    forged = rechain([*rows, last._replace(seq=last.seq + 1, data='{"forged":true}')], start=len(rows))[-1]
    with bypassing_protection(cli_env) as conn:
        conn.execute(text("INSERT INTO audit_record (seq, occurred_at, actor_user_id, actor_organisation_id, "
                          "actor_role, actor_name, action, subject_type, subject_id, data, prev_hash, hash) "
                          "SELECT :seq, occurred_at, actor_user_id, actor_organisation_id, actor_role, actor_name, "
                          "action, subject_type, subject_id, :data, :prev, :hash FROM audit_record WHERE seq = :last"),
                     {"seq": forged.seq, "data": forged.data, "prev": forged.prev_hash, "hash": forged.hash,
                      "last": last.seq})
    result = _run("verify")
    assert result.exit_code == 1
    assert f"BROKEN at record {LENGTH + 1}: records after {LENGTH}, the journal head" in result.stderr


def test_keygen_writes_a_private_key_only_its_owner_can_read(tmp_path):
    key = tmp_path / "audit.key"
    result = _run("keygen", "--out", str(key))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert Path(f"{key}.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert f"public key: {key}.pub" in result.stdout
    again = _run("keygen", "--out", str(key))
    assert again.exit_code == 2 and "refusing to overwrite" in again.stderr


def test_checkpoint_file_and_signature_checks(cli_env, tmp_path):
    _chain(cli_env)
    _, pub, cp = _keys_and_checkpoint(tmp_path)
    content = json.loads(cp.read_text())
    assert set(content) == {"format", "seq", "head_hash", "epoch", "created_at", "public_key", "signature"}
    engine = make_engine(cli_env)
    with session_scope(engine) as session:
        assert (content["seq"], content["head_hash"], content["epoch"]) == journal.read_head(session)
    engine.dispose()
    embedded = _run("verify", "--checkpoint", str(cp))
    assert embedded.exit_code == 0, embedded.output
    assert "embedded" in embedded.stdout and "--public-key" in embedded.stdout
    assert f"checkpoint seq {LENGTH}" in embedded.stdout
    proper = _run("verify", "--checkpoint", str(cp), "--public-key", str(pub))
    assert proper.exit_code == 0 and f"public key {pub}" in proper.stdout
    _run("keygen", "--out", str(tmp_path / "other.key"))
    wrong = _run("verify", "--checkpoint", str(cp), "--public-key", str(tmp_path / "other.key.pub"))
    assert wrong.exit_code == 1 and "CHECKPOINT REJECTED" in wrong.stderr
    content["seq"] -= 1
    (tmp_path / "edited.json").write_text(json.dumps(content))
    edited = _run("verify", "--checkpoint", str(tmp_path / "edited.json"))
    assert edited.exit_code == 1 and "altered" in edited.stderr
    (tmp_path / "junk.json").write_text("{not json")
    assert _run("verify", "--checkpoint", str(tmp_path / "junk.json")).exit_code == 2


def test_truncated_tail_in_database_is_caught_by_the_checkpoint(cli_env, tmp_path):
    rows = _chain(cli_env)
    _, pub, cp = _keys_and_checkpoint(tmp_path)
    with bypassing_protection(cli_env) as conn:
        conn.execute(text("DELETE FROM audit_record WHERE seq > 70"))
        set_head(conn, 70, rows[69].hash)
    assert _run("verify").exit_code == 0, "the chain alone cannot see a clean truncation"
    result = _run("verify", "--checkpoint", str(cp), "--public-key", str(pub))
    assert result.exit_code == 1
    assert "BROKEN at record 71" in result.stderr and "truncated" in result.stderr


def test_recomputed_chain_in_database_is_caught_by_the_checkpoint(cli_env, tmp_path):
    rows = _chain(cli_env)
    key, pub, cp = _keys_and_checkpoint(tmp_path)
    forged = list(rows)
    forged[29] = forged[29]._replace(data='{"approved_by":"nobody"}')
    forged = rechain(forged, start=29)
    with bypassing_protection(cli_env) as conn:
        for row in forged[29:]:
            conn.execute(text("UPDATE audit_record SET data = :d, prev_hash = :p, hash = :h WHERE seq = :s"),
                         {"d": row.data, "p": row.prev_hash, "h": row.hash, "s": row.seq})
        set_head(conn, forged[-1].seq, forged[-1].hash)
    assert _run("verify").exit_code == 0, "a recomputed chain is consistent in itself"
    result = _run("verify", "--checkpoint", str(cp), "--public-key", str(pub))
    assert result.exit_code == 1 and f"BROKEN at record {LENGTH}" in result.stderr and "rewritten" in result.stderr
    newer = tmp_path / "newer.json"
    refused = _run("checkpoint", "--key", str(key), "--out", str(newer), "--previous", str(cp))
    assert refused.exit_code == 1 and not newer.exists(), "a rewritten chain is not signed over an older checkpoint"


def test_checkpoint_refuses_a_broken_chain_and_another_journal(cli_env, tmp_path):
    _chain(cli_env)
    key, _, cp = _keys_and_checkpoint(tmp_path)
    with bypassing_protection(cli_env) as conn:
        conn.execute(text("UPDATE journal_head SET epoch = 'another-journal'"))
    other = _run("verify", "--checkpoint", str(cp))
    assert other.exit_code == 1 and "epoch" in other.stderr
    with bypassing_protection(cli_env) as conn:
        conn.execute(text("UPDATE audit_record SET action = 'x' WHERE seq = 5"))
    out = tmp_path / "new.json"
    result = _run("checkpoint", "--key", str(key), "--out", str(out))
    assert result.exit_code == 1 and "BROKEN at record 5" in result.stderr and not out.exists()
