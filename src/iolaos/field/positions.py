"""Position reports: accepted only from crew checked in on an active patrol, stamped inside its active window;
visible only to those who may locate the patrol (``patrols.visibility``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shapely.geometry import Point
from sqlalchemy import delete, func, insert, select
from sqlmodel import Session, col

from iolaos.auth.principal import Principal
from iolaos.config import Settings
from iolaos.errors import Forbidden, InvalidInput, NotFound
from iolaos.field import alerts
from iolaos.field.models import PositionReport
from iolaos.field.schemas import BatchResult, Rejected
from iolaos.journal import volatile
from iolaos.journal.models import AuditRecord
from iolaos.kit.ids import saved_id
from iolaos.kit.tables import table_of
from iolaos.kit.time import as_utc, utcnow
from iolaos.patrols import visibility
from iolaos.patrols.models import Assignment, Patrol
from iolaos.planning import workflow
from iolaos.planning.service import patrol_topics
from iolaos.volunteers.models import Volunteer
from iolaos.zones.models import Zone

TOPIC_CACHE_SIZE = 10_000
_TOPIC_CACHE: dict[tuple[str, int, int, int | None], list[str]] = {}
_STARTED: dict[tuple[str, int, datetime], datetime] = {}  # when each patrol (db, id, created) started
START_ACTIONS = ("patrol.start",)  # journal actions that make a patrol active
TIME_REFUSED = "outside_active_window"


@dataclass(frozen=True)
class Report:
    """One buffered position from a phone."""

    patrol_id: int
    at: datetime
    lon: float
    lat: float
    accuracy_m: float | None = None


def report(session: Session, settings: Settings, *, principal: Principal, reports: list[Report],
           now: datetime | None = None) -> BatchResult:
    """Store the positions the caller may report; say why each refused one was refused.

    A batch is stored in part when some reports are refused (a phone must not lose the good ones); when
    nothing could be stored because of the reports' times, the whole request answers 422
    ``outside_active_window`` in the one error shape.
    """
    volunteer, on_duty, stamps, windows = _reporter(session, principal.user_id)
    now = now or utcnow()
    accepted: list[Report] = []
    rejected: list[dict[str, Any]] = []
    skew = timedelta(seconds=settings.position_skew_seconds)
    oldest = now - timedelta(days=settings.position_retention_days)
    for index, item in enumerate(reports):
        code, reason = _refusal(item, volunteer, windows, now, oldest, skew)
        if reason:
            rejected.append({"index": index, "patrol_id": item.patrol_id, "reason": reason, "code": code})
            continue
        accepted.append(item)
    if not accepted and any(r["code"] == TIME_REFUSED for r in rejected):
        raise InvalidInput({"message": "no position lies inside its patrol's active window", "rejected": rejected,
                            "skew_seconds": settings.position_skew_seconds}, code=TIME_REFUSED)
    if volunteer is None:  # _refusal refused every report: only volunteers share positions
        return BatchResult(accepted=0, rejected=[Rejected(**r) for r in rejected])
    if accepted:  # one multi-row INSERT: this is the hot path of the field
        session.execute(insert(table_of(PositionReport)), [
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
    return BatchResult(accepted=len(accepted), rejected=[Rejected(**r) for r in rejected])


def _reporter(session: Session, user_id: int
              ) -> tuple[Volunteer | None, dict[int, Patrol], dict[int, Any], dict[int, datetime]]:
    """The caller's volunteer record, the active patrols they are checked in on, those patrols' zone versions,
    and since when each patrol is active for this reporter.

    One query on the hot path (the start times are remembered); a second when the caller is on no active patrol.
    """
    rows = session.execute(select(Volunteer, Patrol, col(Zone.updated_at), col(Assignment.checked_in_at))
                           .join(Assignment, col(Assignment.volunteer_id) == Volunteer.id)
                           .join(Patrol, col(Patrol.id) == Assignment.patrol_id)
                           .join(Zone, col(Zone.id) == Patrol.zone_id)
                           .where(col(Volunteer.user_id) == user_id, col(Assignment.status) == "checked_in",
                                  col(Patrol.status) == "active")).all()
    if not rows:
        return session.scalar(select(Volunteer).where(col(Volunteer.user_id) == user_id)), {}, {}, {}
    started = _started(session, [p for _, p, _, _ in rows])
    # The window opens at the latest of: the patrol's creation, its start, and this reporter's check-in.
    windows = {saved_id(p): max(t for t in (as_utc(p.created_at), started.get(saved_id(p)),
                                          as_utc(checked_in) if checked_in else None) if t is not None)
               for _, p, _, checked_in in rows}
    return rows[0][0], {saved_id(p): p for _, p, _, _ in rows}, {saved_id(p): stamp for _, p, stamp, _ in rows}, windows


def _started(session: Session, patrols: list[Patrol]) -> dict[int, datetime]:
    """When each active patrol started, from the journal's record of its start.

    Remembered per database and patrol row (its creation time tells a restored database's reused ids apart).
    """
    db = str(session.get_bind().engine.url)
    keys = {saved_id(p): (db, saved_id(p), p.created_at) for p in patrols}
    missing = [pid for pid, key in keys.items() if key not in _STARTED]
    if missing:
        if len(_STARTED) >= TOPIC_CACHE_SIZE:
            _STARTED.clear()
        for subject_id, at in session.execute(
                select(col(AuditRecord.subject_id), func.max(col(AuditRecord.occurred_at)))
                .where(col(AuditRecord.subject_type) == "patrol",
                       col(AuditRecord.subject_id).in_([str(p) for p in missing]),
                       col(AuditRecord.action).in_(START_ACTIONS)).group_by(col(AuditRecord.subject_id))):
            _STARTED[keys[int(subject_id)]] = as_utc(at)
    return {pid: _STARTED[key] for pid, key in keys.items() if key in _STARTED}


def _refusal(item: Report, volunteer: Volunteer | None, windows: dict[int, datetime], now: datetime,
             oldest: datetime, skew: timedelta) -> tuple[str | None, str | None]:
    """(code, reason) when a report is refused, else (None, None)."""
    if volunteer is None:
        return "not_a_volunteer", "only volunteers share positions"
    if item.patrol_id not in windows:
        return "not_on_duty", "not checked in on this patrol, or the patrol is not active"
    if item.at > now + skew:
        return TIME_REFUSED, "time is in the future"
    if item.at < oldest:
        return TIME_REFUSED, "older than the retention period"
    if item.at < windows[item.patrol_id] - skew:
        return TIME_REFUSED, f"before the patrol's active window (from {windows[item.patrol_id].isoformat()})"
    return None, None


def _topics(session: Session, patrol: Patrol) -> list[str]:
    """The patrol's live topics, remembered per database and patrol (they follow its zone and organisation)."""
    key = (str(session.get_bind().engine.url), saved_id(patrol), patrol.zone_id, patrol.organisation_id)
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
    """A patrol's positions (oldest first), for callers who may locate the patrol (``patrols.visibility``)."""
    principal.scope("volunteer.location")  # 403 for roles without it, before the patrol is looked up
    workflow.get_visible(session, principal, patrol_id)
    ensure_locatable(session, principal, patrol_id)
    query = select(PositionReport).where(col(PositionReport.patrol_id) == patrol_id)
    if since is not None:
        query = query.where(col(PositionReport.at) >= since)
    query = query.order_by(col(PositionReport.at), col(PositionReport.id)).limit(limit)
    return [_out(p) for p in session.scalars(query)]


def tracks_of(session: Session, principal: Principal, patrol_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The positions of those of these patrols the caller may locate (one query for all of them)."""
    allowed = sorted(visibility.locatable(session, principal, patrol_ids))
    found: dict[int, list[dict[str, Any]]] = {pid: [] for pid in allowed}
    if allowed:
        for p in session.scalars(select(PositionReport).where(col(PositionReport.patrol_id).in_(allowed))
                                 .order_by(col(PositionReport.patrol_id), col(PositionReport.at),
                                           col(PositionReport.id))):
            found[p.patrol_id].append(_out(p))
    return found


def ensure_locatable(session: Session, principal: Principal, patrol_id: int) -> None:
    """403 when the caller may see the patrol but not where it is."""
    if patrol_id not in visibility.locatable(session, principal, [patrol_id]):
        raise Forbidden("you may see this patrol but not where it is (docs/permissions.md, \"Location\")",
                        code="location_not_visible")


def latest(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """The newest position of each crew member on active patrols the caller may locate."""
    principal.scope("volunteer.location")
    newest = (select(col(PositionReport.volunteer_id), col(PositionReport.patrol_id),
                     func.max(col(PositionReport.at)).label("at"))
              .group_by(col(PositionReport.volunteer_id), col(PositionReport.patrol_id)).subquery())
    query = (select(PositionReport)
             .join(newest, (newest.c.volunteer_id == col(PositionReport.volunteer_id))
                   & (newest.c.patrol_id == col(PositionReport.patrol_id)) & (newest.c.at == col(PositionReport.at)))
             .join(Patrol, col(Patrol.id) == PositionReport.patrol_id).where(col(Patrol.status) == "active"))
    rows = list(session.scalars(query.order_by(col(PositionReport.patrol_id), col(PositionReport.volunteer_id))))
    allowed = visibility.locatable(session, principal, {p.patrol_id for p in rows})
    return [_out(p) for p in rows if p.patrol_id in allowed]


def _out(p: PositionReport) -> dict[str, Any]:
    return {"patrol_id": p.patrol_id, "volunteer_id": p.volunteer_id, "at": p.at.isoformat(),
            "lon": p.point.x, "lat": p.point.y, "accuracy_m": p.accuracy_m}


def purge(session: Session, *, older_than: timedelta, now: datetime | None = None) -> int:
    """Delete positions older than the retention period; returns how many."""
    cutoff = (now or utcnow()) - older_than
    result = session.exec(delete(PositionReport).where(col(PositionReport.at) < cutoff))
    return result.rowcount or 0


def ensure_patrol(session: Session, principal: Principal, patrol_id: int) -> Patrol:
    """404 unless the caller may see the patrol."""
    try:
        return workflow.get_visible(session, principal, patrol_id)
    except NotFound:
        raise NotFound("no such patrol") from None
