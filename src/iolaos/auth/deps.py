"""The dependency that turns a bearer token into a ``Principal``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from starlette.concurrency import run_in_threadpool

from iolaos.auth import cache as principal_cache
from iolaos.auth import service
from iolaos.auth.principal import Principal
from iolaos.deps import READ_METHODS, SessionDep, answer_may_be_kept
from iolaos.errors import Unauthenticated
from iolaos.kit.time import utcnow

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def current_principal(
    request: Request,
    session: SessionDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal:
    """The signed-in caller; 401 without a valid token. Account, role, organisation and token are read from the
    database; reads may take them from the principal cache, within its bound (``auth_cache_seconds``,
    iolaos.auth.cache), writes never do."""
    if not token:
        raise Unauthenticated("sign in first: send Authorization: Bearer <token>", code="unauthenticated",
                              headers=service.BEARER)
    if request.method not in READ_METHODS:  # a change is always made by who the database says is calling
        return await run_in_threadpool(service.resolve_token, session, token)
    cache = principal_cache.of(request.app)
    found = cache.get(token, utcnow())
    if found is not None:
        return found
    generation = principal_cache.generation()
    principal, expires_at = await run_in_threadpool(service.resolve_token_until, session, token)
    cache.put(token, principal, expires_at, generation)
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


async def journaled_reader(request: Request, principal: PrincipalDep) -> Principal:
    """The caller of a read whose answer depends only on journaled state, the caller, the URL and the language:
    such an answer may be served again from the answer cache until the journal head moves (iolaos.answers)."""
    answer_may_be_kept(request, principal_cache.caller_key(principal), principal)
    return principal


JournaledReaderDep = Annotated[Principal, Depends(journaled_reader)]
