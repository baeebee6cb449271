"""Issue 18, acceptance 2 and 3: notices by rule, delivered over real Web Push, SMTP and an HTTP SMS gateway.

2. A smoke report within the radius of an active patrol gives that team's leader exactly one push (checked at a
   push service that verifies VAPID and decrypts the RFC 8291 payload) and one e-mail (at an SMTP server); an
   off-duty volunteer gets nothing.
3. An SOS goes through quiet hours (a proposal waits for their end); a failing channel retries with backoff and gives
   up after the set number of tries, every attempt recorded.
"""

from __future__ import annotations

import json
from datetime import timedelta

import shapely
from sqlalchemy import func, select

from iolaos.auth.models import User
from iolaos.db import session_scope
from iolaos.kit.time import utcnow
from iolaos.notifications.channels import build_senders
from iolaos.notifications.delivery import deliver_due
from iolaos.notifications.models import DeliveryAttempt, Notification, NotificationDelivery, PushSubscription
from iolaos.notifications.service import attempts_of
from iolaos.volunteers.models import Volunteer
from iolaos.zones.models import Zone


def _turn(engine, settings, clock=utcnow, worker="test-worker"):
    return deliver_due(engine, settings, build_senders(settings), worker=worker, clock=clock)


def _points_across_the_border(engine) -> tuple[tuple[float, float], tuple[float, float], str]:
    """P inside Mantoudi (9153) and Q about 2 km away in a neighbouring municipality, and that one's code."""
    with session_scope(engine) as s:
        home = s.scalar(select(Zone.geom).where(Zone.code == "9153"))
        others = s.execute(select(Zone.code, Zone.geom).where(Zone.kind == "municipality", Zone.code != "9153")).all()
    for code, geom in others:
        if not home.intersects(geom.buffer(0.001)):
            continue
        border = shapely.shortest_line(home.boundary, geom.boundary).coords[0]
        for dx, dy in [(a * 0.01, b * 0.01) for a in (-1, 0, 1) for b in (-1, 0, 1) if a or b]:
            p, q = shapely.Point(border[0] + dx, border[1] + dy), shapely.Point(border[0] - dx, border[1] - dy)
            if home.contains(p) and geom.contains(q) and not home.contains(q):
                return (p.x, p.y), (q.x, q.y), code
    raise AssertionError("no neighbour found")


def _off_duty_leader(engine, team, push_service) -> int:
    """A second leader of the team, off duty, with an e-mail address and a push subscription."""
    sub = push_service.subscriber("offduty")
    with session_scope(engine) as s:
        leader = s.get(User, team.leader_user)
        other = User(username="leader2.limni", full_name="Δεύτερος Αρχηγός", password_hash=leader.password_hash,
                     organisation_id=team.org_id, role="leader", email="leader2.limni@example.org")
        s.add(other)
        s.flush()
        s.add(Volunteer(organisation_id=team.org_id, user_id=other.id, full_name=other.full_name, status="off_duty"))
        s.add(PushSubscription(user_id=other.id, endpoint=sub.endpoint, **sub.keys))
        return other.id


def _go_out(client, sign_in, team, point) -> None:
    leader = sign_in(client, "leader.limni")
    base = f"/api/v1/patrols/{team.patrol_id}"
    assert client.post(f"{base}/check-in", headers=leader, json={"volunteer_ids": team.crew}).status_code == 200
    assert client.post(f"{base}/start", headers=leader).status_code == 200
    resp = client.post("/api/v1/positions", headers=sign_in(client, "volunteer.limni"), json={"reports": [
        {"patrol_id": team.patrol_id, "at": utcnow().isoformat(), "lon": point[0], "lat": point[1]}]})
    assert resp.json()["accepted"] == 1, resp.text


