"""``iolaos audit …``: checks of the tamper-evident journal."""

from __future__ import annotations

import typer

from iolaos.config import get_settings

app = typer.Typer(help="The tamper-evident audit journal.", no_args_is_help=True)


@app.command("verify")
def audit_verify() -> None:
    """Walk the audit chain; exit 1 naming the first broken record."""
    from iolaos.db import make_engine, session_scope
    from iolaos.journal.service import verify_chain

    with session_scope(make_engine(get_settings())) as session:
        result = verify_chain(session)
    if result.ok:
        typer.echo(f"ok: {result.checked} records, head {result.head_seq} {result.head_hash}")
        return
    typer.secho(f"BROKEN at record {result.broken_seq}: {result.reason}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)
