"""The dependency that turns a bearer token into a ``Principal``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from iolaos.auth import service
from iolaos.auth.principal import Principal
from iolaos.deps import get_session
from iolaos.errors import Unauthenticated

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def current_principal(
    session: Annotated[Session, Depends(get_session)],
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal:
    """The signed-in caller; 401 without a valid token. Role and status are read fresh every request."""
    if not token:
        raise Unauthenticated("sign in first: send Authorization: Bearer <token>", code="unauthenticated",
                              headers=service.BEARER)
    return service.resolve_token(session, token)


SessionDep = Annotated[Session, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
