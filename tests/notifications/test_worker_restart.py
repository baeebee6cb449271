"""Issue 18, acceptance 3: killing the worker mid-delivery and restarting it sends nothing twice.

A real ``iolaos worker`` process delivers six e-mails to a real SMTP server, which holds the third message without
answering. The worker is killed (SIGKILL) while it waits. After its lease runs out a new worker finishes the job:
the three not yet tried are sent once each, the two sent before are not sent again, and the one caught in flight is
recorded as interrupted and left alone (whether it arrived is unknown; resending could make a duplicate).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from iolaos.db import session_scope
from iolaos.kit.time import utcnow
from iolaos.notifications.models import DeliveryAttempt, Notification, NotificationDelivery

SRC = Path(__file__).resolve().parents[2] / "src"
LEASE = 2.0


def _outbox(engine, team, count: int) -> list[int]:
    now = utcnow()
    ids = []
    with session_scope(engine) as s:
        for i in range(count):
            n = Notification(audit_seq=10_000 + i, rule="handover", user_id=team.leader_user,
                             organisation_id=team.org_id, subject_type="incident", subject_id=str(i),
                             title=f"Notice {i}", body="test", url="/field", created_at=now)
            s.add(n)
            s.flush()
            d = NotificationDelivery(notification_id=n.id, channel="email", next_attempt_at=now, updated_at=now)
            s.add(d)
            s.flush()
            ids.append(d.id)
    return ids


def _worker(settings, mailbox, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(SRC), "IOLAOS_DATABASE_URL": settings.database_url,
           "IOLAOS_NOTIFY_SMTP_HOST": "127.0.0.1", "IOLAOS_NOTIFY_SMTP_PORT": str(mailbox.port),
           "IOLAOS_NOTIFY_SEND_TIMEOUT": "60", "IOLAOS_NOTIFY_LEASE_SECONDS": str(LEASE),
           "IOLAOS_WORKER_NOTIFY_SECONDS": "0.2", "IOLAOS_WORKER_SWEEP_SECONDS": "0",
           "IOLAOS_WORKER_PURGE_SECONDS": "0", "IOLAOS_WORKER_CHECKPOINT_SECONDS": "0"}
    return subprocess.Popen([sys.executable, "-m", "iolaos.cli", "worker", *extra], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_killing_the_worker_mid_delivery_sends_nothing_twice(db, engine, team, mailbox):
    deliveries = _outbox(engine, team, 6)
    mailbox.hold = {3}
    first = _worker(db, mailbox)
    try:
        assert mailbox.holding.wait(60), "the worker never reached the third message"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    assert len(mailbox.accepted) == 2
    with session_scope(engine) as s:
        held = s.scalar(select(NotificationDelivery.status).where(NotificationDelivery.id == deliveries[2]))
    assert held == "sending"
    time.sleep(LEASE + 0.2)  # the dead worker's lease runs out

    second = _worker(db, mailbox, "--once")
    output = second.communicate(timeout=120)[0].decode()
    assert second.returncode == 0, output

    seen = Counter(mailbox.seen)
    assert len(seen) == 6 and max(seen.values()) == 1, f"a message went out twice: {seen}"
    assert len(mailbox.accepted) == 5 and len({m["id"] for m in mailbox.accepted}) == 5
    with session_scope(engine) as s:
        status = dict(s.execute(select(NotificationDelivery.id, NotificationDelivery.status)
                                .where(NotificationDelivery.id.in_(deliveries))).all())
        attempts = s.execute(select(DeliveryAttempt.delivery_id, DeliveryAttempt.outcome)
                             .where(DeliveryAttempt.delivery_id.in_(deliveries))).all()
    assert [status[d] for d in deliveries] == ["sent", "sent", "unknown", "sent", "sent", "sent"]
    assert sorted(attempts) == sorted([(d, "sent") for i, d in enumerate(deliveries) if i != 2]
                                      + [(deliveries[2], "interrupted")])
