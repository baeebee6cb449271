"""Sign-in, bearer tokens and rate limiting of failed attempts."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlmodel import Session, col

from iolaos.auth import throttle
from iolaos.auth.actor import Actor
from iolaos.auth.models import AuthToken, LoginFailure, User
from iolaos.auth.passwords import verify_password
from iolaos.auth.principal import Principal
from iolaos.config import Settings
from iolaos.errors import Unauthenticated
from iolaos.journal import service as journal
from iolaos.kit.ids import saved_id
from iolaos.kit.time import utcnow
from iolaos.organisations.models import Organisation

BEARER = {"WWW-Authenticate": "Bearer"}


def digest(value: str) -> str:
    """SHA-256 in hex: how tokens and account keys are stored (never the value itself)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def normalise_username(username: str) -> str:
    """Usernames compare case-insensitively and without surrounding spaces."""
    return username.strip().lower()


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued token; the plain value exists only in this response."""

    access_token: str
    expires_at: datetime
    user: User


def sign_in(session: Session, settings: Settings, *, username: str, password: str, client_address: str,
            now: datetime | None = None) -> IssuedToken:
    """Check credentials and issue a token; unknown user and wrong password answer identically."""
    account_key = digest(normalise_username(username))
    client_address = client_address[:64]
    throttle.check(session, settings, account_key=account_key, address=client_address, now=now or utcnow())
    user = session.scalar(select(User).where(col(User.username) == normalise_username(username)))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active or not _organisation_active(session, user):
        _remember_failure(session, account_key, client_address)
        raise Unauthenticated("wrong username or password", code="invalid_credentials", headers=BEARER)
    return _issue(session, settings, user)


def _organisation_active(session: Session, user: User) -> bool:
    """Members of a deactivated organisation cannot sign in (their tokens stop working too)."""
    return bool(session.scalar(select(col(Organisation.active)).where(col(Organisation.id) == user.organisation_id)))


def _issue(session: Session, settings: Settings, user: User) -> IssuedToken:
    plain = secrets.token_urlsafe(32)
    now = utcnow()
    token = AuthToken(token_hash=digest(plain), user_id=saved_id(user), created_at=now,
                      expires_at=now + timedelta(hours=settings.token_ttl_hours))
    session.add(token)
    session.flush()
    journal.record(session, actor=_actor_of(session, user), action="auth.sign_in", subject_type="user",
                   subject_id=saved_id(user), data={"token_id": token.id, "expires_at": token.expires_at.isoformat()})
    return IssuedToken(plain, token.expires_at, user)


def _actor_of(session: Session, user: User):
    return Actor(user_id=user.id, organisation_id=user.organisation_id, role=user.role, name=user.full_name)


def _remember_failure(session: Session, account_key: str, address: str) -> None:
    """Store the failure durably although the request fails.

    The one place a service commits: the request's transaction holds no other change (sign-in
    failed before writing anything), and a separate connection would wait on SQLite's write lock.
    """
    session.rollback()
    session.add(LoginFailure(account_key=account_key, client_address=address[:64]))
    session.execute(delete(LoginFailure).where(col(LoginFailure.at) < utcnow() - timedelta(days=1)))
    session.commit()


_TOKEN_ROWS = (select(col(AuthToken.token_hash), col(AuthToken.id), col(AuthToken.expires_at),
                      col(AuthToken.revoked_at), User,
                      col(Organisation.kind), col(Organisation.region_id), col(Organisation.active))
               .join(User, col(User.id) == col(AuthToken.user_id))
               .join(Organisation, col(Organisation.id) == col(User.organisation_id)))


def resolve_token(session: Session, token: str) -> Principal:
    """The principal behind a bearer token; 401 when unknown, expired, revoked or disabled."""
    return resolve_token_until(session, token)[0]


def resolve_token_until(session: Session, token: str) -> tuple[Principal, datetime]:
    """``resolve_token``, with the token's expiry (how long a cache may keep the answer at most)."""
    row = session.execute(_TOKEN_ROWS.where(col(AuthToken.token_hash) == digest(token))).one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        raise Unauthenticated("invalid or expired token", code="invalid_token", headers=BEARER)
    if not row.User.is_active or not row.active:
        raise Unauthenticated("account disabled", code="invalid_token", headers=BEARER)
    return _principal(row), row.expires_at


def resolve_tokens(session: Session, tokens: set[str]) -> dict[str, Principal | None]:
    """``resolve_token`` for many tokens in a few queries (None where a token is no longer valid)."""
    digests = {digest(t): t for t in tokens}
    found: dict[str, Principal | None] = dict.fromkeys(tokens)
    now, pending = utcnow(), list(digests)
    for start in range(0, len(pending), 500):
        batch = pending[start:start + 500]
        for row in session.execute(_TOKEN_ROWS.where(col(AuthToken.token_hash).in_(batch))):
            if row.revoked_at is None and row.expires_at > now and row.User.is_active and row.active:
                found[digests[row.token_hash]] = _principal(row)
    return found


def _principal(row: Any) -> Principal:
    user: User = row.User
    return Principal(user_id=saved_id(user), username=user.username, full_name=user.full_name, role=user.role,
                     organisation_id=user.organisation_id, organisation_kind=row.kind, region_id=row.region_id,
                     token_id=row.id)


def sign_out(session: Session, principal: Principal) -> None:
    """Revoke the token this request was made with."""
    session.execute(update(AuthToken).where(col(AuthToken.id) == principal.token_id).values(revoked_at=utcnow()))
    journal.record(session, actor=principal.actor, action="auth.sign_out", subject_type="user",
                   subject_id=principal.user_id, data={"token_id": principal.token_id})


def revoke_organisation_tokens(session: Session, organisation_id: int) -> int:
    """Revoke every live token of an organisation's members (the caller journals it); returns how many."""
    members = select(col(User.id)).where(col(User.organisation_id) == organisation_id)
    result = session.exec(update(AuthToken)
                          .where(col(AuthToken.user_id).in_(members), col(AuthToken.revoked_at).is_(None))
                          .values(revoked_at=utcnow()))
    return result.rowcount or 0


def revoke_tokens(session: Session, user_id: int) -> int:
    """Revoke every live token of a user (the caller journals the reason); returns how many."""
    result = session.exec(
        update(AuthToken)
        .where(col(AuthToken.user_id) == user_id, col(AuthToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    return result.rowcount or 0
