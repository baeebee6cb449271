"""Rules for incidents: report, route to the lead agency, lifecycle, and who holds each one."""

from __future__ import annotations

from typing import Any

import numpy as np
from shapely.geometry import Point as ShapelyPoint
from sqlalchemy import insert, or_, select
from sqlmodel import Session, col

from iolaos.auth.models import User
from iolaos.auth.permissions import scope_for
from iolaos.auth.principal import Principal, organisation_ids
from iolaos.config import Settings
from iolaos.errors import Conflict, Forbidden, InvalidInput, NotFound
from iolaos.i18n import coded
from iolaos.incidents import routing
from iolaos.incidents.models import TRANSITIONS, Incident, IncidentNotified
from iolaos.incidents.schemas import IncidentCreate, IncidentOut
from iolaos.journal import service as journal
from iolaos.kit.ids import saved_id
from iolaos.kit.time import utcnow
from iolaos.organisations import names as organisation_names
from iolaos.responsibility import service as responsibility
from iolaos.responsibility import subjects
from iolaos.volunteers.schemas import Point
from iolaos.zones import service as zones
from iolaos.zones.models import Zone


def notified_ids(session: Session, incident_ids: set[int]) -> dict[int, list[int]]:
    """The organisations notified of each incident besides its lead (one query; ascending ids)."""
    if not incident_ids:
        return {}
    found: dict[int, list[int]] = {i: [] for i in incident_ids}
    for incident_id, org_id in session.execute(
            select(col(IncidentNotified.incident_id), col(IncidentNotified.organisation_id))
            .where(col(IncidentNotified.incident_id).in_(incident_ids))
            .order_by(col(IncidentNotified.incident_id), col(IncidentNotified.organisation_id))):
        found[incident_id].append(org_id)
    return found


def topics(session: Session, incident: Incident) -> tuple[str, ...]:
    """The live topics of an incident's events: itself, the organisations involved and its zones."""
    notified = notified_ids(session, {saved_id(incident)}).get(saved_id(incident), [])
    found = {f"incident:{incident.id}", f"org:{incident.lead_organisation_id}",
             f"org:{incident.reporter_organisation_id}", *(f"org:{i}" for i in notified)}
    codes = dict(session.execute(select(col(Zone.id), col(Zone.code)).where(col(Zone.id).in_(
        [z for z in (incident.zone_id, incident.region_id) if z]))).all())
    found |= {f"zone:{codes[incident.zone_id]}"} if incident.zone_id in codes else set()
    found |= {f"region:{codes[incident.region_id]}"} if incident.region_id in codes else set()
    return tuple(sorted(found))


def _ref(session: Session, incident: Incident) -> subjects.SubjectRef:
    return subjects.SubjectRef(
        "incident", saved_id(incident), incident.lead_organisation_id, topics(session, incident)
    )


def report(session: Session, settings: Settings, *, principal: Principal, data: IncidentCreate) -> Incident:
    """Record a report, locate it, route it to its lead agency and give it a holder from the start."""
    principal.scope("incident.report")
    lon, lat = data.point.coordinates
    municipality = int(zones.locate_many(session, np.array([lon]), np.array([lat]), kind="municipality")[0])
    zone = session.get(Zone, municipality) if municipality >= 0 else None
    region_id = zone.parent_id if zone is not None else None
    chosen = routing.route(session, settings.incident_routing, kind=data.kind,
                           zone_id=zone.id if zone else None, region_id=region_id)
    incident = Incident(kind=data.kind, severity=data.severity, description=data.description,
                        point=ShapelyPoint(lon, lat), zone_id=zone.id if zone else None, region_id=region_id,
                        lead_organisation_id=chosen.lead_id,
                        reported_by_user_id=principal.user_id, reporter_organisation_id=principal.organisation_id)
    session.add(incident)
    session.flush()
    if chosen.notified_ids:
        session.execute(insert(IncidentNotified), [{"incident_id": incident.id, "organisation_id": org_id}
                                                   for org_id in sorted(set(chosen.notified_ids))])
    ref = _ref(session, incident)
    journal.record(session, actor=principal.actor, action="incident.report", subject_type="incident",
                   subject_id=saved_id(incident), topics=ref.topics, event_kind="incident.reported",
                   data={"kind": data.kind, "severity": data.severity, "lon": lon, "lat": lat,
                         "zone_id": incident.zone_id, "lead_organisation_id": chosen.lead_id,
                         "notified": list(chosen.notified_ids)},
                   payload=_payload(session, incident))
    reporter_leads = principal.organisation_id == chosen.lead_id
    responsibility.assign_initial(
        session, actor=principal.actor, ref=ref,
        holder_user_id=principal.user_id if reporter_leads else None, holder_organisation_id=chosen.lead_id,
        reason=coded.encode("reason.resp.reported_by_lead" if reporter_leads else "reason.resp.routed"))
    return incident


