"""One visibility policy for patrols: who may see a patrol (or an event about it), and who may see where it is.

REST (positions, tracks, alert coordinates, near-patrol distances), the live audience of ``/ws`` and the replay
of a resume all decide with the two pure functions here, ``may_see`` and ``may_locate``. Their inputs are
small values: a ``Viewer`` (how far the caller's ``patrol.read`` and ``volunteer.location`` reach, from the
permission table) and the ``PatrolFacts`` of one patrol (zone, executing organisation, crew, holder, whether
it has ended). Being pure, they run per event on the hub's event loop without touching the database.

The location rules are ``LOCATION_RULES`` below; docs/permissions.md ("Location") is rendered from them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import or_, select
from sqlmodel import Session, col

from iolaos.auth.permissions import Scope, scope_for
from iolaos.auth.principal import Principal, organisation_ids
from iolaos.journal.audit import canonical_json
from iolaos.patrols.models import Assignment, Patrol
from iolaos.responsibility import service as responsibility
from iolaos.risk import service as risk
from iolaos.volunteers.models import Volunteer

ENDED = ("completed", "cancelled")
LOCATION_KEYS = ("lon", "lat")  # what an alert's details hold of a position
# Near-patrol distance bands for callers who may not locate the patrol: (upper bound in km, label).
BANDS: tuple[tuple[float, str], ...] = ((1.0, "<1 km"), (5.0, "1–5 km"), (10.0, "5–10 km"),
                                        (float("inf"), ">10 km"))
Location = Literal["none", "part", "whole"]

LOCATION_RULES: tuple[str, ...] = (
    "A location (live positions, tracks, an alert's coordinates, exact distances to patrols near an incident) is "
    "part of a patrol the caller may see, and needs `volunteer.location` *for that patrol*.",
    "`volunteer.location` covers a patrol when its scope reaches the patrol's **responsible agency**: the "
    "organisation holding the patrol (see `responsibility`), or, for a region-wide scope, the patrol's zone "
    "(the region's dispatch). While the patrol is live it also covers it when the scope reaches the patrol's "
    "**executing organisation**.",
    "A patrol with no executing organisation (committed empty and staffed later, possibly from several "
    "organisations) is located only by its responsible agency: a crew moves together, so one member's position "
    "locates colleagues of other organisations too.",
    "Once a patrol has ended (completed or cancelled) its track is served only to its responsible agency, until "
    "the retention purge (`IOLAOS_POSITION_RETENTION_DAYS`); its executing organisation no longer locates it.",
    "Whoever may see a patrol but not locate it gets its alerts without coordinates and its distance to an "
    "incident only as a band (<1 km, 1–5 km, 5–10 km, >10 km; the radius is compared with the band's start), "
    "and no positions or tracks (403 `location_not_visible`).",
    "Live updates (`/ws`) and the replay of a resume (also from `after: 0`) decide with the same functions: an "
    "event about a patrol reaches only subscribers who may see that patrol, whatever topic carried it; a position "
    "only those who may locate it; an alert's coordinates likewise (others receive the alert without them).",
    "A position is stored only from a volunteer checked in on an active patrol, stamped no earlier than the "
    "latest of the patrol's creation, its start and the reporter's check-in, and no later than now, each "
    "widened by `IOLAOS_POSITION_SKEW_SECONDS` (default 120 s). A batch of which nothing can be stored because of "
    "its times answers 422 `outside_active_window`; otherwise the refused reports are listed with their reasons.",
)


@dataclass(frozen=True, slots=True)
class Reach:
    """How far one permission of a caller reaches. ``None`` means everything; an empty set means nothing."""

    orgs: frozenset[int] | None = frozenset()
    zones: frozenset[int] | None = frozenset()
    user_id: int | None = None  # ``self`` scope: only patrols the caller is on the crew of

    def org(self, organisation_id: int | None) -> bool:
        """True when the reach covers this organisation."""
        return organisation_id is not None and (self.orgs is None or organisation_id in self.orgs)

    def zone(self, zone_id: int) -> bool:
        """True when the reach covers this zone."""
        return self.zones is None or zone_id in self.zones


NOWHERE = Reach()


@dataclass(frozen=True, slots=True)
class Viewer:
    """What one principal may see of patrols: ``read`` (patrol.read) and ``locate`` (volunteer.location)."""

    read: Reach
    locate: Reach


@dataclass(frozen=True, slots=True)
class PatrolFacts:
    """What the policy needs to know about one patrol."""

    patrol_id: int
    zone_id: int
    executing: int | None          # the executing organisation; None for a patrol committed empty
    holder: int | None             # the organisation holding it (responsibility)
    ended: bool
    crew_orgs: frozenset[int]      # organisations of everyone ever on its crew (proposed, declined…)
    crew_users: frozenset[int]     # accounts of those volunteers


def reach(session: Session, principal: Principal, action: str) -> Reach:
    """The reach of ``action`` for this caller (NOWHERE when the role lacks it)."""
    scope = scope_for(principal.role, action)
    if scope is None:
        return NOWHERE
    if scope is Scope.SELF:
        return Reach(frozenset(), frozenset(), principal.user_id)
    orgs = organisation_ids(session, principal, action)
    frozen = None if orgs is None else frozenset(orgs)
    if scope is Scope.OWN:
        return Reach(frozen, frozenset())  # an organisation's own scope never reaches by zone
    return Reach(frozen, _zones(session, principal, action))


def _zones(session: Session, principal: Principal, action: str) -> frozenset[int] | None:
    """Zones of a region-wide (or wider) scope, shared by every caller of the same region in this session."""
    cache = session.info.setdefault("iolaos_visibility_zones", {})
    key = (principal.scope(action), principal.region_id)
    if key not in cache:
        found = risk.zones_in_scope(session, principal, action)
        cache[key] = None if found is None else frozenset(found)
    return cache[key]


def viewer(session: Session, principal: Principal) -> Viewer:
    """The caller's reach over patrols and their locations, from the permission table."""
    return Viewer(read=reach(session, principal, "patrol.read"),
                  locate=reach(session, principal, "volunteer.location"))


