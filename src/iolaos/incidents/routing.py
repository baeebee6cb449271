"""Which agency leads an incident, by its kind and where it is.

The rules map an incident kind to organisation kinds in priority order (the first found leads,
the rest are notified). They are a setting (``IOLAOS_INCIDENT_ROUTING``, JSON) with these defaults,
documented in docs/incidents.md. For each organisation kind the agency chosen is, in order: one
whose jurisdiction includes the incident's municipality; one of the incident's region; a national
one (no region); the national civil-protection organisation as the last resort.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from iolaos.errors import Conflict
from iolaos.organisations.models import Organisation, OrganisationZone

DEFAULT_ROUTING: dict[str, list[str]] = {
    "smoke": ["fire_service", "civil_protection", "volunteer_org"],
    "wildfire": ["fire_service", "civil_protection", "police", "volunteer_org"],
    "suspicious_activity": ["police", "fire_service"],
    "arson": ["police", "fire_service"],
    "road_blocked": ["municipality", "police"],
    "other": ["civil_protection"],
}


@dataclass(frozen=True)
class Route:
    """The lead organisation and the others to notify."""

    lead_id: int
    notified_ids: tuple[int, ...]


def route(session: Session, rules: dict[str, list[str]] | None, *, kind: str, zone_id: int | None,
          region_id: int | None) -> Route:
    """Pick the lead and notified organisations for an incident of ``kind`` at that place (``None``: the defaults)."""
    if rules is None:
        rules = DEFAULT_ROUTING
    agencies: list[int] = []
    local_teams: list[int] = []  # volunteer organisations are told, never made to lead
    for org_kind in rules.get(kind) or rules.get("other") or ["civil_protection"]:
        found = _agency(session, org_kind, zone_id, region_id)
        if found is not None and found not in agencies + local_teams:
            (local_teams if org_kind == "volunteer_org" else agencies).append(found)
    if not agencies:
        agencies.append(_national_root(session))
    ordered = agencies + [t for t in local_teams if t not in agencies]
    return Route(lead_id=ordered[0], notified_ids=tuple(ordered[1:]))


def _agency(session: Session, org_kind: str, zone_id: int | None, region_id: int | None) -> int | None:
    active = (col(Organisation.kind) == org_kind, col(Organisation.active).is_(True))
    if zone_id is not None:
        found = session.scalar(select(col(Organisation.id))
                               .join(OrganisationZone, col(OrganisationZone.organisation_id) == Organisation.id)
                               .where(*active, col(OrganisationZone.zone_id) == zone_id).order_by(col(Organisation.id)))
        if found is not None:
            return found
    if org_kind == "volunteer_org":
        return None  # local teams are told only when the place is in their own area
    if region_id is not None:
        found = session.scalar(select(col(Organisation.id)).where(*active, col(Organisation.region_id) == region_id)
                               .order_by(col(Organisation.id)))
        if found is not None:
            return found
    return session.scalar(select(col(Organisation.id)).where(*active, col(Organisation.region_id).is_(None))
                          .order_by(col(Organisation.id)))


def _national_root(session: Session) -> int:
    found = session.scalar(select(col(Organisation.id)).where(col(Organisation.parent_id).is_(None))
                           .order_by(col(Organisation.id)))
    if found is None:
        raise Conflict("no organisation exists to lead incidents", code="no_agency")
    return found
