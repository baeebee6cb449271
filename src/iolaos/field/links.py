"""Patrols and incidents: link a patrol to an incident, and find the patrols near one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from iolaos.auth.principal import Principal
from iolaos.errors import Conflict
from iolaos.field.alerts import distance_m
from iolaos.field.models import IncidentPatrol, PositionReport
from iolaos.incidents import service as incidents
from iolaos.journal import service as journal
from iolaos.kit.ids import saved_id
from iolaos.patrols import access, visibility
from iolaos.patrols.models import Patrol
from iolaos.planning import workflow
from iolaos.zones.models import Zone


def link(session: Session, *, principal: Principal, incident_id: int, patrol_id: int) -> dict[str, Any]:
    """Attach a patrol to an incident (the lead agency's managers)."""
    principal.scope("incident.manage")  # 403 for roles without it, before the incident is looked up
    incident = incidents.get_visible(session, principal, incident_id)
    incidents.ensure_may_manage(session, principal, incident)
    workflow.get_visible(session, principal, patrol_id)  # 404 for a patrol the caller may not see
    if session.scalar(select(col(IncidentPatrol.id)).where(col(IncidentPatrol.incident_id) == incident_id,
                                                      col(IncidentPatrol.patrol_id) == patrol_id)):
        raise Conflict("already linked", code="already_linked")
    session.add(IncidentPatrol(incident_id=incident_id, patrol_id=patrol_id, linked_by_user_id=principal.user_id))
    session.flush()
    topics = {*incidents.topics(session, incident), f"patrol:{patrol_id}"}
    journal.record(session, actor=principal.actor, action="incident.link_patrol", subject_type="incident",
                   subject_id=incident_id, data={"patrol_id": patrol_id}, topics=topics)
    return {"incident_id": incident_id, "patrol_ids": linked(session, incident_id)}


def linked(session: Session, incident_id: int) -> list[int]:
    """Patrols linked to an incident."""
    return list(session.scalars(select(col(IncidentPatrol.patrol_id))
                                .where(col(IncidentPatrol.incident_id) == incident_id)
                                .order_by(col(IncidentPatrol.patrol_id))))


def near(session: Session, *, principal: Principal, incident_id: int, radius_km: float) -> list[dict[str, Any]]:
    """Active patrols within ``radius_km`` of the incident: by last known position, else by their zone."""
    incident = incidents.get_visible(session, principal, incident_id)
    lon, lat = incident.point.x, incident.point.y
    query = select(Patrol).where(col(Patrol.status) == "active")
    clause = access.visible_clause(session, principal)
    if clause is not None:
        query = query.where(clause)
    patrols = list(session.scalars(query))
    last = _last_positions(session, [saved_id(p) for p in patrols])
    zones = {z.id: z for z in session.scalars(select(Zone).where(col(Zone.id).in_({p.zone_id for p in patrols})))} \
        if patrols else {}
    exact = visibility.locatable(session, principal, [saved_id(p) for p in patrols])
    found = []
    for patrol in patrols:
        point = last.get(saved_id(patrol))
        metres = distance_m(point, lon, lat) if point is not None else distance_m(zones[patrol.zone_id].geom, lon, lat)
        item = _near_item(patrol, metres, radius_km, point is not None, patrol.id in exact)
        if item is not None:
            found.append(item)
    ordered = sorted(found, key=lambda f: (f["_key"], f["patrol_id"]))  # within a band: by id, not by distance
    return [{k: v for k, v in f.items() if k != "_key"} for f in ordered]


def _near_item(patrol: Patrol, metres: float, radius_km: float, by_position: bool, exact: bool
               ) -> dict[str, Any] | None:
    """One patrol's entry, or None when outside the radius.

    Without the right to locate the patrol the caller learns only its band, and the radius is compared with the
    band's start, never with the distance: any exact threshold would let a few probes close in on the patrol.
    """
    band = visibility.distance_band(metres)
    key = metres / 1000 if exact else visibility.band_floor_km(band)
    if (metres > radius_km * 1000) if exact else (key >= radius_km):
        return None
    return {"patrol_id": patrol.id, "distance_km": round(metres / 1000, 2) if exact else None,
            "distance_band": band, "by": "position" if by_position else "zone",
            "field_status": patrol.field_status, "_key": key}


def _last_positions(session: Session, patrol_ids: list[int]) -> dict[int, Any]:
    if not patrol_ids:
        return {}
    newest = (select(col(PositionReport.patrol_id), func.max(col(PositionReport.at)).label("at"))
              .where(col(PositionReport.patrol_id).in_(patrol_ids)).group_by(col(PositionReport.patrol_id)).subquery())
    rows = session.execute(select(col(PositionReport.patrol_id), col(PositionReport.point)).join(
        newest, (newest.c.patrol_id == col(PositionReport.patrol_id)) & (newest.c.at == col(PositionReport.at)))).all()
    return {pid: point for pid, point in rows}
