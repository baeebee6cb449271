"""HTTP routes for sign-in and accounts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from iolaos.auth import service, users
from iolaos.auth.deps import PrincipalDep, SessionDep
from iolaos.auth.schemas import MeOut, PasswordChange, RevokedOut, TokenOut, UserCreate, UserOut, UserUpdate
from iolaos.errors import InvalidInput, error_responses

router = APIRouter(prefix="/api/v1", tags=["auth"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
SIGNED_IN = error_responses(401)
READ = error_responses(401, 403, 404, 422)
WRITE = error_responses(401, 403, 404, 409, 422)


@router.post("/auth/token", response_model=TokenOut, summary="Sign in (OAuth2 password flow)",
             responses=error_responses(401, 422, 429))
def sign_in(request: Request, session: SessionDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
    """Exchange username and password for a bearer token."""
    if len(form.username) > 64 or len(form.password) > 256:
        raise InvalidInput("username or password too long", code="invalid_input")
    if not form.username.isprintable():
        raise InvalidInput("a username has no control characters", code="invalid_input")
    address = request.client.host if request.client else "unknown"
    issued = service.sign_in(session, request.app.state.settings, username=form.username, password=form.password,
                             client_address=address)
    return TokenOut(access_token=issued.access_token, expires_at=issued.expires_at)


@router.post("/auth/logout", status_code=204, summary="Sign out (revoke this token)", responses=SIGNED_IN)
def sign_out(session: SessionDep, principal: PrincipalDep) -> Response:
    """Revoke the token used for this request."""
    service.sign_out(session, principal)
    return Response(status_code=204)


@router.get("/auth/me", response_model=MeOut, summary="Who am I", responses=SIGNED_IN)
def me(session: SessionDep, principal: PrincipalDep) -> MeOut:
    """Your account, organisation and permissions."""
    user = users.get_visible(session, principal, principal.user_id)
    out = users.to_out(session, principal, user)
    return MeOut(**out.model_dump(), organisation_kind=principal.organisation_kind,
                 permissions=users.permissions_of(principal.role))


@router.post("/auth/password", status_code=204, summary="Change your password",
             responses=error_responses(401, 422))
def change_password(session: SessionDep, principal: PrincipalDep, body: PasswordChange) -> Response:
    """Change your password; your other sessions are signed out."""
    users.change_password(session, principal=principal, data=body)
    return Response(status_code=204)


@router.get("/users", response_model=list[UserOut], tags=["users"], summary="Accounts you may see",
            responses=READ)
def list_users(
    session: SessionDep, principal: PrincipalDep,
    organisation_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[UserOut]:
    """Accounts in your read scope."""
    found = users.list_visible(session, principal, organisation_id=organisation_id, limit=limit, offset=offset)
    return [users.to_out(session, principal, u) for u in found]


@router.post("/organisations/{org_id}/users", response_model=UserOut, status_code=201, tags=["users"],
             summary="Create an account in an organisation", responses=WRITE)
def create_user(session: SessionDep, principal: PrincipalDep, org_id: Id, body: UserCreate) -> UserOut:
    """Create an account (admins in their tree; leaders for their own organisation's field roles)."""
    return users.to_out(session, principal, users.create(session, principal=principal, org_id=org_id, data=body))


@router.get("/users/{user_id}", response_model=UserOut, tags=["users"], summary="One account", responses=READ)
def get_user(session: SessionDep, principal: PrincipalDep, user_id: Id) -> UserOut:
    """One account in your read scope; 404 otherwise."""
    return users.to_out(session, principal, users.get_visible(session, principal, user_id))


@router.patch("/users/{user_id}", response_model=UserOut, tags=["users"], summary="Change an account",
              responses=WRITE)
def update_user(session: SessionDep, principal: PrincipalDep, user_id: Id, body: UserUpdate) -> UserOut:
    """Change role, status or contact details; takes effect on the user's next request."""
    return users.to_out(session, principal, users.update(session, principal=principal, user_id=user_id, data=body))


@router.post("/users/{user_id}/revoke-tokens", response_model=RevokedOut, tags=["users"],
             summary="Sign a user out everywhere", responses=READ)
def revoke_tokens(session: SessionDep, principal: PrincipalDep, user_id: Id) -> RevokedOut:
    """Revoke every token of the user."""
    return RevokedOut(revoked=users.revoke_sessions(session, principal=principal, user_id=user_id))
