"""``iolaos field …`` and ``iolaos retention …``: scheduled jobs run by hand or by cron."""

from __future__ import annotations

from typing import Annotated

import typer

from iolaos.config import get_settings
from iolaos.db import make_engine
from iolaos.field.jobs import purge, sweep

field_app = typer.Typer(help="Field operations.", no_args_is_help=True)
retention_app = typer.Typer(help="Data retention.", no_args_is_help=True)


@field_app.command("sweep")
def sweep_command() -> None:
    """Raise lost-contact alerts for silent active patrols."""
    settings = get_settings()
    typer.echo(f"lost-contact alerts raised: {sweep(make_engine(settings), settings)}")


@retention_app.command("purge")
def purge_command(days: Annotated[int | None, typer.Option(help="keep positions this many days")] = None) -> None:
    """Delete position reports older than the retention period (default IOLAOS_POSITION_RETENTION_DAYS=30)."""
    settings = get_settings()
    if days is not None:
        settings = settings.model_copy(update={"position_retention_days": days})
    counts = purge(make_engine(settings), settings)
    typer.echo(f"purged {counts['positions']} position reports and {counts['idempotency_keys']} idempotency keys")