def may_see(who: Viewer, patrol: PatrolFacts) -> bool:
    """May this viewer see the patrol (and events about it)? ``patrol_clause`` is the same rule in SQL."""
    read = who.read
    if read.user_id is not None:
        return read.user_id in patrol.crew_users
    if read.orgs is None:
        return True
    return read.zone(patrol.zone_id) or read.org(patrol.executing) or not read.orgs.isdisjoint(patrol.crew_orgs)


def patrol_clause(who: Viewer) -> Any:
    """``may_see`` as an SQL condition on ``Patrol`` (None: every patrol), for lists and lookups."""
    read = who.read
    crew_of = select(col(Assignment.patrol_id)).join(Volunteer, col(Volunteer.id) == Assignment.volunteer_id)
    if read.user_id is not None:
        return col(Patrol.id).in_(crew_of.where(col(Volunteer.user_id) == read.user_id))
    if read.orgs is None or read.zones is None:
        return None
    orgs = read.orgs or {-1}
    return or_(col(Patrol.zone_id).in_(read.zones or {-1}), col(Patrol.organisation_id).in_(orgs),
               col(Patrol.id).in_(crew_of.where(col(Volunteer.organisation_id).in_(orgs))))


def may_locate(who: Viewer, patrol: PatrolFacts) -> bool:
    """May this viewer see where the patrol (its crew) is? The location rules of the module docstring."""
    locate = who.locate
    if locate == NOWHERE or locate.user_id is not None or not may_see(who, patrol):
        return False
    if locate.org(patrol.holder) or locate.zone(patrol.zone_id):
        return True  # the responsible agency
    return not patrol.ended and locate.org(patrol.executing)


def facts(session: Session, patrol_ids: Iterable[int]) -> dict[int, PatrolFacts]:
    """The facts of these patrols as they are now (three queries, whatever their number)."""
    ids = sorted(set(patrol_ids))
    if not ids:
        return {}
    rows = session.execute(select(col(Patrol.id), col(Patrol.zone_id), col(Patrol.organisation_id), col(Patrol.status))
                           .where(col(Patrol.id).in_(ids))).all()
    crew: dict[int, tuple[set[int], set[int]]] = {}
    for patrol_id, org_id, user_id in session.execute(
            select(col(Assignment.patrol_id), col(Volunteer.organisation_id), col(Volunteer.user_id))
            .join(Volunteer, col(Volunteer.id) == Assignment.volunteer_id).where(col(Assignment.patrol_id).in_(ids))):
        orgs, users = crew.setdefault(patrol_id, (set(), set()))
        orgs.add(org_id)
        if user_id is not None:
            users.add(user_id)
    holders = responsibility.current_rows(session, "patrol", {r[0] for r in rows})
    out = {}
    for patrol_id, zone_id, executing, status in rows:
        orgs, users = crew.get(patrol_id, (set(), set()))
        holder = holders.get(patrol_id)
        out[patrol_id] = PatrolFacts(patrol_id, zone_id, executing, holder.holder_organisation_id if holder else None,
                                     status in ENDED, frozenset(orgs), frozenset(users))
    return out


def locatable(session: Session, principal: Principal, patrol_ids: Iterable[int]) -> set[int]:
    """Which of these patrols the caller may locate (REST lists filter with it)."""
    who = viewer(session, principal)
    if who.locate == NOWHERE:
        return set()
    return {pid for pid, found in facts(session, patrol_ids).items() if may_locate(who, found)}


# --- the location-bearing part of payloads ---------------------------------------------------------------------

def location_part(kind: str, payload: dict[str, Any] | None) -> Location:
    """How much of an event is a location: all of it (a position), a part (an alert's coordinates), or none."""
    if kind == "position":
        return "whole"
    if kind.startswith("alert.") and isinstance(payload, dict):
        details = payload.get("details")
        if isinstance(details, dict) and any(k in details for k in LOCATION_KEYS):
            return "part"
    return "none"


def redact_alert(alert: dict[str, Any]) -> dict[str, Any]:
    """An alert as shown to those who may see the patrol but not locate it: no coordinates in its details."""
    details = alert.get("details")
    if not isinstance(details, dict) or not any(k in details for k in LOCATION_KEYS):
        return alert
    return {**alert, "details": {k: v for k, v in details.items() if k not in LOCATION_KEYS}}


def redacted_text(payload_text: str) -> str:
    """``redact_alert`` for a payload stored as JSON text (the event table's form)."""
    return canonical_json(redact_alert(json.loads(payload_text)))


def distance_band(metres: float) -> str:
    """The band a near-patrol distance falls in, for callers who may not locate the patrol."""
    km = metres / 1000
    return next(label for upper, label in BANDS if km < upper)


def band_floor_km(label: str) -> float:
    """Where a band starts: a patrol is listed within a radius when its band starts inside it."""
    floors = [0.0] + [upper for upper, _ in BANDS[:-1]]
    return floors[[lbl for _, lbl in BANDS].index(label)]
