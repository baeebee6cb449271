"""Safety alerts: SOS, lost contact and out of zone; raised once, acknowledged by a dispatcher."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

import shapely
import shapely.prepared
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from iolaos.auth.actor import Actor, system_actor
from iolaos.auth.principal import Principal
from iolaos.errors import Conflict, Forbidden, NotFound
from iolaos.field.models import PositionReport, SafetyAlert
from iolaos.field.schemas import AlertOut
from iolaos.journal import service as journal
from iolaos.kit.ids import saved_id
from iolaos.kit.time import as_utc, utcnow
from iolaos.patrols import access, visibility
from iolaos.patrols.models import Assignment, Patrol
from iolaos.planning import workflow
from iolaos.planning.service import patrol_topics
from iolaos.risk import service as risk
from iolaos.volunteers.models import Volunteer
from iolaos.zones.models import Zone

METRES_PER_DEGREE = 111_320.0
ZONE_CACHE_SIZE = 2_000
_ZONE_CACHE: dict[tuple[str, int], tuple[datetime | None, Any, Any]] = {}
CREW_STATUSES = ("accepted", "checked_in")  # on the crew: they may press SOS


def raise_alert(session: Session, *, actor: Actor, patrol: Patrol, kind: str, details: dict[str, Any],
                at: datetime | None = None) -> SafetyAlert | None:
    """Open an alert unless one of this kind is already open for the patrol; journalled and pushed live."""
    patrol_id = saved_id(patrol)
    existing = session.scalar(select(SafetyAlert).where(col(SafetyAlert.patrol_id) == patrol_id,
                                                        col(SafetyAlert.kind) == kind,
                                                        col(SafetyAlert.status) == "open"))
    if existing is not None:
        return None
    alert = SafetyAlert(patrol_id=patrol_id, kind=kind, details=json.dumps(details, ensure_ascii=False),
                        raised_at=at or utcnow())
    try:
        with session.begin_nested():  # a concurrent sweeper may have opened the same alert
            session.add(alert)
            session.flush()
    except IntegrityError:
        return None
    journal.record(session, actor=actor, action="alert.raise", subject_type="patrol", subject_id=patrol_id,
                   data={"alert_id": alert.id, "kind": kind, **details}, topics=patrol_topics(session, patrol),
                   event_kind="alert.raised", payload=alert_out(alert, patrol))
    return alert


def sos(session: Session, *, principal: Principal, patrol_id: int, note: str) -> SafetyAlert | None:
    """A crew member, or someone who operates the patrol (its leader, a dispatcher), presses SOS."""
    patrol = workflow.get_visible(session, principal, patrol_id)
    if not _may_raise_sos(session, principal, patrol):
        raise Forbidden("only the crew and those who operate the patrol raise an SOS", code="forbidden")
    if patrol.status in ("completed", "cancelled"):
        raise Conflict({"message": f"the patrol is {patrol.status}", "status": patrol.status, "allowed": []},
                       code="illegal_transition")
    return raise_alert(session, actor=principal.actor, patrol=patrol, kind="sos",
                       details={"by_user_id": principal.user_id, "note": note})


def _may_raise_sos(session: Session, principal: Principal, patrol: Patrol) -> bool:
    """True for a crew member of the patrol, or a caller whose patrol.operate scope covers it."""
    on_crew = session.scalar(select(col(Assignment.id)).join(Volunteer, col(Volunteer.id) == Assignment.volunteer_id)
                             .where(col(Assignment.patrol_id) == patrol.id, col(Volunteer.user_id) == principal.user_id,
                                    col(Assignment.status).in_(CREW_STATUSES)).limit(1))
    if on_crew is not None:
        return True
    if not principal.can("patrol.operate"):
        return False
    from iolaos.patrols import access  # patrols import alerts for SOS via field status

    try:
        access.operable(session, principal, saved_id(patrol))
    except NotFound:
        return False
    return True


def acknowledge(session: Session, *, principal: Principal, alert_id: int, note: str, now: datetime | None = None
                ) -> tuple[SafetyAlert, Patrol]:
    """A dispatcher takes note of an alert; it closes, and a new one of the same kind may open later."""
    principal.scope("alert.manage")
    alert, patrol = _visible(session, principal, alert_id)
    zones = risk.zones_in_scope(session, principal, "alert.manage")
    if zones is not None and patrol.zone_id not in zones:
        raise NotFound("no such alert")
    if alert.status != "open":
        raise Conflict({"message": "already acknowledged", "status": alert.status, "allowed": []},
                       code="illegal_transition")
    alert.status, alert.open_key = "acknowledged", None
    alert.acknowledged_by_user_id, alert.acknowledged_at = principal.user_id, now or utcnow()
    session.flush()
    journal.record(session, actor=principal.actor, action="alert.acknowledge", subject_type="patrol",
                   subject_id=saved_id(patrol), data={"alert_id": alert.id, "kind": alert.kind, "note": note},
                   topics=patrol_topics(session, patrol), event_kind="alert.acknowledged",
                   payload=alert_out(alert, patrol))
    return alert, patrol


def _visible(session: Session, principal: Principal, alert_id: int) -> tuple[SafetyAlert, Patrol]:
    alert = session.get(SafetyAlert, alert_id)
    if alert is None:
        raise NotFound("no such alert")
    try:
        return alert, workflow.get_visible(session, principal, alert.patrol_id)
    except NotFound:
        raise NotFound("no such alert") from None


def list_visible(session: Session, principal: Principal, *, status: str | None, limit: int) -> list[AlertOut]:
    """Alerts on patrols the caller may see, newest first."""
    principal.scope("alert.read")
    query = select(SafetyAlert, Patrol).join(Patrol, col(Patrol.id) == SafetyAlert.patrol_id)
    clause = access.visible_clause(session, principal)
    if clause is not None:
        query = query.where(clause)
    if status:
        query = query.where(col(SafetyAlert.status) == status)
    rows = session.execute(query.order_by(col(SafetyAlert.raised_at).desc(), col(SafetyAlert.id).desc())
                           .limit(limit)).all()
    locatable = visibility.locatable(session, principal, {saved_id(p) for _, p in rows})
    return [_shown(alert_out(a, p), saved_id(p) in locatable) for a, p in rows]


def alert_for(session: Session, principal: Principal, alert: SafetyAlert, patrol: Patrol) -> AlertOut:
    """An alert as this caller may see it: its coordinates only with the right to locate the patrol."""
    patrol_id = saved_id(patrol)
    return _shown(alert_out(alert, patrol), patrol_id in visibility.locatable(session, principal, [patrol_id]))


def _shown(out: dict[str, Any], locatable: bool) -> AlertOut:
    """The served alert: the pushed payload (``alert_out``), without its location unless the caller may locate."""
    return AlertOut.model_validate(out if locatable else visibility.redact_alert(out))


def alert_out(alert: SafetyAlert, patrol: Patrol) -> dict[str, Any]:
    """An alert as served and pushed."""
    return {"id": alert.id, "patrol_id": patrol.id, "zone_id": patrol.zone_id, "kind": alert.kind,
            "status": alert.status, "details": json.loads(alert.details), "raised_at": alert.raised_at.isoformat(),
            "acknowledged_by_user_id": alert.acknowledged_by_user_id,
            "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None}


def distance_m(geom: Any, lon: float, lat: float) -> float:
    """Metres from a lon/lat point to a geometry (local equirectangular scale; fine at patrol distances)."""
    scale = math.cos(math.radians(lat))
    scaled = shapely.transform(geom, lambda c: c * [scale, 1.0])
    return scaled.distance(shapely.Point(lon * scale, lat)) * METRES_PER_DEGREE


def _zone_shape(session: Session, zone_id: int, stamp: Any = None) -> tuple[Any, Any]:
    """A zone's geometry and its prepared form, kept per database and zone until the zone's row changes.

    Positions arrive many times a second and municipalities have thousands of vertices: reading and
    parsing the polygon for each batch would cost more than the rest of storing it.
    """
    key = (str(session.get_bind().engine.url), zone_id)
    if stamp is None:
        stamp = session.scalar(select(col(Zone.updated_at)).where(col(Zone.id) == zone_id))
    hit = _ZONE_CACHE.get(key)
    if hit is None or hit[0] != stamp:
        if len(_ZONE_CACHE) >= ZONE_CACHE_SIZE:
            _ZONE_CACHE.clear()
        geom = session.scalar(select(col(Zone.geom)).where(col(Zone.id) == zone_id))
        hit = _ZONE_CACHE[key] = (stamp, geom, shapely.prepared.prep(geom))
    return hit[1], hit[2]


def check_out_of_zone(session: Session, *, patrol: Patrol, lon: float, lat: float, at: datetime,
                      limit_m: float, zone_stamp: Any = None) -> SafetyAlert | None:
    """Raise out_of_zone when a position lies further than ``limit_m`` outside the patrol's zone.

    ``zone_stamp`` is the zone row's ``updated_at`` when the caller has read it already.
    """
    geom, prepared = _zone_shape(session, patrol.zone_id, zone_stamp)
    if prepared.covers(shapely.Point(lon, lat)):
        return None
    metres = distance_m(geom, lon, lat)
    if metres <= limit_m:
        return None
    return raise_alert(session, actor=system_actor("field"), patrol=patrol, kind="out_of_zone", at=at,
                       details={"distance_m": round(metres), "lon": lon, "lat": lat, "at": at.isoformat()})


def _quiet_after_acknowledge(session: Session, patrol_ids: list[int]) -> dict[int, datetime]:
    """Patrol → when its latest lost-contact alert was acknowledged (for patrols whose latest one is)."""
    rows = session.execute(select(col(SafetyAlert.patrol_id), col(SafetyAlert.status), col(SafetyAlert.acknowledged_at))
                           .where(col(SafetyAlert.patrol_id).in_(patrol_ids or [-1]),
                                  col(SafetyAlert.kind) == "lost_contact")
                           .order_by(col(SafetyAlert.patrol_id), col(SafetyAlert.raised_at), col(SafetyAlert.id))).all()
    latest = {patrol_id: (status, at) for patrol_id, status, at in rows}
    return {p: at for p, (status, at) in latest.items() if status == "acknowledged" and at is not None}


def sweep_lost_contact(session: Session, *, now: datetime, after_minutes: float,
                       realert_minutes: float = 30.0) -> list[SafetyAlert]:
    """Raise lost_contact for active patrols silent for ``after_minutes`` (a scheduled job; clock injectable).

    Once a dispatcher has acknowledged it, the same silence does not alert again: only contact resuming and
    being lost again, or ``realert_minutes`` of further silence after the acknowledgement, raise a new one.
    """
    last = (select(col(PositionReport.patrol_id), func.max(col(PositionReport.at)).label("last_at"))
            .group_by(col(PositionReport.patrol_id)).subquery())
    started = (select(col(Assignment.patrol_id), func.min(col(Assignment.checked_in_at)).label("since"))
               .group_by(col(Assignment.patrol_id)).subquery())
    rows = session.execute(select(Patrol, last.c.last_at, started.c.since)
                           .outerjoin(last, last.c.patrol_id == col(Patrol.id))
                           .outerjoin(started, started.c.patrol_id == col(Patrol.id))
                           .where(col(Patrol.status) == "active")).all()
    raised = []
    acknowledged = _quiet_after_acknowledge(session, [patrol.id for patrol, _, _ in rows])
    for patrol, last_at, since in rows:
        reference = last_at or since or patrol.updated_at
        if reference is not None and reference.tzinfo is None:
            reference = as_utc(reference)
        silent = (now - reference).total_seconds() / 60 if reference else after_minutes
        quiet_since = acknowledged.get(patrol.id)
        if quiet_since is not None and (reference is None or reference <= quiet_since) \
                and (now - quiet_since).total_seconds() / 60 < realert_minutes:
            continue  # acknowledged, and nothing heard since: not news yet
        if silent >= after_minutes:
            alert = raise_alert(session, actor=system_actor("field"), patrol=patrol, kind="lost_contact", at=now,
                                details={"silent_minutes": round(silent, 1),
                                         "last_position_at": last_at.isoformat() if last_at else None})
            if alert is not None:
                raised.append(alert)
    return raised


