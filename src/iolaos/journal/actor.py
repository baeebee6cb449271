"""Who is acting: the identity every service call and every audit record carries (re-exported by auth.actor)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    """A person acting in one role for one organisation, or the system itself."""

    user_id: int | None
    organisation_id: int | None
    role: str
    name: str

    @property
    def is_system(self) -> bool:
        """True for work the service does on its own (imports from the CLI, scheduled jobs)."""
        return self.user_id is None


def system_actor(name: str = "system") -> Actor:
    """The actor for work started by an operator's command line or a scheduled job."""
    return Actor(user_id=None, organisation_id=None, role="system", name=name)
