"""The outbox: notices written with the audit record that causes them; users' channels and push subscriptions."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session, col

from iolaos.auth.models import User
from iolaos.auth.principal import Principal, organisation_ids
from iolaos.config import Settings
from iolaos.errors import InvalidInput
from iolaos.journal import service as journal
from iolaos.journal.models import AuditRecord
from iolaos.kit.ids import saved_id
from iolaos.kit.time import utcnow
from iolaos.notifications import rules as rules_mod
from iolaos.notifications.models import (
    CHANNELS,
    DeliveryAttempt,
    Notification,
    NotificationDelivery,
    NotificationPreference,
    PushSubscription,
)
from iolaos.notifications.schemas import DeliveryOut, NotificationOut, PreferencesOut
from iolaos.volunteers.models import Volunteer

log = logging.getLogger(__name__)
RESTING = ("off_duty", "unavailable")  # volunteer statuses that receive only life-safety notices
_installed: dict[str, Any] = {}


def install(settings: Settings) -> None:
    """Write notices with every matching audit record from now on (create_app and the CLI call this).

    One hook per process whatever the number of calls; the latest settings win (tests build several apps).
    """
    _installed["rules"] = rules_mod.merged_rules(settings.notify_rules)
    _installed["default_channels"] = [c for c in settings.notify_channels_default if c in CHANNELS]
    journal.add_record_hook(on_record)


def uninstall() -> None:
    """Stop writing notices (tests)."""
    journal.remove_record_hook(on_record)


def on_record(session: Session, record: AuditRecord, data: dict[str, Any]) -> None:
    """The journal hook: most records match no rule and cost one set lookup."""
    if record.action not in rules_mod.ACTIONS or "rules" not in _installed:
        return
    try:
        with session.begin_nested():  # a broken rule must not undo the change (an SOS above all) it reports
            enqueue(session, record, data, table=_installed["rules"], default_channels=_installed["default_channels"])
    except Exception:
        log.exception("notifications for audit record %s (%s) were not written", record.seq, record.action)


def enqueue(session: Session, record: AuditRecord, data: dict[str, Any], *, table: dict[str, dict[str, Any]],
            default_channels: list[str]) -> list[Notification]:
    """Outbox rows for every notice the rules draw from ``record``, each person once per rule."""
    now = record.occurred_at
    written = []
    for notice in rules_mod.notices(session, table, record, data):
        people = session.execute(select(col(User.id), col(User.organisation_id), col(User.role)).where(
            col(User.id).in_(sorted(notice.users)), col(User.is_active))).all()
        resting = dict(session.execute(select(col(Volunteer.user_id), col(Volunteer.status)).where(
            col(Volunteer.user_id).in_(sorted(notice.users)), col(Volunteer.status).in_(RESTING))).all())
        prefs = {p.user_id: p for p in session.scalars(select(NotificationPreference).where(
            col(NotificationPreference.user_id).in_(sorted(notice.users))))}
        for user_id, org_id, role in sorted(people):
            suppressed = resting.get(user_id) if not notice.life_safety else None
            row = Notification(audit_seq=record.seq, rule=notice.rule, user_id=user_id, organisation_id=org_id,
                               life_safety=notice.life_safety, subject_type=record.subject_type,
                               subject_id=record.subject_id, title=notice.title, body=notice.body,
                               url="/" if role in rules_mod.DISPATCH_ROLES else "/field",
                               suppressed=suppressed, created_at=now)
            session.add(row)
            session.flush()
            written.append(row)
            if suppressed:
                continue
            pref = prefs.get(user_id)
            chosen = pref.channel_list if pref is not None else default_channels
            due = now if notice.life_safety else quiet_until(pref, now)
            session.add_all([NotificationDelivery(notification_id=saved_id(row), channel=c, next_attempt_at=due,
                                                  updated_at=now)
                             for c in CHANNELS if c in chosen and c in notice.channels])
    session.flush()
    return written


def in_quiet_hours(pref: NotificationPreference | None, at: datetime) -> bool:
    """True when ``at`` falls in the person's quiet hours (Europe/Athens wall clock)."""
    if pref is None or pref.quiet_start is None or pref.quiet_end is None or pref.quiet_start == pref.quiet_end:
        return False
    local = at.astimezone(rules_mod.ATHENS)
    minute = local.hour * 60 + local.minute
    start, end = pref.quiet_start, pref.quiet_end
    return start <= minute < end if start < end else (minute >= start or minute < end)


