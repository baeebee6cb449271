"""The Core table behind a SQLModel table class, typed."""

from __future__ import annotations

from sqlalchemy import Table, inspect
from sqlmodel import SQLModel


def table_of(model: type[SQLModel]) -> Table:
    """``model.__table__``, which SQLModel sets on table classes but does not declare.

    Statements on the table rather than the class leave the ORM objects already in the session as they are.
    """
    table = inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table
