"""Position reports: accepted only from crew checked in on an active patrol; visible with volunteer.location."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shapely.geometry import Point
from sqlalchemy import delete, func, insert, select
from sqlmodel import Session

from iolaos.auth.principal import Principal, organisation_ids
from iolaos.config import Settings
from iolaos.errors import NotFound
from iolaos.field import alerts
from iolaos.field.models import PositionReport
from iolaos.journal import volatile
from iolaos.kit.time import utcnow
from iolaos.patrols.models import Assignment, Patrol
from iolaos.planning import workflow
from iolaos.planning.service import patrol_topics
from iolaos.volunteers.models import Volunteer
from iolaos.zones.models import Zone

FUTURE_SLACK = timedelta(minutes=2)
TOPIC_CACHE_SIZE = 10_000
_TOPIC_CACHE: dict[tuple[str, int, int, int | None], list[str]] = {}


@dataclass(frozen=True)
class Report:
    """One buffered position from a phone."""

    patrol_id: int
    at: datetime
    lon: float
    lat: float
    accuracy_m: float | None = None


def report(session: Session, settings: Settings, *, principal: Principal, reports: list[Report]
           ) -> dict[str, Any]:
    """Store the positions the caller may report; say why each refused one was refused."""
    volunteer, on_duty, stamps = _reporter(session, principal.user_id)
    now, accepted, rejected = utcnow(), [], []
    oldest = now - timedelta(days=settings.position_retention_days)
    for index, item in enumerate(reports):
        reason = _refusal(item, volunteer, on_duty, now, oldest)
        if reason:
            rejected.append({"index": index, "patrol_id": item.patrol_id, "reason": reason})
            continue
        accepted.append(item)
    if accepted:  # one multi-row INSERT: this is the hot path of the field
        session.execute(insert(PositionReport.__table__), [
            {"patrol_id": r.patrol_id, "volunteer_id": volunteer.id, "at": r.at, "received_at": now,
             "point": Point(r.lon, r.lat), "accuracy_m": r.accuracy_m} for r in accepted])
    newest = {pid: max((r for r in accepted if r.patrol_id == pid), key=lambda r: r.at)
              for pid in sorted({r.patrol_id for r in accepted})}
    for patrol_id, latest in newest.items():
        alerts.check_out_of_zone(session, patrol=on_duty[patrol_id], lon=latest.lon, lat=latest.lat, at=latest.at,
                                 limit_m=settings.out_of_zone_metres, zone_stamp=stamps[patrol_id])
    # Queued on the session: the events are written (under the journal's head-row lock) just before COMMIT.
    for patrol_id, latest in newest.items():
        _publish(session, on_duty[patrol_id], volunteer, latest)
    return {"accepted": len(accepted), "rejected": rejected}


def _reporter(session: Session, user_id: int) -> tuple[Volunteer | None, dict[int, Patrol], dict[int, Any]]:
    """The caller's volunteer record, the active patrols they are checked in on, and those patrols' zone versions.

    One query on the hot path; a second only when the caller is on no active patrol.
    """
    rows = session.execute(select(Volunteer, Patrol, Zone.updated_at)
                           .join(Assignment, Assignment.volunteer_id == Volunteer.id)
                           .join(Patrol, Patrol.id == Assignment.patrol_id).join(Zone, Zone.id == Patrol.zone_id)
                           .where(Volunteer.user_id == user_id, Assignment.status == "checked_in",
                                  Patrol.status == "active")).all()
    if not rows:
        return session.scalar(select(Volunteer).where(Volunteer.user_id == user_id)), {}, {}
    return rows[0][0], {p.id: p for _, p, _ in rows}, {p.id: stamp for _, p, stamp in rows}


def _refusal(item: Report, volunteer: Volunteer | None, on_duty: dict[int, Patrol], now: datetime,
             oldest: datetime) -> str | None:
    if volunteer is None:
        return "only volunteers share positions"
    if item.patrol_id not in on_duty:
        return "not checked in on this patrol, or the patrol is not active"
    if item.at > now + FUTURE_SLACK:
        return "time is in the future"
    if item.at < oldest:
        return "older than the retention period"
    return None


def _topics(session: Session, patrol: Patrol) -> list[str]:
    """The patrol's live topics, remembered per database and patrol (they follow its zone and organisation)."""
    key = (str(session.get_bind().url), patrol.id, patrol.zone_id, patrol.organisation_id)
    found = _TOPIC_CACHE.get(key)
    if found is None:
        if len(_TOPIC_CACHE) >= TOPIC_CACHE_SIZE:
            _TOPIC_CACHE.clear()
        found = _TOPIC_CACHE[key] = patrol_topics(session, patrol)
    return found