def _visible_clause(session: Session, principal: Principal) -> Any:
    """Led, reported or notified by an organisation in the caller's incident.read scope."""
    allowed = organisation_ids(session, principal, "incident.read")
    if allowed is None:
        return None
    notified = select(col(IncidentNotified.incident_id)).where(col(IncidentNotified.organisation_id).in_(allowed))
    return or_(col(Incident.lead_organisation_id).in_(allowed), col(Incident.reporter_organisation_id).in_(allowed),
               col(Incident.id).in_(notified))


def get_visible(session: Session, principal: Principal, incident_id: int) -> Incident:
    """One incident the caller may see; 404 otherwise."""
    principal.scope("incident.read")
    query = select(Incident).where(col(Incident.id) == incident_id)
    clause = _visible_clause(session, principal)
    incident = session.scalar(query if clause is None else query.where(clause))
    if incident is None:
        raise NotFound("no such incident")
    return incident


def list_visible(session: Session, principal: Principal, *, status: str | None, open_only: bool, limit: int,
                 offset: int) -> list[Incident]:
    """Incidents the caller may see, newest first."""
    principal.scope("incident.read")
    query = select(Incident).order_by(col(Incident.created_at).desc(), col(Incident.id).desc())
    clause = _visible_clause(session, principal)
    if clause is not None:
        query = query.where(clause)
    if status:
        query = query.where(col(Incident.status) == status)
    if open_only:
        query = query.where(col(Incident.status) != "closed")
    return list(session.scalars(query.limit(limit).offset(offset)))


def ensure_may_manage(session: Session, principal: Principal, incident: Incident) -> None:
    """403 ``not_lead_agency`` unless the caller manages incidents of the lead agency, or holds this one (a
    handover gives its receiver the right to act: lifecycle moves and linking patrols alike)."""
    principal.scope("incident.manage")
    allowed_orgs = organisation_ids(session, principal, "incident.manage")
    if allowed_orgs is None or incident.lead_organisation_id in allowed_orgs:
        return
    holder = responsibility.current_row(session, "incident", saved_id(incident))
    if holder is not None and holder.holder_user_id == principal.user_id:
        return

    raise Forbidden("only the lead agency, or the person it was handed to, manages this incident",
                    code="not_lead_agency")


def transition(session: Session, *, principal: Principal, incident_id: int, status: str, note: str) -> Incident:
    """Move along the lifecycle; only the lead agency's managers, only allowed moves (409 lists them)."""
    incident = get_visible(session, principal, incident_id)
    ensure_may_manage(session, principal, incident)
    allowed = TRANSITIONS[incident.status]
    if status not in allowed:
        raise Conflict({"message": f"cannot go from {incident.status} to {status}", "status": incident.status,
                        "allowed": list(allowed)}, code="illegal_transition")
    before, incident.status, incident.updated_at = incident.status, status, utcnow()
    session.flush()
    ref = _ref(session, incident)
    journal.record(session, actor=principal.actor, action="incident.transition", subject_type="incident",
                   subject_id=saved_id(incident), data={"from": before, "to": status, "note": note}, topics=ref.topics,
                   event_kind="incident.updated", payload=_payload(session, incident))
    if status == "acknowledged":
        responsibility.take(session, principal=principal, ref=ref, reason=coded.encode("reason.resp.acknowledged"))
    return incident


