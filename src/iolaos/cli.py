"""The ``iolaos`` command: serve, demo, database upgrades, imports and audit checks."""

from __future__ import annotations

import atexit
import json
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from sqlalchemy import func, select
from sqlmodel import col

from iolaos.app import create_app
from iolaos.auth import cli as users_cli
from iolaos.auth.actor import system_actor
from iolaos.auth.permissions import render_markdown
from iolaos.config import REPO_ROOT, Settings, get_settings
from iolaos.db import make_engine, session_scope
from iolaos.demo import season as demo_season
from iolaos.demo import seed
from iolaos.errors import IolaosError
from iolaos.field import cli as field_cli
from iolaos.hardening import server_options
from iolaos.journal import cli as audit_cli
from iolaos.journal.models import AuditRecord
from iolaos.kit.package_map import update
from iolaos.logging import configure_logging, uvicorn_log_config
from iolaos.migrate import upgrade
from iolaos.notifications import cli as notify_cli
from iolaos.patrols.machine import rewrite_doc
from iolaos.risk import cli as risk_cli
from iolaos.risk import demo as risk_demo
from iolaos.wiring import wire
from iolaos.worker import command as worker_command
from iolaos.zones import importer, loading

app = typer.Typer(help="IOLAOS: coordination service for volunteer civil protection.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
zones_app = typer.Typer(help="Zones (regions, municipalities, patrol sectors).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(zones_app, name="zones")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(users_cli.app, name="users")
app.add_typer(field_cli.field_app, name="field")
app.add_typer(field_cli.retention_app, name="retention")
app.add_typer(risk_cli.app, name="risk")
app.command("worker")(worker_command)  # periodic jobs of a deployment (deploy/)
app.add_typer(notify_cli.app, name="notify")


@app.callback()
def _install_hooks() -> None:
    """Commands run with the API's hooks: notifications are written with the records that cause them (e.g. a risk
    import), volatile events and wake-ups at commit, handovers know their subjects."""
    wire(get_settings())
docs_app = typer.Typer(help="Generated documentation.", no_args_is_help=True)
app.add_typer(docs_app, name="docs")


@docs_app.command("permissions")
def docs_permissions(out: Annotated[Path, typer.Option(help="where to write")] = Path("docs/permissions.md")) -> None:
    """Render the permissions table to Markdown."""
    out.write_text(render_markdown(), encoding="utf-8")
    typer.echo(f"wrote {out}")


@docs_app.command("patrols")
def docs_patrols(out: Annotated[Path, typer.Option(help="where to write")] = Path("docs/patrols.md")) -> None:
    """Render the patrol's state machine (transition table and diagrams) into its doc page."""
    out.write_text(rewrite_doc(out.read_text(encoding="utf-8"), Settings.model_construct()), encoding="utf-8")
@docs_app.command("architecture")
def docs_architecture(out: Annotated[Path, typer.Option(help="where to write")] = Path("docs/architecture.md")
                      ) -> None:
    """Regenerate the package map in docs/architecture.md from the package list."""
    out.write_text(update(out.read_text(encoding="utf-8")), encoding="utf-8")
    typer.echo(f"wrote {out}")


def _engine():
    return make_engine(get_settings())  # built per command, never at import


def _fail(exc: IolaosError) -> None:
    typer.secho(f"error ({exc.code}):", fg=typer.colors.RED, err=True)
    detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail, ensure_ascii=False, indent=2)
    typer.echo(detail, err=True)
    raise typer.Exit(code=2)


def _progress_factory(label: str, total: int):
    bar = typer.progressbar(length=total, label=f"checking {label:<13}", file=sys.stderr)
    bar.__enter__()
    done = {"n": 0}

    def step(n: int) -> None:
        bar.update(n)
        done["n"] += n
        if done["n"] >= total:
            bar.__exit__(None, None, None)

    return step


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    upgrade(get_settings(), revision)
    typer.echo(f"database at {revision}")


@zones_app.command("import")
def zones_import(
    file: Annotated[Path, typer.Argument(help="GeoJSON, Shapefile or GeoPackage")],
    kind: Annotated[str, typer.Option(help="region, municipality or sector")],
    code_field: Annotated[str | None, typer.Option(help="attribute holding the zone code")] = None,
    name_el_field: Annotated[str | None, typer.Option(help="attribute holding the Greek name")] = None,
    name_en_field: Annotated[str | None, typer.Option(help="attribute holding the English name")] = None,
    parent_field: Annotated[str | None, typer.Option(help="attribute holding the parent zone's code")] = None,
) -> None:
    """Import zones from FILE: all or nothing, idempotent by code."""
    fields = None
    if code_field or name_el_field or name_en_field or parent_field:
        base = importer.DEFAULT_FIELDS.get(kind, importer.DEFAULT_FIELDS["sector"])
        fields = importer.FieldMap(code=code_field or base.code, name_el=name_el_field or base.name_el,
                                   name_en=name_en_field or base.name_en, parent=parent_field or base.parent,
                                   area_km2=base.area_km2)
    try:
        frame = importer.read_frame(file)
        counts = loading.import_frame(_engine(), frame, kind=kind, actor=system_actor("cli"), source=file.name,
                                      fields=fields, progress=_progress_factory(kind, len(frame)))
    except IolaosError as exc:
        _fail(exc)
    typer.echo(f"imported {file.name}: {counts['created']} created, {counts['updated']} updated")


@zones_app.command("load-greece")
def zones_load_greece() -> None:
    """Import Greece's 13 regions and 326 municipalities from the shared data folder."""
    try:
        result = loading.load_greece(_engine(), get_settings(), actor=system_actor("cli"),
                                     progress_factory=_progress_factory)
    except IolaosError as exc:
        _fail(exc)
    for kind, counts in result.items():
        typer.echo(f"{kind}: {counts['created']} created, {counts['updated']} updated")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
) -> None:
    """Serve the API and web pages (migrate first with `iolaos db upgrade`)."""
    settings = get_settings()
    if settings.log_format == "json":
        configure_logging(settings)
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port,
                log_level=settings.log_level, log_config=uvicorn_log_config(settings), **server_options(settings))


