"""Primary keys of stored rows, typed as present."""

from __future__ import annotations

from typing import Protocol, cast

from sqlalchemy.orm import Mapped
from sqlmodel import col


class _Row(Protocol):
    @property
    def id(self) -> int | None: ...


def saved_id(row: _Row) -> int:
    """The id of a row that was loaded or flushed.

    SQLModel types ``id`` as optional because a new row has none until it is flushed; asking for it earlier is a
    programming error, so it raises instead of passing ``None`` on into a query or a journal record.
    """
    if row.id is None:
        raise RuntimeError(f"{type(row).__name__} has no id yet: flush it first")
    return row.id


def id_column(attribute: int | None) -> Mapped[int]:
    """``col()`` for a primary key in a query: the ids it selects are never NULL, although SQLModel types the
    attribute as optional (for a new row before its flush)."""
    return cast("Mapped[int]", col(attribute))
