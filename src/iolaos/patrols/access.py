"""Who may see a patrol, and who may operate it: decided by the crew as it is now."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from iolaos.auth.permissions import Scope
from iolaos.auth.principal import Principal, organisation_ids
from iolaos.errors import NotFound
from iolaos.kit.ids import saved_id
from iolaos.patrols import visibility
from iolaos.patrols.machine import CREW_NOW
from iolaos.patrols.models import Assignment, Patrol
from iolaos.risk import service as risk
from iolaos.volunteers.models import Volunteer


def visible_clause(session: Session, principal: Principal) -> Any:
    """SQL condition for the patrols the caller may see; None: all of them (403 without patrol.read).

    The rule itself is ``patrols.visibility``'s, so lists, lookups, live delivery and replay decide alike.
    """
    principal.scope("patrol.read")
    return visibility.patrol_clause(visibility.Viewer(read=visibility.reach(session, principal, "patrol.read"),
                                                      locate=visibility.NOWHERE))


def get_visible(session: Session, principal: Principal, patrol_id: int) -> Patrol:
    """One patrol the caller may see; 404 otherwise."""
    query = select(Patrol).where(col(Patrol.id) == patrol_id)
    clause = visible_clause(session, principal)
    patrol = session.scalars(query.where(clause) if clause is not None else query).first()
    if patrol is None:
        raise NotFound("no such patrol")
    return patrol


def crew_now(session: Session, patrol_id: int) -> list[tuple[Assignment, Volunteer]]:
    """Accepted and checked-in crew (a proposal or a declined volunteer is not the crew)."""
    return list(session.execute(select(Assignment, Volunteer)
                                .join(Volunteer, col(Volunteer.id) == Assignment.volunteer_id)
                                .where(col(Assignment.patrol_id) == patrol_id, col(Assignment.status).in_(CREW_NOW))
                                .order_by(col(Assignment.id))).all())


def executing_organisation(session: Session, patrol: Patrol) -> int | None:
    """Whose patrol it is now: the main organisation of the crew as it is now (accepted or checked in); before
    anyone accepted, the organisation the planner chose (None for a patrol committed empty)."""
    counts: dict[int, int] = {}
    for _, volunteer in crew_now(session, saved_id(patrol)):
        counts[volunteer.organisation_id] = counts.get(volunteer.organisation_id, 0) + 1
    if counts:
        return min(counts, key=lambda o: (-counts[o], o))
    return patrol.organisation_id


def in_zone_scope(session: Session, principal: Principal, action: str, patrol: Patrol) -> None:
    """404 when the patrol's zone is outside the caller's ``action`` scope."""
    zones = risk.zones_in_scope(session, principal, action)
    if zones is not None and patrol.zone_id not in zones:
        raise NotFound("no such patrol")


def operable(session: Session, principal: Principal, patrol_id: int, *, crew_member_orgs: set[int] | None = None
             ) -> Patrol:
    """A patrol the caller may operate (403 without patrol.operate, 404 outside its scope).

    A leader operates a patrol of their own organisation (the executing one, decided by the crew as it is now);
    for check-in and check-out (``crew_member_orgs`` given) also their own volunteers on another's patrol. A
    dispatcher operates patrols in zones their scope covers.
    """
    principal.scope("patrol.operate")  # a role without the permission gets 403 before any lookup (no 404 oracle)
    patrol = get_visible(session, principal, patrol_id)
    require_operable(session, principal, patrol, crew_member_orgs=crew_member_orgs)
    return patrol


def require_operable(session: Session, principal: Principal, patrol: Patrol, *,
                     crew_member_orgs: set[int] | None = None, executing: int | None = None) -> None:
    """``operable``'s check on a patrol already read; a caller that worked out the executing organisation passes
    it as ``executing`` so the crew is not read again (None: work it out here)."""
    scope = principal.scope("patrol.operate")
    if scope is Scope.OWN:
        mine = organisation_ids(session, principal, "patrol.operate") or set()
        if executing is None:
            executing = executing_organisation(session, patrol)
        allowed = {executing} | (crew_member_orgs or set())
        if not mine & {o for o in allowed if o is not None}:
            raise NotFound("no such patrol")
    elif scope is not Scope.ALL:
        in_zone_scope(session, principal, "patrol.operate", patrol)


def patrol_topics(session: Session, patrol: Patrol, orgs: AbstractSet[int] = frozenset(),
                  volunteers: AbstractSet[int] = frozenset()) -> list[str]:
    """Live topics of a patrol: itself, its zone and region, organisations and volunteers involved."""
    tree = risk.zone_tree(session)
    topics = {f"patrol:{patrol.id}", f"zone:{tree.by_id[patrol.zone_id].code}"}
    region = tree.region_of(patrol.zone_id)
    if region is not None:
        topics.add(f"region:{region.code}")
    org_ids = set(orgs) | ({patrol.organisation_id} if patrol.organisation_id else set())
    topics |= {f"org:{o}" for o in org_ids} | {f"volunteer:{v}" for v in volunteers}
    return sorted(topics)
