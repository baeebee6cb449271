"""Request-scoped dependencies shared by every router."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from iolaos.idempotency.store import mark_committed


def get_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: committed once after the route returns, rolled back on error."""
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        try:
            yield session
            record_id = getattr(request.state, "idempotency_record_id", None)
            if record_id is not None:
                mark_committed(session, record_id)
            session.commit()
        except BaseException:
            session.rollback()
            raise


# scope="function": the session commits when the route returns, before the response is sent, so a
# client never sees success for a change that then fails to commit (or a token not yet visible).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
