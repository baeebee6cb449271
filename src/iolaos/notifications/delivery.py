"""The worker's side of the outbox: claim one delivery, send it, record how it went; exactly once per delivery.

Each delivery moves through its own short transactions:

1. *claim*: ``pending`` → ``sending`` with this worker's name and a lease, by a compare-and-set UPDATE (two
   workers can never both win), together with a new attempt row; committed before anything is sent;
2. *send*, outside any transaction;
3. *finish*: ``sent``, ``skipped``, ``pending`` again after a backoff, or ``failed`` after the last try; the
   attempt row gets its outcome.

A worker killed between 1 and 3 leaves a ``sending`` row whose lease runs out. Whether that message reached the
person is then unknown, so the delivery becomes ``unknown`` (attempt outcome ``interrupted``) and is *not* sent
again: a repeat is the one thing this outbox promises never to do. The console shows it so a person can follow up.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from iolaos.auth.models import User
from iolaos.config import Settings
from iolaos.db import session_scope
from iolaos.kit.ids import saved_id
from iolaos.kit.tables import table_of
from iolaos.kit.time import utcnow
from iolaos.notifications.channels import Message, Sender, SendError, Skip, Subscription
from iolaos.notifications.models import DeliveryAttempt, Notification, NotificationDelivery, PushSubscription
from iolaos.volunteers.models import Volunteer

log = logging.getLogger(__name__)
_d = table_of(NotificationDelivery)
_attempt = table_of(DeliveryAttempt)


def worker_name() -> str:
    """This process's name on the leases it takes."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class Claimed:
    """A delivery this worker holds: the channel, the attempt number and the message."""

    channel: str
    attempt: int
    message: Message


def backoff(settings: Settings, attempts: int) -> timedelta:
    """Wait before try ``attempts + 1``: the base, doubled after every failure, up to the maximum."""
    seconds = settings.notify_backoff_seconds * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, settings.notify_backoff_max_seconds))


def recover(engine: Engine, now: datetime) -> int:
    """Deliveries whose sender died (lease over, still ``sending``) become ``unknown``; returns how many."""
    with session_scope(engine) as session:
        stale = list(session.scalars(select(NotificationDelivery).where(col(NotificationDelivery.status) == "sending",
                                                                        col(NotificationDelivery.lease_until) < now)))
        for d in stale:
            done = session.exec(update(_d).where(_d.c.id == d.id, _d.c.status == "sending",
                                                 _d.c.lease_owner == d.lease_owner)
                                .values(status="unknown", lease_owner=None, lease_until=None, updated_at=now,
                                        last_error="interrupted while sending; not sent again (it may have "
                                                   "arrived)")).rowcount
            if done:
                session.execute(update(_attempt)
                                .where(_attempt.c.delivery_id == d.id, _attempt.c.finished_at.is_(None))
                                .values(finished_at=now, outcome="interrupted",
                                        detail=f"{d.lease_owner} stopped before recording the outcome"))
    return len(stale)


def claim_next(engine: Engine, settings: Settings, worker: str, now: datetime) -> Claimed | None:
    """Take the next due delivery (life-safety first), or None when nothing is due."""
    with session_scope(engine) as session:
        candidates = session.execute(
            select(col(NotificationDelivery.id), col(NotificationDelivery.attempts))
            .join(Notification, col(Notification.id) == col(NotificationDelivery.notification_id))
            .where(col(NotificationDelivery.status) == "pending", col(NotificationDelivery.next_attempt_at) <= now)
            .order_by(col(Notification.life_safety).desc(), col(NotificationDelivery.next_attempt_at),
                      col(NotificationDelivery.id))
            .limit(8)).all()
        for delivery_id, attempts in candidates:
            won = session.exec(update(_d).where(_d.c.id == delivery_id, _d.c.status == "pending")
                               .values(status="sending", lease_owner=worker, attempts=attempts + 1,
                                       lease_until=now + timedelta(seconds=settings.notify_lease_seconds),
                                       updated_at=now)).rowcount
            if not won:
                continue  # another worker took it in the meantime
            session.add(DeliveryAttempt(delivery_id=delivery_id, number=attempts + 1, worker=worker, started_at=now))
            return _claimed(session, delivery_id, attempts + 1)
    return None


