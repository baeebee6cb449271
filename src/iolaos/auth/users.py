"""Rules for accounts: who may create, change, disable and sign out whom."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from iolaos.auth import grants
from iolaos.auth import service as auth_service
from iolaos.auth.actor import system_actor
from iolaos.auth.models import User
from iolaos.auth.passwords import hash_password, verify_password
from iolaos.auth.permissions import LEADER_GRANTABLE, PERMISSIONS, ROLES_BY_ORG_KIND
from iolaos.auth.principal import Principal, ensure_in_scope, organisation_ids
from iolaos.auth.schemas import PasswordChange, UserCreate, UserOut, UserUpdate
from iolaos.errors import Conflict, Forbidden, InvalidInput, NotFound
from iolaos.journal import service as journal
from iolaos.kit.ids import saved_id
from iolaos.kit.time import utcnow
from iolaos.organisations.models import Organisation


def _check_role(principal: Principal | None, org: Organisation, role: str) -> None:
    """The role must fit the organisation's kind, and a leader may only hand out field roles."""
    if role not in ROLES_BY_ORG_KIND.get(org.kind, ()):
        raise InvalidInput(f"an organisation of kind {org.kind} cannot hold role {role!r}; "
                           f"allowed: {', '.join(ROLES_BY_ORG_KIND.get(org.kind, ()))}", code="invalid_role")
    if principal is not None and principal.role == "leader" and role not in LEADER_GRANTABLE:
        raise Forbidden(f"a leader may only grant {', '.join(LEADER_GRANTABLE)}", code="forbidden")


def create(session: Session, *, principal: Principal, org_id: int, data: UserCreate) -> User:
    """Create an account in an organisation within the caller's ``user.write`` scope."""
    principal.scope("user.write")
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound("no such organisation")
    ensure_in_scope(session, principal, "user.write", saved_id(org), what="organisation")
    _check_role(principal, org, data.role)
    grants.check_grant(session, principal, org, data.role)
    if session.scalar(select(col(User.id)).where(col(User.username) == data.username)) is not None:
        raise Conflict("this username is taken", code="duplicate_username")
    user = User(username=data.username, full_name=data.full_name, email=data.email, phone=data.phone,
                password_hash=hash_password(data.password), organisation_id=saved_id(org), role=data.role)
    session.add(user)
    session.flush()
    journal.record(session, actor=principal.actor, action="user.create", subject_type="user",
                   subject_id=saved_id(user),
                   data=data.model_dump(mode="json", exclude={"password"}) | {"organisation_id": org.id},
                   topics=[f"org:{org.id}"])
    return user


def create_first_admin(session: Session, *, username: str, full_name: str, password: str,
                       org: Organisation) -> User:
    """The bootstrap account made from the command line (no caller to check)."""
    return create_by_superuser(session, username=username, full_name=full_name, password=password, org=org,
                               role="admin")


def create_by_superuser(session: Session, *, username: str, full_name: str, password: str, org: Organisation,
                        role: str) -> User:
    """An account made from the command line (``iolaos users create``): the superuser may grant any role that
    fits the organisation, e.g. the first dispatchers an admin (who does not hold their rights) cannot make."""
    _check_role(None, org, role)
    if session.scalar(select(col(User.id)).where(col(User.username) == username)) is not None:
        raise Conflict("this username is taken", code="duplicate_username")
    user = User(username=username, full_name=full_name, password_hash=hash_password(password),
                organisation_id=saved_id(org), role=role)
    session.add(user)
    session.flush()
    journal.record(session, actor=system_actor("cli"), action="user.create", subject_type="user",
                   subject_id=saved_id(user), data={"username": username, "role": role, "organisation_id": org.id})
    return user


def get_visible(session: Session, principal: Principal, user_id: int, *, action: str = "user.read") -> User:
    """One account in the caller's scope for ``action``; 404 otherwise."""
    principal.scope(action)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    ensure_in_scope(session, principal, action, user.organisation_id, is_self=user.id == principal.user_id,
                    what="user")
    if action == "user.write" and principal.role == "leader" and user.role not in LEADER_GRANTABLE:
        raise NotFound("no such user")
    return user


