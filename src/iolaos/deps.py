"""Request-scoped dependencies shared by every router."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

# Requests that change nothing (RFC 9110 safe methods) run on the read engine (db.make_read_engine): on SQLite a
# WAL snapshot that takes no write lock, so reads never queue behind writers; a write attempted in one fails at
# once on both backends. Every other method begins its transaction as a writer (BEGIN IMMEDIATE on SQLite), so a
# unit of work that writes holds the lock from before its first read: nothing it read can change under it, and the
# journal keeps a single head. The choice is made per request, before any query, never by upgrading later.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: committed once after the route returns, rolled back on error."""
    state = request.app.state
    if request.method in READ_METHODS:
        with Session(getattr(state, "read_engine", state.engine), expire_on_commit=False) as session:
            yield session  # closing it ends the read transaction; there is nothing to commit
        return
    with Session(state.engine, expire_on_commit=False) as session:
        try:
            yield session
            # Set by a middleware whose bookkeeping must commit with the change (idempotency: the key's row).
            before_commit = getattr(request.state, "before_commit", None)
            if before_commit is not None:
                before_commit(session)
            session.commit()
        except BaseException:
            session.rollback()
            raise


# scope="function": the session commits when the route returns, before the response is sent, so a
# client never sees success for a change that then fails to commit (or a token not yet visible).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
