"""Registry of subject types that have a responsible holder (incidents, patrols).

Each feature registers a loader that returns the subject's owning organisation, region and
topics after checking the caller may see it (404 otherwise), so responsibility rules stay here
and visibility rules stay with the subject's own feature.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from iolaos.auth.principal import Principal
from iolaos.errors import NotFound


@dataclass(frozen=True)
class SubjectRef:
    """What responsibility needs to know about a subject."""

    subject_type: str
    subject_id: int
    organisation_id: int
    topics: tuple[str, ...]


Loader = Callable[[Session, Principal, int], SubjectRef]
Receiver = Callable[[Session, int, int, str], dict]
"""(session, subject id, the new holder's user id, their role) → what it granted them (journalled), or raises
with the reason they could not act on the subject."""
_LOADERS: dict[str, Loader] = {}
_RECEIVERS: dict[str, Receiver] = {}
_HOLDER_ROLES: dict[str, Callable[[str], bool]] = {}


def register(subject_type: str, loader: Loader, receiver: Receiver | None = None,
             holder_role: Callable[[str], bool] | None = None) -> None:
    """Make ``subject_type`` a subject of responsibility; ``receiver`` makes a new holder able to act on it, and
    ``holder_role`` says which roles can act on it at all (the handover candidates list asks it too)."""
    _LOADERS[subject_type] = loader
    if receiver is not None:
        _RECEIVERS[subject_type] = receiver
    if holder_role is not None:
        _HOLDER_ROLES[subject_type] = holder_role


def roles_that_can_hold(subject_type: str, roles: tuple[str, ...]) -> tuple[str, ...]:
    """The roles of ``roles`` that can act on a subject of this type."""
    accepts = _HOLDER_ROLES.get(subject_type)
    return roles if accepts is None else tuple(r for r in roles if accepts(r))


def receive(session: Session, subject_type: str, subject_id: int, user_id: int, role: str) -> dict:
    """Let a new holder act on the subject, or refuse the handover up front with the reason."""
    receiver = _RECEIVERS.get(subject_type)
    return receiver(session, subject_id, user_id, role) if receiver is not None else {}


def load(session: Session, principal: Principal, subject_type: str, subject_id: int) -> SubjectRef:
    """The subject if the caller may see it; 404 for unknown types, ids or foreign subjects."""
    loader = _LOADERS.get(subject_type)
    if loader is None:
        raise NotFound(f"no subject type {subject_type!r}; known: {', '.join(sorted(_LOADERS)) or 'none'}")
    return loader(session, principal, subject_id)


def known_types() -> list[str]:
    """Registered subject types."""
    return sorted(_LOADERS)
