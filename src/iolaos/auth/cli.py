"""``iolaos users …``: bootstrap accounts from the command line."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from sqlalchemy import select
from sqlmodel import Session, col

from iolaos.auth import users
from iolaos.auth.actor import system_actor
from iolaos.auth.service import normalise_username
from iolaos.config import get_settings
from iolaos.db import make_engine, session_scope
from iolaos.errors import IolaosError, NotFound
from iolaos.journal import service as journal
from iolaos.kit.ids import saved_id
from iolaos.organisations.models import Organisation

app = typer.Typer(help="Accounts.", no_args_is_help=True)

ROOT_NAME_EL = "Γενική Γραμματεία Πολιτικής Προστασίας"
ROOT_NAME_EN = "General Secretariat for Civil Protection"


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("password (12+ characters)", hide_input=True, confirmation_prompt=True)


def _account(work: Callable[[Session], Any]) -> Any:
    """Run ``work`` in one unit of work on the configured database; a domain error ends the command (exit 2)."""
    engine = make_engine(get_settings())
    try:
        with session_scope(engine) as session:
            return work(session)
    except IolaosError as exc:
        typer.secho(f"error ({exc.code}): {exc.detail}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from exc
    finally:
        engine.dispose()


@app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Option(help="sign-in name")],
    full_name: Annotated[str, typer.Option(help="the person's name")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
) -> None:
    """Create an administrator of the national civil-protection organisation (created if missing)."""

    password = _read_password(password_stdin)

    def work(session: Session) -> Any:
        root = session.scalar(select(Organisation).where(col(Organisation.parent_id).is_(None),
                                                         col(Organisation.kind) == "civil_protection"))
        if root is None:
            root = Organisation(kind="civil_protection", name_el=ROOT_NAME_EL, name_en=ROOT_NAME_EN)
            session.add(root)
            session.flush()
            journal.record(session, actor=system_actor("cli"), action="organisation.create",
                           subject_type="organisation", subject_id=saved_id(root), data={"name_en": ROOT_NAME_EN})
        return users.create_first_admin(session, username=normalise_username(username), full_name=full_name,
                                        password=password, org=root)

    user = _account(work)
    typer.echo(f"created admin {user.username!r} in {ROOT_NAME_EN}")


@app.command("create")
def create(
    username: Annotated[str, typer.Option(help="sign-in name")],
    full_name: Annotated[str, typer.Option(help="the person's name")],
    organisation_id: Annotated[int, typer.Option(help="the organisation's id")],
    role: Annotated[str, typer.Option(help="dispatcher, officer, coordinator, reviewer, leader, volunteer, admin")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
) -> None:
    """Create an account with any role that fits the organisation (the superuser's path; see docs/security.md)."""
    password = _read_password(password_stdin)

    def work(session: Session) -> Any:
        org = session.get(Organisation, organisation_id)
        if org is None:
            raise NotFound(f"no organisation {organisation_id}")
        return users.create_by_superuser(session, username=normalise_username(username), full_name=full_name,
                                         password=password, org=org, role=role)

    user = _account(work)
    typer.echo(f"created {role} {user.username!r} in organisation {organisation_id}")
