"""Who may subscribe to which topic, and which events a subscriber may receive.

Topics name what an event is about; the journal writes them with each event (``topics=[…]``).

``authorise(session, principal, topics)`` is the one place that decides subscriptions. Each rule reuses the
owning feature's own visibility check, so a topic is open exactly when the matching REST object is:

=====================  =================================================================================
topic                  who may subscribe
=====================  =================================================================================
``org:<id>``           the organisation is in the caller's ``organisation.read`` scope
``volunteer:<id>``     the caller may read that volunteer (``volunteer.read`` scope over its organisation;
                       ``self`` scope: only their own volunteer record)
``user:<id>``          the caller themself, or the account is in their ``user.read`` scope
``incident:<id>``      the caller may see the incident (the incidents feature's own rule)
``patrol:<id>``        the caller may see the patrol (once the patrols feature registers its rule)
``region:<code>``      ``<code>`` is a region and it is the caller organisation's region, or the caller's
                       organisation is national (has no region)
``zone:<code>``        the zone lies in the caller organisation's region, or the caller is national
``zones``, ``risk``    every signed-in caller (zones and published risk levels are public reference data)
=====================  =================================================================================

Anything else is refused. A refused topic answers the same whether the object exists or not.

Events are checked too (``may_receive``): an event reaches a connection only when one of its topics is an
authorised subscription of that connection **and**, when the event names organisations (``org:<id>``
topics), at least one of them is in the subscriber's ``organisation.read`` scope (the *audience*). So a
geographic feed (``zone:``/``region:``) never carries another organisation's private events to someone who
could not read that organisation.

Events about a patrol (they name ``patrol:<id>`` and no incident) are decided by the patrols' own visibility
policy instead (``patrols/visibility.py``, the same functions REST uses): such an event reaches a subscriber
only when they may see that patrol, and its location-bearing part (a position: all of it; an alert's
coordinates) only when they may locate it; otherwise they receive the alert without coordinates, or nothing.
The patrol's facts are read with the event (``store.JournalReader.read_after``) and kept up to date by every
later event about it, so a live event, a resume and a replay from ``after: 0`` are judged alike, and as REST
judges the patrol now.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import Session

from iolaos.auth import users
from iolaos.auth.principal import Principal, organisation_ids
from iolaos.errors import IolaosError, NotFound
from iolaos.organisations import service as organisations
from iolaos.patrols import visibility
from iolaos.responsibility import subjects
from iolaos.risk.service import zone_tree
from iolaos.volunteers import service as volunteers

if TYPE_CHECKING:
    from iolaos.realtime.store import LiveEvent

TOPIC = re.compile(r"^(?:(zones|risk)|(org|volunteer|user|incident|patrol|region|zone):([A-Za-z0-9_.\-]{1,64}))$")
NUMERIC_KINDS = frozenset({"org", "volunteer", "user", "incident", "patrol"})
FORBIDDEN = "forbidden"
INVALID = "invalid_topic"



@dataclass(frozen=True, slots=True)
class Audience:
    """What a subscriber may receive: events of ``orgs`` (None: every organisation) and, through ``viewer``,
    events about the patrols it may see (and their locations where it may locate them)."""

    orgs: frozenset[int] | None
    viewer: visibility.Viewer | None = None  # None: no patrol event, no location


def parse(topic: str) -> tuple[str, str] | None:
    """``("org", "12")`` for ``org:12``, ``("zones", "")`` for ``zones``; None for a malformed topic."""
    if not isinstance(topic, str):
        return None
    match = TOPIC.match(topic)
    if match is None:
        return None
    if match.group(1) is not None:
        return (match.group(1), "")  # the public feeds: zones and the risk map
    kind, key = match.group(2), match.group(3)
    if kind in NUMERIC_KINDS and not (key.isdigit() and 0 < int(key) < 2**31):
        return None
    return (kind, key)


def authorise(session: Session, principal: Principal, topics: Iterable[str]) -> dict[str, str | None]:
    """Decide each topic for this caller: ``None`` when allowed, else the reason it is refused.

    The rules are in the module docstring; each delegates to the owning feature's visibility check.
    """
    decisions: dict[str, str | None] = {}
    for topic in topics:
        parsed = parse(topic)
        if parsed is None:
            decisions[topic] = INVALID
            continue
        try:
            allowed = _allowed(session, principal, *parsed)
        except IolaosError:  # NotFound / Forbidden from a feature's visibility check
            allowed = False
        decisions[topic] = None if allowed else FORBIDDEN
    return decisions


def _allowed(session: Session, principal: Principal, kind: str, key: str) -> bool:
    """One topic's rule (raises the feature's NotFound/Forbidden when the object is out of reach)."""
    if kind in ("zones", "risk"):
        return True
    if kind == "org":
        organisations.get_visible(session, principal, int(key))
        return True
    if kind == "volunteer":
        volunteers.get_visible(session, principal, int(key))
        return True
    if kind == "user":
        if int(key) == principal.user_id:
            return True
        users.get_visible(session, principal, int(key))
        return True
    if kind in ("incident", "patrol"):
        return _subject_visible(session, principal, kind, int(key))
    return _in_callers_region(session, principal, kind, key)


def _subject_visible(session: Session, principal: Principal, kind: str, subject_id: int) -> bool:
    """Incidents and patrols: the feature's loader (registered with responsibility) checks visibility."""
    subjects.load(session, principal, kind, subject_id)
    return True