def quiet_until(pref: NotificationPreference | None, at: datetime) -> datetime:
    """When a notice made at ``at`` may be sent: at once, or when the person's quiet hours end."""
    if not in_quiet_hours(pref, at):
        return at
    assert pref is not None and pref.quiet_end is not None
    local = at.astimezone(rules_mod.ATHENS)
    end = time(pref.quiet_end // 60, pref.quiet_end % 60)
    for days in (0, 1):
        candidate = datetime.combine(local.date() + timedelta(days=days), end, tzinfo=rules_mod.ATHENS)
        if candidate > local:
            return candidate.astimezone(at.tzinfo)
    return at  # pragma: no cover - one of the two days is always later


# --- preferences and subscriptions (the signed-in user's own) -------------------------------------------------
def preferences(session: Session, principal: Principal, settings: Settings) -> PreferencesOut:
    """The caller's channels and quiet hours (the defaults until they choose)."""
    pref = session.scalar(select(NotificationPreference)
                          .where(col(NotificationPreference.user_id) == principal.user_id))
    subscriptions = session.scalar(select(col(PushSubscription.id))
                                   .where(col(PushSubscription.user_id) == principal.user_id).limit(1))
    return PreferencesOut(channels=pref.channel_list if pref else list(settings.notify_channels_default),
                          quiet_start=_hhmm(pref.quiet_start) if pref else None,
                          quiet_end=_hhmm(pref.quiet_end) if pref else None,
                          push_subscribed=subscriptions is not None)


def set_preferences(session: Session, principal: Principal, settings: Settings, *, channels: list[str],
                    quiet_start: str | None, quiet_end: str | None) -> PreferencesOut:
    """Choose channels and quiet hours; journalled."""
    if (quiet_start is None) != (quiet_end is None):
        raise InvalidInput("give both ends of the quiet hours, or neither", code="invalid_quiet_hours")
    pref = session.scalar(select(NotificationPreference)
                          .where(col(NotificationPreference.user_id) == principal.user_id))
    if pref is None:
        pref = NotificationPreference(user_id=principal.user_id)
        session.add(pref)
    pref.channels = ",".join(c for c in CHANNELS if c in channels)
    pref.quiet_start, pref.quiet_end = _minutes(quiet_start), _minutes(quiet_end)
    pref.updated_at = utcnow()
    session.flush()
    journal.record(session, actor=principal.actor, action="notification.preferences", subject_type="user",
                   subject_id=principal.user_id,
                   data={"channels": pref.channel_list, "quiet_start": quiet_start, "quiet_end": quiet_end})
    return preferences(session, principal, settings)


def subscribe(session: Session, principal: Principal, *, endpoint: str, p256dh: str, auth: str) -> None:
    """Register (or move to the caller) a browser's push subscription; journalled without the endpoint itself."""
    row = session.scalar(select(PushSubscription).where(col(PushSubscription.endpoint) == endpoint))
    if row is None:
        row = PushSubscription(user_id=principal.user_id, endpoint=endpoint, p256dh=p256dh, auth=auth)
        session.add(row)
    else:  # the same browser, signed in by someone else now, or with fresh keys
        row.user_id, row.p256dh, row.auth = principal.user_id, p256dh, auth
    session.flush()
    journal.record(session, actor=principal.actor, action="notification.subscribe", subject_type="user",
                   subject_id=principal.user_id, data={"subscription": _fingerprint(endpoint)})


def unsubscribe(session: Session, principal: Principal, *, endpoint: str) -> bool:
    """Forget the caller's subscription for ``endpoint``; journalled when there was one."""
    gone = session.exec(delete(PushSubscription).where(col(PushSubscription.endpoint) == endpoint,
                                                       col(PushSubscription.user_id) == principal.user_id)).rowcount
    if gone:
        journal.record(session, actor=principal.actor, action="notification.unsubscribe", subject_type="user",
                       subject_id=principal.user_id, data={"subscription": _fingerprint(endpoint)})
    return bool(gone)


def _fingerprint(endpoint: str) -> str:
    """A short hash standing for a push endpoint (the URL itself is a capability: never in the journal)."""
    return hashlib.sha256(endpoint.encode()).hexdigest()[:16]


def _minutes(hhmm: str | None) -> int | None:
    if hhmm is None:
        return None
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _hhmm(minutes: int | None) -> str | None:
    return None if minutes is None else f"{minutes // 60:02d}:{minutes % 60:02d}"


# --- what the console shows ------------------------------------------------------------------------------------
def list_visible(session: Session, principal: Principal, *, mine: bool, limit: int) -> list[NotificationOut]:
    """Notifications with each channel's delivery status: the caller's own, or (console) those of people in
    organisations whose volunteers the caller may read."""
    query = select(Notification, col(User.full_name)).join(User, col(User.id) == col(Notification.user_id))
    if mine or not principal.can("volunteer.read"):
        query = query.where(col(Notification.user_id) == principal.user_id)
    else:
        allowed = organisation_ids(session, principal, "volunteer.read")
        if allowed is not None:
            query = query.where(col(Notification.organisation_id).in_(sorted(allowed | {principal.organisation_id})))
    rows = session.execute(query.order_by(col(Notification.id).desc()).limit(limit)).all()
    ids = [saved_id(n) for n, _ in rows]
    deliveries: dict[int, list[NotificationDelivery]] = {}
    for d in session.scalars(select(NotificationDelivery)
                             .where(col(NotificationDelivery.notification_id).in_(ids or [-1]))
                             .order_by(col(NotificationDelivery.id))):
        deliveries.setdefault(d.notification_id, []).append(d)
    return [_out(n, name, deliveries.get(saved_id(n), [])) for n, name in rows]


def _out(n: Notification, name: str, deliveries: list[NotificationDelivery]) -> NotificationOut:
    return NotificationOut(
        id=saved_id(n), rule=n.rule, user_id=n.user_id, user_name=name, title=n.title, body=n.body,
        life_safety=n.life_safety, subject_type=n.subject_type, subject_id=n.subject_id, suppressed=n.suppressed,
        created_at=n.created_at,
        deliveries=[DeliveryOut(channel=d.channel, status=d.status, attempts=d.attempts,
                                next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
                                sent_at=d.sent_at, last_error=d.last_error) for d in deliveries])


def attempts_of(session: Session, delivery_id: int) -> list[DeliveryAttempt]:
    """Every attempt of one delivery, in order (tests and operators)."""
    return list(session.scalars(select(DeliveryAttempt).where(col(DeliveryAttempt.delivery_id) == delivery_id)
                                .order_by(col(DeliveryAttempt.number))))
