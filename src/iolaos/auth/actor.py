"""Who is acting: ``Actor`` and ``system_actor``, defined by the journal that records them (journal/actor.py).

Authentication builds actors from principals; the journal, which sits below every feature, must not import
auth to know what an actor is, so the type lives there and is re-exported here for the features.
"""

from __future__ import annotations

from iolaos.journal.actor import Actor, system_actor

__all__ = ["Actor", "system_actor"]