def _payload(session: Session, incident: Incident) -> dict[str, Any]:
    out = to_out(session, [incident])[0]
    return out.model_dump(mode="json")


def to_out(session: Session, incidents: list[Incident]) -> list[IncidentOut]:
    """Incidents with their zone names and current holders."""
    zone_ids = {i for inc in incidents for i in (inc.zone_id, inc.region_id) if i}
    # not the geometry: lists are hot
    names = select(col(Zone.id), col(Zone.code), col(Zone.name_el)).where(col(Zone.id).in_(zone_ids))
    zone_rows = {z.id: z for z in session.execute(names)} if zone_ids else {}
    holders = responsibility.current_rows(session, "incident", {saved_id(inc) for inc in incidents})
    notified = notified_ids(session, {saved_id(inc) for inc in incidents})
    org_names = organisation_names.names(session, {o for inc in incidents for o in (
        inc.lead_organisation_id, inc.reporter_organisation_id, *notified[saved_id(inc)])} | {
        h.holder_organisation_id for h in holders.values()})
    out = []
    for inc in incidents:
        holder = holders.get(saved_id(inc))
        zone, region = zone_rows.get(inc.zone_id), zone_rows.get(inc.region_id)
        out.append(IncidentOut(
            id=saved_id(inc), kind=inc.kind, severity=inc.severity, status=inc.status, description=inc.description,
            point=Point(coordinates=(inc.point.x, inc.point.y)), zone_code=zone.code if zone else None,
            zone_name_el=zone.name_el if zone else None, region_code=region.code if region else None,
            lead_organisation_id=inc.lead_organisation_id, notified_organisation_ids=notified[saved_id(inc)],
            lead_organisation_name=org_names.get(inc.lead_organisation_id),
            notified_organisation_names=[org_names.get(i, "") for i in notified[saved_id(inc)]],
            reporter_organisation_name=org_names.get(inc.reporter_organisation_id),
            reported_by_user_id=inc.reported_by_user_id, reporter_organisation_id=inc.reporter_organisation_id,
            allowed_transitions=list(TRANSITIONS[inc.status]),
            holder_user_id=holder.holder_user_id if holder else None,
            holder_organisation_id=holder.holder_organisation_id if holder else None,
            holder_organisation_name=org_names.get(holder.holder_organisation_id) if holder else None,
            created_at=inc.created_at, updated_at=inc.updated_at))
    return out


def _load_subject(session: Session, principal: Principal, incident_id: int) -> subjects.SubjectRef:
    return _ref(session, get_visible(session, principal, incident_id))


def _receive(session: Session, incident_id: int, user_id: int, role: str) -> dict:
    """A handover makes its receiver able to act: they need a role that manages incidents, and their
    organisation is notified (so they see it) when it was not involved yet."""
    if scope_for(role, "incident.manage") is None:
        raise InvalidInput(f"a {role} cannot manage incidents, so cannot take one over; hand it to a dispatcher "
                           "or officer", code="holder_cannot_act")
    user = session.get_one(User, user_id)  # both loaded by the handover that calls this
    incident = session.get_one(Incident, incident_id)
    involved = {incident.lead_organisation_id, incident.reporter_organisation_id} | set(session.scalars(
        select(col(IncidentNotified.organisation_id)).where(col(IncidentNotified.incident_id) == incident_id)))
    if user.organisation_id in involved:
        return {}
    session.add(IncidentNotified(incident_id=incident_id, organisation_id=user.organisation_id))
    session.flush()
    return {"notified_organisation_id": user.organisation_id}


def register_subject() -> None:
    """Make incidents a subject of responsibility (called by ``iolaos.wiring.wire``, never at import)."""
    subjects.register("incident", _load_subject, _receive,
                      holder_role=lambda role: scope_for(role, "incident.manage") is not None)


__all__ = ["get_visible", "list_visible", "register_subject", "report", "to_out", "topics", "transition"]
