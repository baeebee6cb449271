"""Request-scoped dependencies shared by every router."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Hashable
from functools import partial
from typing import Annotated

from anyio import CancelScope
from fastapi import Depends, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

# Requests that change nothing (RFC 9110 safe methods) run on the read engine (db.make_read_engine): on SQLite a
# WAL snapshot that takes no write lock, so reads never queue behind writers; a write attempted in one fails at
# once on both backends. Every other method begins its transaction as a writer (BEGIN IMMEDIATE on SQLite), so a
# unit of work that writes holds the lock from before its first read: nothing it read can change under it, and the
# journal keeps a single head. The choice is made per request, before any query, never by upgrading later.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# Where a route says its answer may be kept whole (iolaos.answers): set on the ASGI scope, read by the middleware.
ANSWER_FOR = "iolaos.answer_for"


def answer_may_be_kept(request: Request, caller: Hashable, owner: object) -> None:
    """Declare that this GET's answer is a function of the journaled state, ``caller``, the URL and the language
    only: no clock, no live positions, nothing written without a journal record. The answer cache
    (``iolaos.answers``) may then serve it again, to the same caller, until the journal head moves, as long as
    the caller is still known by ``owner`` (compared by identity: the principal cache's entry)."""
    request.scope[ANSWER_FOR] = (caller, owner)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's unit of work: committed once after the route returns, rolled back on error.

    An async generator, so opening the session costs no trip to a worker thread (a Session connects on its first
    query, which runs in the route's thread); committing, rolling back and closing a session that has connected
    do I/O, so they take one trip, shielded from cancellation so a connection always goes back to its pool.
    """
    state = request.app.state
    if request.method in READ_METHODS:
        session = Session(getattr(state, "read_engine", state.engine), expire_on_commit=False)
        try:
            yield session
        finally:
            await _finish(session, None)  # ends the read transaction; there is nothing to commit
        return
    session = Session(state.engine, expire_on_commit=False)
    try:
        yield session
    except BaseException:
        await _finish(session, _rollback)
        raise
    # Set by a middleware whose bookkeeping must commit with the change (idempotency: the key's row).
    await _finish(session, partial(_commit, getattr(request.state, "before_commit", None)))


async def _finish(session: Session, step: Callable[[Session], None] | None) -> None:
    """``step`` (commit or rollback) then close, in a worker thread when the session holds a connection."""
    if step is None and not session.in_transaction():
        session.close()  # never connected (a cached principal, a route that did not query): no I/O
        return
    with CancelScope(shield=True):
        await run_in_threadpool(_step_and_close, session, step)


def _step_and_close(session: Session, step: Callable[[Session], None] | None) -> None:
    try:
        if step is not None:
            step(session)
    finally:
        session.close()


def _commit(before_commit: Callable[[Session], None] | None, session: Session) -> None:
    try:
        if before_commit is not None:
            before_commit(session)
        session.commit()
    except BaseException:
        session.rollback()
        raise


def _rollback(session: Session) -> None:
    session.rollback()


# scope="function": the session commits when the route returns, before the response is sent, so a
# client never sees success for a change that then fails to commit (or a token not yet visible).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