def _claimed(session: Session, delivery_id: int, attempt: int) -> Claimed:
    delivery = session.get(NotificationDelivery, delivery_id)
    assert delivery is not None
    n = session.get(Notification, delivery.notification_id)
    assert n is not None
    user = session.get(User, n.user_id)
    volunteer = session.scalar(select(Volunteer).where(col(Volunteer.user_id) == n.user_id))
    message = Message(delivery_id=delivery_id, notification_id=saved_id(n), title=n.title, body=n.body, url=n.url,
                      life_safety=n.life_safety,
                      email=(user.email if user else None) or (volunteer.email if volunteer else None),
                      phone=(user.phone if user else None) or (volunteer.phone if volunteer else None))
    if delivery.channel == "push":
        message.subscriptions = [Subscription(saved_id(s), s.endpoint, s.p256dh, s.auth) for s in session.scalars(
            select(PushSubscription).where(col(PushSubscription.user_id) == n.user_id)
            .order_by(col(PushSubscription.id)))]
    return Claimed(delivery.channel, attempt, message)


def finish(engine: Engine, settings: Settings, worker: str, claimed: Claimed, now: datetime, *, outcome: str,
           detail: str) -> str:
    """Record an attempt's outcome (sent, skipped, error, rejected) and the delivery's next state; returns it."""
    message = claimed.message
    if outcome == "error" and claimed.attempt >= settings.notify_max_tries:
        outcome = "gave_up"
    status = {"sent": "sent", "skipped": "skipped", "error": "pending", "gave_up": "failed",
              "rejected": "failed"}[outcome]
    values: dict[str, object] = {"status": status, "lease_owner": None, "lease_until": None, "updated_at": now,
                                 "last_error": None if status in ("sent", "skipped") else detail[:500]}
    if status == "sent":
        values["sent_at"] = now
    if status == "skipped":
        values["last_error"] = detail[:500]
    if status == "pending":
        values["next_attempt_at"] = now + backoff(settings, claimed.attempt)
    with session_scope(engine) as session:
        mine = session.exec(update(_d).where(_d.c.id == message.delivery_id, _d.c.status == "sending",
                                             _d.c.lease_owner == worker).values(**values)).rowcount
        session.execute(update(_attempt)
                        .where(_attempt.c.delivery_id == message.delivery_id,
                               _attempt.c.number == claimed.attempt)
                        .values(finished_at=now, outcome=outcome if mine else f"late_{outcome}"[:20],
                                detail=detail[:500]))
        if message.gone:
            session.execute(delete(PushSubscription).where(col(PushSubscription.id).in_(message.gone)))
    if not mine:
        log.warning("delivery %s: lease lost before the outcome (%s) was recorded", message.delivery_id, outcome)
    return status


def send_one(senders: dict[str, Sender], claimed: Claimed) -> tuple[str, str]:
    """Send a claimed delivery through its channel: (outcome, detail)."""
    sender = senders.get(claimed.channel)
    if sender is None:
        return "skipped", f"channel {claimed.channel} is not configured"
    try:
        return "sent", sender.send(claimed.message)
    except Skip as exc:
        return "skipped", str(exc)
    except SendError as exc:
        return ("rejected" if exc.permanent else "error"), str(exc)
    except Exception as exc:  # a bug in one sender must not stop the worker: record it and retry later
        log.exception("sending delivery %s failed", claimed.message.delivery_id)
        return "error", f"{type(exc).__name__}: {exc}"[:500]


def deliver_due(engine: Engine, settings: Settings, senders: dict[str, Sender], *, worker: str,
                clock: Callable[[], datetime] = utcnow, limit: int | None = None) -> dict[str, int]:
    """One worker turn: recover interrupted deliveries, then send what is due, one delivery at a time."""
    counts = {"recovered": recover(engine, clock())}
    for _ in range(limit or settings.notify_batch):
        claimed = claim_next(engine, settings, worker, clock())
        if claimed is None:
            break
        outcome, detail = send_one(senders, claimed)
        status = finish(engine, settings, worker, claimed, clock(), outcome=outcome, detail=detail)
        counts[status] = counts.get(status, 0) + 1
    return counts
