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
_LOADERS: dict[str, Loader] = {}


def register(subject_type: str, loader: Loader) -> None:
    """Make ``subject_type`` a subject of responsibility."""
    _LOADERS[subject_type] = loader


def load(session: Session, principal: Principal, subject_type: str, subject_id: int) -> SubjectRef:
    """The subject if the caller may see it; 404 for unknown types, ids or foreign subjects."""
    loader = _LOADERS.get(subject_type)
    if loader is None:
        raise NotFound(f"no subject type {subject_type!r}; known: {', '.join(sorted(_LOADERS)) or 'none'}")
    return loader(session, principal, subject_id)


def known_types() -> list[str]:
    """Registered subject types."""
    return sorted(_LOADERS)
