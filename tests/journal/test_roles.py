"""The audit table is append-only: for the application's role by privileges, for everyone by triggers."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from iolaos.auth.actor import Actor
from iolaos.cli import app as cli_app
from iolaos.config import Settings
from iolaos.db import make_engine, session_scope
from iolaos.journal import service as journal
from iolaos.journal.roles import RoleError, audit_privilege_leaks, grant_app_role
from tests.journal.chain_tools import fill

APP_ROLE = "iolaos_app_test"
CHANGES = {
    "UPDATE": "UPDATE audit_record SET data = '{}' WHERE seq = 1",
    "DELETE": "DELETE FROM audit_record WHERE seq = 1",
    "TRUNCATE": "TRUNCATE audit_record",
}


def _attempt(engine: Engine, sql: str) -> DBAPIError:
    with pytest.raises(DBAPIError) as caught, engine.begin() as conn:
        conn.execute(text(sql))
    return caught.value


@pytest.fixture
def app_role(db: Settings, backend) -> Iterator[Settings]:
    """A LOGIN role granted as the application's role in the fresh database; settings that connect as it."""
    if backend.name != "postgresql":
        pytest.skip("roles exist on PostgreSQL only")
    owner = create_engine(make_url(db.database_url), isolation_level="AUTOCOMMIT")
    with owner.connect() as conn:
        conn.execute(text(f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') "
                          f"THEN CREATE ROLE {APP_ROLE} LOGIN; END IF; END $$"))
    yield Settings(database_url=make_url(db.database_url).set(username=APP_ROLE).render_as_string(False))
    with owner.connect() as conn:
        conn.execute(text(f"DROP OWNED BY {APP_ROLE}"))  # its privileges here; other databases are clones
    owner.dispose()


def test_app_role_cannot_change_or_remove_audit_records(db, app_role):
    owner = make_engine(db)
    fill(owner, 10, random.Random(4))
    with owner.begin() as conn:
        granted = grant_app_role(conn, APP_ROLE)
        assert audit_privilege_leaks(conn, APP_ROLE) == []
    owner.dispose()
    assert granted["audit_record"] == "SELECT, INSERT"
    assert granted["journal_head"] == granted["zone"] == "SELECT, INSERT, UPDATE, DELETE"
    assert granted.get("spatial_ref_sys", "SELECT") == "SELECT" and granted["alembic_version"] == "SELECT"

    app = make_engine(app_role)
    try:
        with session_scope(app) as session:  # the application can still journal ...
            journal.record(session, actor=Actor(1, 1, "volunteer", "app"), action="patrol.create",
                           subject_type="patrol", subject_id=1, topics=["patrols"])
        for verb, sql in CHANGES.items():  # ... but not change what was journalled
            error = _attempt(app, sql)
            assert getattr(error.orig, "sqlstate", None) == "42501", (verb, error)
            assert "permission denied for table audit_record" in str(error.orig), (verb, error)
        with session_scope(app) as session:
            assert journal.verify_chain(session).ok
    finally:
        app.dispose()


def test_owner_is_refused_by_the_triggers(db, backend):
    """Even the owner (here the superuser ``postgres``) cannot change records: the triggers of migration 0001."""
    engine = make_engine(db)
    fill(engine, 3, random.Random(5))
    try:
        verbs = CHANGES if backend.name == "postgresql" else {k: v for k, v in CHANGES.items() if k != "TRUNCATE"}
        for verb, sql in verbs.items():
            error = _attempt(engine, sql)
            assert "append-only" in str(error.orig), (verb, error)
        if backend.name == "sqlite":  # SQLite has no TRUNCATE; DELETE without WHERE is its equivalent
            assert "append-only" in str(_attempt(engine, "DELETE FROM audit_record").orig)
        with session_scope(engine) as session:
            result = journal.verify_chain(session)
            head_seq = journal.read_head(session)[0]
        assert result.ok and result.checked == head_seq
    finally:
        engine.dispose()


def test_unsafe_roles_are_refused(db, backend):
    engine = create_engine(make_url(db.database_url))
    try:
        with engine.begin() as conn:
            if backend.name == "sqlite":
                with pytest.raises(RoleError, match="PostgreSQL only"):
                    grant_app_role(conn, APP_ROLE)
                return
            with pytest.raises(RoleError, match="does not exist"):
                grant_app_role(conn, "no_such_role_iolaos")
            with pytest.raises(RoleError, match="superuser"):
                grant_app_role(conn, "postgres")
    finally:
        engine.dispose()


def test_grant_app_role_command(app_role, cli_env):
    result = CliRunner().invoke(cli_app, ["audit", "grant-app-role", APP_ROLE])
    assert result.exit_code == 0, result.output
    assert "audit_record" in result.stdout and "SELECT, INSERT\n" in result.stdout
    refused = CliRunner().invoke(cli_app, ["audit", "grant-app-role", "postgres"])
    assert refused.exit_code == 2 and "superuser" in refused.stderr