def _in_callers_region(session: Session, principal: Principal, kind: str, code: str) -> bool:
    """``region:``/``zone:``: the zone exists and lies in the caller's region (national callers: anywhere).

    Walks the zone tree (ids, codes and parents, cached per session), never the zones' geometry: this runs for
    every subscription and every periodic re-authorisation.
    """
    tree = zone_tree(session)
    zone_id = tree.by_code().get(code)
    if zone_id is None:
        raise NotFound(f"no zone with code {code!r}")
    if kind == "region" and tree.by_id[zone_id].kind != "region":
        return False
    if principal.region_id is None:
        return True
    return zone_id == principal.region_id or principal.region_id in tree.ancestors(zone_id)

def audience(session: Session, principal: Principal) -> Audience:
    """What this caller may receive: their ``organisation.read`` scope and their reach over patrols."""
    try:
        found = organisation_ids(session, principal, "organisation.read")
        orgs = None if found is None else frozenset(found)
    except IolaosError:  # the role may not read organisations at all
        orgs = frozenset()
    return Audience(orgs, visibility.viewer(session, principal))


def patrol_subjects(topics: Iterable[str]) -> tuple[int, ...]:
    """The patrols an event is about: its ``patrol:<id>`` topics, unless it is about an incident.

    An incident's event may name a patrol it links (``incident.link_patrol``); it stays the incident's.
    """
    found, incident = [], False
    for topic in topics:
        if topic.startswith("patrol:") and topic[7:].isdigit():
            found.append(int(topic[7:]))
        elif topic.startswith("incident:"):
            incident = True
    return () if incident else tuple(sorted(set(found)))


def text_for(event: LiveEvent, allowed: Audience) -> str | None:
    """The text of ``event`` this subscriber may receive: all of it, without its location, or None.

    The one decision for live delivery and replay; the same functions decide REST (``patrols.visibility``).
    """
    if event.patrols:
        viewer, facts = allowed.viewer, [cell.facts for cell in event.patrols]
        if viewer is None or not all(f is not None and visibility.may_see(viewer, f) for f in facts):
            return None
        if event.location == "none" or all(visibility.may_locate(viewer, f) for f in facts):  # type: ignore[arg-type]
            return event.text
        return event.redacted  # an alert without coordinates; None for a position
    if event.location != "none":
        return None  # a location with no patrol to judge it by reaches nobody
    return event.text if may_receive(event.orgs, allowed) else None


def event_orgs(topics: Iterable[str]) -> frozenset[int]:
    """The organisation ids an event names in its ``org:<id>`` topics."""
    found = set()
    for topic in topics:
        if topic.startswith("org:") and topic[4:].isdigit():
            found.add(int(topic[4:]))
    return frozenset(found)


def may_receive(orgs: frozenset[int], allowed: Audience | frozenset[int] | None) -> bool:
    """True when an event naming ``orgs`` may reach a subscriber with audience ``allowed`` (the org rule only)."""
    reach = allowed.orgs if isinstance(allowed, Audience) else allowed
    return not orgs or reach is None or not orgs.isdisjoint(reach)