def list_visible(session: Session, principal: Principal, *, organisation_id: int | None, limit: int,
                 offset: int) -> list[User]:
    """Accounts in the caller's read scope."""
    scope = principal.scope("user.read")
    query = select(User).order_by(col(User.id))
    if scope == "self":
        query = query.where(col(User.id) == principal.user_id)
    else:
        allowed = organisation_ids(session, principal, "user.read")
        if allowed is not None:
            query = query.where(col(User.organisation_id).in_(allowed))
    if organisation_id is not None:
        query = query.where(col(User.organisation_id) == organisation_id)
    return list(session.scalars(query.limit(limit).offset(offset)))


def update(session: Session, *, principal: Principal, user_id: int, data: UserUpdate) -> User:
    """Change an account; a role change or disabling takes effect on that user's next request."""
    user = get_visible(session, principal, user_id, action="user.write")
    changes = data.model_dump(exclude_unset=True)
    if user.id == principal.user_id and ({"role", "is_active"} & set(changes)):
        raise Conflict("you cannot change your own role or disable yourself", code="self_lockout")
    if "role" in changes:
        org = session.get_one(Organisation, user.organisation_id)
        _check_role(principal, org, changes["role"])
        grants.check_grant(session, principal, org, changes["role"], current_role=user.role)
    if changes.get("is_active") is True and not user.is_active:
        grants.check_reenable(session, principal, saved_id(user))
    before = {k: getattr(user, k) for k in changes}
    for key, value in changes.items():
        setattr(user, key, value)
    user.updated_at = utcnow()
    revoked = auth_service.revoke_tokens(session, saved_id(user)) if changes.get("is_active") is False else 0
    session.flush()
    journal.record(session, actor=principal.actor, action="user.update", subject_type="user",
                   subject_id=saved_id(user),
                   data={"before": before, "after": changes, "tokens_revoked": revoked},
                   topics=[f"user:{user.id}", f"org:{user.organisation_id}"])
    return user


def revoke_sessions(session: Session, *, principal: Principal, user_id: int) -> int:
    """Sign a user out everywhere."""
    user = get_visible(session, principal, user_id, action="user.write")
    count = auth_service.revoke_tokens(session, saved_id(user))
    journal.record(session, actor=principal.actor, action="user.revoke_tokens", subject_type="user",
                   subject_id=saved_id(user), data={"tokens_revoked": count}, topics=[f"user:{user.id}"])
    return count


def change_password(session: Session, *, principal: Principal, data: PasswordChange) -> None:
    """Change the caller's password and sign out their other sessions."""
    user = session.get_one(User, principal.user_id)
    if not verify_password(user.password_hash, data.current_password):
        raise InvalidInput("the current password is wrong", code="invalid_credentials")
    user.password_hash = hash_password(data.new_password)
    user.updated_at = utcnow()
    count = auth_service.revoke_tokens(session, saved_id(user))
    journal.record(session, actor=principal.actor, action="user.change_password", subject_type="user",
                   subject_id=saved_id(user), data={"tokens_revoked": count}, topics=[f"user:{user.id}"])


def to_out(session: Session, principal: Principal, user: User) -> UserOut:
    """An account as the caller may see it: contact details only within their user.write scope or self."""
    show_contact = user.id == principal.user_id or principal.can("user.write")
    if show_contact and user.id != principal.user_id:
        allowed = organisation_ids(session, principal, "user.write")
        show_contact = allowed is None or user.organisation_id in allowed
    return UserOut(id=saved_id(user), username=user.username, full_name=user.full_name, role=user.role,
                   organisation_id=user.organisation_id, is_active=user.is_active,
                   email=user.email if show_contact else None, phone=user.phone if show_contact else None)


def permissions_of(role: str) -> dict[str, str]:
    """The caller's permissions, for the UI to show only what they may do."""
    return {action: str(scope) for action, scope in PERMISSIONS.get(role, {}).items()}