def _publish(session: Session, patrol: Patrol, volunteer: Volunteer, latest: Report) -> None:
    """Push the newest position live (a volatile event: no audit record of its own)."""
    volatile.publish(session, topics=_topics(session, patrol), kind="position",
                     payload={"patrol_id": patrol.id, "volunteer_id": volunteer.id, "at": latest.at.isoformat(),
                              "lon": latest.lon, "lat": latest.lat, "accuracy_m": latest.accuracy_m,
                              "organisation_id": volunteer.organisation_id})


def track(session: Session, principal: Principal, *, patrol_id: int, since: datetime | None, limit: int
          ) -> list[dict[str, Any]]:
    """A patrol's positions (oldest first), for callers with volunteer.location over its crew."""
    principal.scope("volunteer.location")  # 403 for roles without it, before the patrol is looked up
    workflow.get_visible(session, principal, patrol_id)
    query = select(PositionReport, Volunteer.organisation_id).join(
        Volunteer, Volunteer.id == PositionReport.volunteer_id).where(PositionReport.patrol_id == patrol_id)
    allowed = organisation_ids(session, principal, "volunteer.location")
    if allowed is not None:
        query = query.where(Volunteer.organisation_id.in_(allowed))
    if since is not None:
        query = query.where(PositionReport.at >= since)
    rows = session.execute(query.order_by(PositionReport.at, PositionReport.id).limit(limit)).all()
    return [_out(p) for p, _ in rows]


def latest(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """The newest position of each crew member on active patrols the caller may locate."""
    principal.scope("volunteer.location")
    newest = (select(PositionReport.volunteer_id, PositionReport.patrol_id, func.max(PositionReport.at).label("at"))
              .group_by(PositionReport.volunteer_id, PositionReport.patrol_id).subquery())
    query = (select(PositionReport, Volunteer.organisation_id)
             .join(newest, (newest.c.volunteer_id == PositionReport.volunteer_id)
                   & (newest.c.patrol_id == PositionReport.patrol_id) & (newest.c.at == PositionReport.at))
             .join(Volunteer, Volunteer.id == PositionReport.volunteer_id)
             .join(Patrol, Patrol.id == PositionReport.patrol_id).where(Patrol.status == "active"))
    allowed = organisation_ids(session, principal, "volunteer.location")
    if allowed is not None:
        query = query.where(Volunteer.organisation_id.in_(allowed))
    return [_out(p) for p, _ in session.execute(query.order_by(PositionReport.patrol_id)).all()]


def _out(p: PositionReport) -> dict[str, Any]:
    return {"patrol_id": p.patrol_id, "volunteer_id": p.volunteer_id, "at": p.at.isoformat(),
            "lon": p.point.x, "lat": p.point.y, "accuracy_m": p.accuracy_m}


def purge(session: Session, *, older_than: timedelta, now: datetime | None = None) -> int:
    """Delete positions older than the retention period; returns how many."""
    cutoff = (now or utcnow()) - older_than
    result = session.execute(delete(PositionReport).where(PositionReport.at < cutoff))
    return result.rowcount or 0


def ensure_patrol(session: Session, principal: Principal, patrol_id: int) -> Patrol:
    """404 unless the caller may see the patrol."""
    try:
        return workflow.get_visible(session, principal, patrol_id)
    except NotFound:
        raise NotFound("no such patrol") from None
