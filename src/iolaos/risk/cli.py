"""``iolaos risk import FILE``: load a day's fire-risk map from CSV or JSON, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from iolaos.auth.actor import system_actor
from iolaos.config import get_settings
from iolaos.db import make_engine, session_scope
from iolaos.errors import IolaosError
from iolaos.risk import importer, service

app = typer.Typer(help="The daily fire-risk map.", no_args_is_help=True)


@app.command("import")
def import_file(file: Annotated[Path, typer.Argument(help="CSV (zone_code,date,category) or JSON")]) -> None:
    """Import risk levels from FILE: every bad line is listed and nothing is stored when any is bad."""
    engine = make_engine(get_settings())
    try:
        with session_scope(engine) as session:
            result = service.import_lines(session, actor=system_actor("cli"), lines=importer.read_file(file),
                                          source=f"import:{file.name}")
    except IolaosError as exc:
        typer.secho(f"error ({exc.code}): nothing imported", fg=typer.colors.RED, err=True)
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail, ensure_ascii=False, indent=2)
        typer.echo(detail, err=True)
        raise typer.Exit(code=2) from None
    finally:
        engine.dispose()
    typer.echo(f"imported {file.name}: {result.created} changed, {result.unchanged} unchanged")