def test_smoke_near_an_active_patrol_pushes_and_mails_its_leader_once(nclient, notify_settings, engine, sign_in,
                                                                       team, push_service, mailbox):
    p, q, neighbour = _points_across_the_border(engine)
    leader = sign_in(nclient, "leader.limni")
    sub = push_service.subscriber("leader")
    assert nclient.post("/api/v1/notifications/subscriptions", headers=leader, json=sub.json()).status_code == 204
    prefs = nclient.put("/api/v1/notifications/preferences", headers=leader, json={"channels": ["push", "email"]})
    assert prefs.status_code == 200 and prefs.json()["push_subscribed"] is True
    off_duty = _off_duty_leader(engine, team, push_service)
    _go_out(nclient, sign_in, team, p)

    resp = nclient.post("/api/v1/incidents", headers=sign_in(nclient, "dispatcher.sterea"),
                        json={"kind": "smoke", "severity": "high", "point": {"type": "Point", "coordinates": q}})
    assert resp.status_code == 201, resp.text
    incident = resp.json()
    assert incident["zone_code"] == neighbour  # not the team's own area: only the distance brings it in
    counts = _turn(engine, notify_settings)
    assert counts.get("sent", 0) >= 2, counts

    pushed = push_service.messages("leader")
    assert len(pushed) == 1, pushed
    assert pushed[0]["title"].startswith("Καπνός") and f"#{incident['id']}" in pushed[0]["body"]
    text = json.dumps(pushed[0])
    assert f"{q[0]:.3f}"[:6] not in text and f"{q[1]:.3f}"[:6] not in text, "no coordinates in a push payload"
    headers = next(r["headers"] for r in push_service.received if r["to"] == "leader")
    assert headers["topic"] and headers["ttl"] == str(notify_settings.notify_push_ttl)
    mails = [m for m in mailbox.accepted if m["to"] == ["leader.limni@example.org"]]
    assert len(mails) == 1 and mails[0]["subject"].startswith("Καπνός"), mailbox.accepted
    assert "/field" in mails[0]["body"]

    assert push_service.messages("offduty") == []
    assert not [m for m in mailbox.accepted if m["to"] == ["leader2.limni@example.org"]]
    with session_scope(engine) as s:
        rows = s.scalars(select(Notification).where(Notification.user_id == off_duty)).all()
        assert [r.suppressed for r in rows] == ["off_duty"]
        assert s.scalar(select(func.count()).select_from(NotificationDelivery)
                        .where(NotificationDelivery.notification_id == rows[0].id)) == 0
        lamia = s.scalar(select(User.id).where(User.username == "leader.lamia"))
        assert s.scalar(select(func.count()).select_from(Notification).where(Notification.user_id == lamia)) == 0

    again = _turn(engine, notify_settings)
    assert again.get("sent", 0) == 0 and len(push_service.messages("leader")) == 1
    assert len([m for m in mailbox.accepted if m["to"] == ["leader.limni@example.org"]]) == 1
    listed = nclient.get("/api/v1/notifications", headers=sign_in(nclient, "dispatcher.sterea")).json()
    mine = [n for n in listed if n["user_id"] == team.leader_user and n["rule"] == "incident_nearby"]
    assert {d["channel"]: d["status"] for d in mine[0]["deliveries"]} == {"push": "sent", "email": "sent"}


def test_sos_goes_through_quiet_hours_and_a_proposal_waits(nclient, notify_settings, engine, sign_in, team,
                                                           push_service, mailbox):
    from iolaos.notifications.rules import ATHENS

    leader = sign_in(nclient, "leader.limni")
    sub = push_service.subscriber("leader")
    nclient.post("/api/v1/notifications/subscriptions", headers=leader, json=sub.json())
    local = utcnow().astimezone(ATHENS)
    start, end = (local - timedelta(hours=1)).strftime("%H:%M"), (local + timedelta(hours=2)).strftime("%H:%M")
    resp = nclient.put("/api/v1/notifications/preferences", headers=leader,
                       json={"channels": ["push"], "quiet_start": start, "quiet_end": end})
    assert resp.status_code == 200 and resp.json()["quiet_end"] == end
    with session_scope(engine) as s:  # resting too: only life-safety notices reach them now
        s.get(Volunteer, team.leader_volunteer).status = "off_duty"
    _go_out(nclient, sign_in, team, (23.45, 38.80))

    assert nclient.post(f"/api/v1/patrols/{team.patrol_id}/sos", headers=sign_in(nclient, "volunteer.limni"),
                        json={"note": "τραυματισμός στο 38.80,23.45"}).status_code in (200, 201)
    _turn(engine, notify_settings)
    sos = push_service.messages("leader")
    assert len(sos) == 1 and sos[0]["title"] == "SOS" and sos[0]["life_safety"] is True
    assert "38.80" not in json.dumps(sos[0]), "the note typed with the SOS never goes into a push"
    mails = [m for m in mailbox.accepted if m["to"] == ["duty.sterea@example.org"]]
    assert len(mails) == 1 and mails[0]["subject"] == "SOS"  # the dispatcher holding the patrol

    with session_scope(engine) as s:  # a handover to the leader is not life-safety: it waits for the quiet to end
        s.get(Volunteer, team.leader_volunteer).status = "available"
    handed = nclient.post(f"/api/v1/responsibility/patrol/{team.patrol_id}/handover",
                          headers=sign_in(nclient, "dispatcher.sterea"),
                          json={"to_user_id": team.leader_user, "reason": "leader takes the patrol"})
    assert handed.status_code < 300, handed.text
    _turn(engine, notify_settings)
    assert len(push_service.messages("leader")) == 1, "nothing but SOS during quiet hours"
    with session_scope(engine) as s:
        waiting = s.scalar(select(NotificationDelivery).join(Notification).where(Notification.rule == "handover"))
        assert waiting.status == "pending"
        due = waiting.next_attempt_at.astimezone(ATHENS)
    assert due.strftime("%H:%M") == end and due > local
    _turn(engine, notify_settings, clock=lambda: due + timedelta(seconds=1))
    later = push_service.messages("leader")
    assert len(later) == 2 and later[1]["title"].startswith("Σας ανατέθηκε")


