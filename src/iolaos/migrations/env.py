"""Alembic environment: the URL comes from IOLAOS settings (or the caller's config)."""

from __future__ import annotations

from alembic import context

from iolaos.config import get_settings
from iolaos.db import make_engine, metadata
from iolaos.models import import_all_models

import_all_models()
config = context.config


def run_migrations() -> None:
    """Run migrations online against the configured database."""
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    settings = config.attributes.get("settings") or get_settings()
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=False,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
