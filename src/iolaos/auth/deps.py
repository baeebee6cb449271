"""The dependency that turns a bearer token into a ``Principal``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from iolaos.auth import service
from iolaos.auth.principal import Principal
from iolaos.deps import SessionDep
from iolaos.errors import Unauthenticated

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def current_principal(
    session: SessionDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal:
    """The signed-in caller; 401 without a valid token. Role and status are read fresh every request."""
    if not token:
        raise Unauthenticated("sign in first: send Authorization: Bearer <token>", code="unauthenticated",
                              headers=service.BEARER)
    return service.resolve_token(session, token)


PrincipalDep = Annotated[Principal, Depends(current_principal)]
