"""The authenticated caller and the organisations each of their permissions reaches."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import Session, col

from iolaos.auth.actor import Actor
from iolaos.auth.permissions import Scope, scope_for
from iolaos.errors import Forbidden, NotFound
from iolaos.kit.ids import id_column
from iolaos.organisations.models import Organisation


@dataclass(frozen=True)
class Principal:
    """Who is calling: account, role, organisation and where that organisation sits."""

    user_id: int
    username: str
    full_name: str
    role: str
    organisation_id: int
    organisation_kind: str
    region_id: int | None
    token_id: int | None = None
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def actor(self) -> Actor:
        """The identity written into audit records."""
        return Actor(user_id=self.user_id, organisation_id=self.organisation_id, role=self.role,
                     name=self.full_name)

    def scope(self, action: str) -> Scope:
        """The scope of ``action`` for this caller, or 403 when their role may not do it."""
        found = scope_for(self.role, action)
        if found is None:
            raise Forbidden(f"role {self.role!r} may not {action}", code="forbidden")
        return found

    def can(self, action: str) -> bool:
        """True when the role has ``action`` at any scope."""
        return scope_for(self.role, action) is not None


def _descendants(session: Session, root: int) -> set[int]:
    """``root`` and every organisation below it."""
    children: dict[int, list[int]] = {}
    for oid, parent in session.execute(select(col(Organisation.id), col(Organisation.parent_id))).all():
        if parent is not None:
            children.setdefault(parent, []).append(oid)
    found, stack = {root}, [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def organisation_ids(session: Session, principal: Principal, action: str) -> set[int] | None:
    """Ids of the organisations ``action`` reaches for this caller; None means every organisation."""
    scope = principal.scope(action)
    key = ("orgs", scope)
    if key in principal._cache:
        return principal._cache[key]
    result: set[int] | None
    if scope is Scope.ALL:
        result = None
    elif scope in (Scope.OWN, Scope.SELF):
        result = {principal.organisation_id}
    elif scope is Scope.TREE:
        result = _descendants(session, principal.organisation_id)
    elif principal.region_id is None:
        result = None  # a national organisation's regional scope is the whole country
    else:
        result = set(session.scalars(select(id_column(Organisation.id))
                                     .where(col(Organisation.region_id) == principal.region_id)))
        result.add(principal.organisation_id)
    principal._cache[key] = result
    return result


def ensure_in_scope(session: Session, principal: Principal, action: str, organisation_id: int,
                    *, is_self: bool = False, what: str = "object") -> None:
    """404 when an object of ``organisation_id`` is outside the caller's scope for ``action``."""
    scope = principal.scope(action)
    if scope is Scope.SELF:
        if not is_self:
            raise NotFound(f"no such {what}")
        return
    allowed = organisation_ids(session, principal, action)
    if allowed is not None and organisation_id not in allowed:
        raise NotFound(f"no such {what}")