def test_a_failing_channel_backs_off_and_gives_up_recorded(nclient, notify_settings, engine, sign_in, team,
                                                           sms_gateway, mailbox):
    settings = notify_settings.model_copy(update={"notify_max_tries": 3, "notify_backoff_seconds": 10.0})
    leader = sign_in(nclient, "leader.limni")
    nclient.put("/api/v1/notifications/preferences", headers=leader, json={"channels": ["sms", "email"]})
    sms_gateway.fail_next(10, 503)
    _go_out(nclient, sign_in, team, (23.45, 38.80))
    nclient.post(f"/api/v1/patrols/{team.patrol_id}/sos", headers=sign_in(nclient, "volunteer.limni"),
                 json={"note": "help"})
    t0 = utcnow()

    def sms_delivery():
        with session_scope(engine) as s:
            return s.scalar(select(NotificationDelivery).join(Notification).where(
                Notification.user_id == team.leader_user, NotificationDelivery.channel == "sms"))

    _turn(engine, settings, clock=lambda: t0)
    first = sms_delivery()
    assert (first.status, first.attempts) == ("pending", 1)
    assert abs((first.next_attempt_at - t0).total_seconds() - 10) < 0.01
    _turn(engine, settings, clock=lambda: t0 + timedelta(seconds=9))  # not due yet
    assert sms_delivery().attempts == 1
    _turn(engine, settings, clock=lambda: t0 + timedelta(seconds=10))
    second = sms_delivery()
    assert second.attempts == 2 and abs((second.next_attempt_at - t0).total_seconds() - 30) < 0.01  # 10 + 2×10
    _turn(engine, settings, clock=lambda: t0 + timedelta(seconds=30))
    final = sms_delivery()
    assert (final.status, final.attempts) == ("failed", 3) and "503" in final.last_error
    _turn(engine, settings, clock=lambda: t0 + timedelta(hours=5))
    with session_scope(engine) as s:
        attempts = attempts_of(s, final.id)
        assert [a.outcome for a in attempts] == ["error", "error", "gave_up"]
        assert all(a.finished_at is not None and "503" in a.detail for a in attempts)
        assert s.scalar(select(func.count()).select_from(DeliveryAttempt)
                        .where(DeliveryAttempt.delivery_id == final.id)) == 3
    assert sms_gateway.messages == type(sms_gateway.messages)()  # every request was refused
    assert len([m for m in mailbox.accepted if m["to"] == ["leader.limni@example.org"]]) == 1  # the other channel


def test_a_gateway_that_recovers_gets_the_text_once(nclient, notify_settings, engine, sign_in, team, sms_gateway):
    leader = sign_in(nclient, "leader.limni")
    nclient.put("/api/v1/notifications/preferences", headers=leader, json={"channels": ["sms"]})
    sms_gateway.fail_next(1, 502)
    _go_out(nclient, sign_in, team, (23.45, 38.80))
    nclient.post(f"/api/v1/patrols/{team.patrol_id}/sos", headers=sign_in(nclient, "volunteer.limni"),
                 json={"note": "help"})
    t0 = utcnow()
    _turn(engine, notify_settings, clock=lambda: t0)
    _turn(engine, notify_settings, clock=lambda: t0 + timedelta(seconds=notify_settings.notify_backoff_seconds))
    _turn(engine, notify_settings, clock=lambda: t0 + timedelta(hours=1))
    texts = [m for m in sms_gateway.messages if m["to"] == "+30 6900000001"]
    assert len(texts) == 1 and texts[0]["text"].startswith("SOS") and texts[0]["reference"].startswith("iolaos-n")
