"""``iolaos users create``: the superuser's path for roles an admin may not grant (docs/security.md)."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from iolaos.auth.models import User
from iolaos.cli import app as cli_app
from iolaos.config import get_settings
from iolaos.db import session_scope
from iolaos.journal.models import AuditRecord
from iolaos.organisations.models import Organisation

runner = CliRunner()


def test_the_command_line_makes_a_dispatcher_and_explains_a_bad_organisation(db, engine, monkeypatch):
    monkeypatch.setenv("IOLAOS_DATABASE_URL", db.database_url)
    get_settings.cache_clear()
    try:
        with session_scope(engine) as s:
            fire = s.scalar(select(Organisation.id).where(Organisation.kind == "fire_service")
                            .order_by(Organisation.id))
        args = ["users", "create", "--username", "dispatcher.night", "--full-name", "Νυχτερινή Βάρδια",
                "--role", "dispatcher", "--password-stdin"]
        made = runner.invoke(cli_app, [*args, "--organisation-id", str(fire)], input="a long enough password\n")
        assert made.exit_code == 0, made.output
        missing = runner.invoke(cli_app, [*args, "--organisation-id", "999999"], input="a long enough password\n")
        assert missing.exit_code == 2 and "not_found" in missing.output
    finally:
        get_settings.cache_clear()
    with session_scope(engine) as s:
        user = s.scalar(select(User).where(User.username == "dispatcher.night"))
        assert user.role == "dispatcher" and user.organisation_id == fire
        record = s.scalar(select(AuditRecord).where(AuditRecord.action == "user.create",
                                                    AuditRecord.subject_id == str(user.id)))
        assert record.actor_role == "system"