CREDENTIALS_FILE = Path("demo-credentials.txt")


def _seed_demo_actors(engine) -> None:
    """Seed organisations, accounts and volunteers once; print the random passwords that one time."""
    with session_scope(engine) as session:
        if seed.seeded(session):
            if CREDENTIALS_FILE.exists():
                typer.echo(f"demo sign-ins: see {CREDENTIALS_FILE.resolve()}")
            return
        accounts = seed.seed(session)
        risk_demo.seed_tomorrow(session)  # tomorrow's fire-risk map for Attica and Evia
    lines = [f"{a.username:<22} {a.password:<18} {a.role:<11} {a.organisation}" for a in accounts]
    CREDENTIALS_FILE.write_text("\n".join(lines) + "\n", encoding="utf-8")
    CREDENTIALS_FILE.chmod(0o600)
    typer.secho("Demo sign-ins (random for this database; also saved to demo-credentials.txt):", bold=True)
    typer.echo("\n".join(lines))


@app.command()
def demo(
    reload_zones: Annotated[bool, typer.Option(help="re-import the boundaries even if present")] = False,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="prepare the database and exit")] = False,
    field_teams: Annotated[int, typer.Option(help="also plan today's patrols and move this many simulated "
                                                  "teams in the field (services/field_simulator.py)")] = 0,
    season: Annotated[int | None, typer.Option(help="also fill a synthetic fire season (1 May – 31 October of "
                                               "this year) in Attica and Central Greece, for the review page")] = None,
) -> None:
    """Create or update the local database with Greece's real boundaries, then serve it."""
    settings = get_settings()
    typer.echo(f"database: {settings.database_url}")
    upgrade(settings)
    engine = _engine()
    if reload_zones or not loading.greece_loaded(engine):
        try:
            loading.load_greece(engine, settings, actor=system_actor("demo"), progress_factory=_progress_factory)
        except IolaosError as exc:
            _fail(exc)
    _seed_demo_actors(engine)
    if season is not None:
        _fill_season(engine, settings, season)
    engine.dispose()
    if no_serve:
        return
    typer.secho(f"IOLAOS demo on http://{settings.host}:{settings.port}  (API docs: /docs)", fg=typer.colors.GREEN)
    if field_teams > 0:
        _start_field_simulator(f"http://{settings.host}:{settings.port}", field_teams)
    serve(None, None)


def _fill_season(engine, settings, year: int) -> None:
    """Fill a synthetic season once (a second run finds it and leaves it), with a progress bar."""

    days = demo_season.season_days(year)
    with session_scope(engine) as session:  # each filled day leaves one journal record
        done = session.scalar(select(func.count()).select_from(AuditRecord).where(
            col(AuditRecord.action) == "demo.season", col(AuditRecord.subject_id) == days[0].isoformat()))
    if done:
        typer.echo(f"season {year}: already filled")
        return
    with typer.progressbar(length=len(days), label=f"season {year}", file=sys.stderr) as bar:
        counts = demo_season.fill(engine, settings, days=days, regions=set(demo_season.DEMO_REGIONS),
                                  patrols_per_day=demo_season.DEMO_PATROLS_PER_DAY, progress=bar.update)
    typer.echo(f"season {year}: {counts.risk_levels} risk levels, {counts.patrols} patrols, "
               f"{counts.assignments} crew places, {counts.positions} positions")


def _start_field_simulator(base_url: str, teams: int) -> None:
    """Run the field simulator beside the server (it waits until the server answers); stopped with the demo."""

    if not (REPO_ROOT / "services" / "field_simulator.py").exists():
        typer.secho("--field-teams needs a checkout of the repository (services/field_simulator.py)", err=True,
                    fg=typer.colors.RED)
        raise typer.Exit(2)
    command = [sys.executable, "-m", "services.field_simulator", "--base", base_url, "--credentials",
               str(CREDENTIALS_FILE.resolve()), "--prepare", "--teams", str(teams), "--wait", "--duration", "86400"]
    proc = subprocess.Popen(command, cwd=REPO_ROOT)
    atexit.register(proc.terminate)


if __name__ == "__main__":
    app()
