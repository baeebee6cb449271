"""Field operations: lifecycle transitions, consent-scoped positions, retention, and safety alerts."""

from __future__ import annotations

from datetime import timedelta

from shapely.geometry import Point
from sqlalchemy import func, select

from iolaos.db import session_scope
from iolaos.field import jobs
from iolaos.field.models import PositionReport, SafetyAlert
from iolaos.kit.time import utcnow

IN_MANTOUDI = (23.45, 38.80)
IN_ATHENS = (23.7348, 37.9755)


def _post(client, headers, url, body=None):
    return client.post(url, headers=headers, json=body if body is not None else {})


def _positions(engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(PositionReport))


def _report(client, headers, patrol_id, point, at=None):
    at = at or utcnow()
    return _post(client, headers, "/api/v1/positions", {"reports": [
        {"patrol_id": patrol_id, "at": at.isoformat(), "lon": point[0], "lat": point[1], "accuracy_m": 12}]})


def _go_out(client, leader, crew):
    base = f"/api/v1/patrols/{crew.patrol_id}"
    assert _post(client, leader, f"{base}/check-in", {"volunteer_ids": crew.volunteer_ids}).status_code == 200
    resp = _post(client, leader, f"{base}/start")
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_lifecycle_allows_only_legal_moves(client, sign_in, crew):
    leader = sign_in(client, "leader.limni")
    base = f"/api/v1/patrols/{crew.patrol_id}"
    early = _post(client, leader, f"{base}/end")
    assert early.status_code == 409 and "end" not in early.json()["detail"]["allowed"]
    assert "start" in early.json()["detail"]["allowed"]
    no_crew = _post(client, leader, f"{base}/start")
    assert no_crew.status_code == 409 and no_crew.json()["error"] == "crew_not_ready"
    assert no_crew.json()["detail"]["rules"] == ["minimum_crew"]
    out_first = _post(client, leader, f"{base}/check-out", {"volunteer_ids": crew.volunteer_ids[:1]})
    assert out_first.status_code == 409 and out_first.json()["detail"]["allowed"] == ["checked_in"]
    assert _go_out(client, leader, crew)["status"] == "active"
    assert _post(client, leader, f"{base}/field-status", {"status": "returning"}).status_code == 200
    assert _post(client, leader, f"{base}/start").status_code == 409
    ended = _post(client, leader, f"{base}/end")
    assert ended.status_code == 200 and ended.json()["status"] == "completed"
    again = _post(client, leader, f"{base}/end")
    assert again.status_code == 409 and again.json()["detail"]["allowed"] == []


def test_outsiders_cannot_operate_the_patrol(client, sign_in, crew):
    base = f"/api/v1/patrols/{crew.patrol_id}"
    assert _post(client, sign_in(client, "leader.penteli"), f"{base}/check-in",
                 {"volunteer_ids": crew.volunteer_ids}).status_code == 404
    assert _post(client, sign_in(client, "dispatcher.attica"), f"{base}/start").status_code == 404
    assert _post(client, sign_in(client, "reviewer.sterea"), f"{base}/start").status_code == 403


def test_positions_only_from_crew_on_an_active_patrol(client, engine, sign_in, crew):
    member = sign_in(client, "volunteer.limni")
    before = _report(client, member, crew.patrol_id, IN_MANTOUDI)
    assert before.status_code == 200 and before.json()["accepted"] == 0
    assert "Δεν έχει παρουσιαστεί" in before.json()["rejected"][0]["reason"]  # Greek unless asked otherwise
    assert _positions(engine) == 0
    _go_out(client, sign_in(client, "leader.limni"), crew)
    assert _report(client, member, crew.patrol_id, IN_MANTOUDI).json()["accepted"] == 1
    stranger = _report(client, sign_in(client, "volunteer.penteli"), crew.patrol_id, IN_MANTOUDI)
    assert stranger.json()["accepted"] == 0
    future = _report(client, {**member, "Accept-Language": "en"}, crew.patrol_id, IN_MANTOUDI,
                     at=utcnow() + timedelta(hours=1))
    assert future.status_code == 422 and future.json()["error"] == "outside_active_window"
    assert future.json()["detail"]["rejected"][0]["reason"] == "time is in the future"
    assert _positions(engine) == 1
    track = client.get(f"/api/v1/patrols/{crew.patrol_id}/positions", headers=sign_in(client, "dispatcher.sterea"))
    assert track.status_code == 200 and len(track.json()) == 1
    denied = client.get(f"/api/v1/patrols/{crew.patrol_id}/positions", headers=sign_in(client, "reviewer.sterea"))
    assert denied.status_code == 403  # seeing locations is a permission of its own


def test_purge_leaves_nothing_older_than_retention(client, engine, sign_in, crew, db):
    _go_out(client, sign_in(client, "leader.limni"), crew)
    now = utcnow()
    with session_scope(engine) as session:
        for days in (1, 29, 31, 60):
            session.add(PositionReport(patrol_id=crew.patrol_id, volunteer_id=crew.member_volunteer_id,
                                       at=now - timedelta(days=days), point=Point(*IN_MANTOUDI)))
    counts = jobs.purge(engine, db.model_copy(update={"position_retention_days": 30}), now=now)
    assert counts["positions"] == 2
    with session_scope(engine) as session:
        oldest = session.scalar(select(func.min(PositionReport.at)))
    assert oldest >= now - timedelta(days=30)


def _alerts(engine, kind):
    with session_scope(engine) as session:
        return session.scalars(select(SafetyAlert).where(SafetyAlert.kind == kind)).all()


def test_out_of_zone_alert_fires_once(client, engine, sign_in, crew):
    _go_out(client, sign_in(client, "leader.limni"), crew)
    member = sign_in(client, "volunteer.limni")
    assert _report(client, member, crew.patrol_id, IN_MANTOUDI).json()["accepted"] == 1
    assert _alerts(engine, "out_of_zone") == []
    for _ in range(2):
        assert _report(client, member, crew.patrol_id, IN_ATHENS).json()["accepted"] == 1
    raised = _alerts(engine, "out_of_zone")
    assert len(raised) == 1 and raised[0].status == "open"


def test_lost_contact_is_driven_by_the_clock_and_acknowledged(client, engine, sign_in, crew, db):
    _go_out(client, sign_in(client, "leader.limni"), crew)
    at = utcnow()
    _report(client, sign_in(client, "volunteer.limni"), crew.patrol_id, IN_MANTOUDI, at=at)
    assert jobs.sweep(engine, db, now=at + timedelta(minutes=14)) == 0
    assert jobs.sweep(engine, db, now=at + timedelta(minutes=16)) == 1
    assert jobs.sweep(engine, db, now=at + timedelta(minutes=30)) == 0  # one open alert per kind
    alert = _alerts(engine, "lost_contact")[0]
    leader_try = _post(client, sign_in(client, "leader.limni"), f"/api/v1/alerts/{alert.id}/acknowledge")
    assert leader_try.status_code == 403
    dispatcher = sign_in(client, "dispatcher.sterea")
    listed = client.get("/api/v1/alerts", headers=dispatcher, params={"status": "open"}).json()
    assert [a["kind"] for a in listed] == ["lost_contact"]
    ack = _post(client, dispatcher, f"/api/v1/alerts/{alert.id}/acknowledge", {"note": "called the leader"})
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    assert _post(client, dispatcher, f"/api/v1/alerts/{alert.id}/acknowledge").status_code == 409
    assert client.get("/api/v1/alerts", headers=sign_in(client, "dispatcher.attica")).json() == []


def test_sos_from_a_crew_member(client, engine, sign_in, crew):
    _go_out(client, sign_in(client, "leader.limni"), crew)
    member = sign_in(client, "volunteer.limni")
    first = _post(client, member, f"/api/v1/patrols/{crew.patrol_id}/sos", {"note": "τραυματισμός"})
    assert first.status_code == 200 and first.json()["raised"] is True
    assert _post(client, member, f"/api/v1/patrols/{crew.patrol_id}/sos").json()["raised"] is False
    assert len(_alerts(engine, "sos")) == 1
    assert _post(client, sign_in(client, "volunteer.penteli"), f"/api/v1/patrols/{crew.patrol_id}/sos").status_code \
        == 404


def test_patrols_near_an_incident_and_linking(client, sign_in, crew):
    _go_out(client, sign_in(client, "leader.limni"), crew)
    _report(client, sign_in(client, "volunteer.limni"), crew.patrol_id, IN_MANTOUDI)
    incident = client.post("/api/v1/incidents", headers=sign_in(client, "leader.limni"),
                           json={"kind": "smoke", "point": {"type": "Point", "coordinates": [23.46, 38.81]}}).json()
    dispatcher = sign_in(client, "dispatcher.sterea")
    near = client.get(f"/api/v1/incidents/{incident['id']}/patrols/near", headers=dispatcher,
                      params={"radius_km": 5}).json()
    assert [n["patrol_id"] for n in near] == [crew.patrol_id] and near[0]["by"] == "position"
    assert near[0]["distance_km"] < 2
    far = client.get(f"/api/v1/incidents/{incident['id']}/patrols/near", headers=dispatcher,
                     params={"radius_km": 0.1}).json()
    assert far == []
    linked = _post(client, dispatcher, f"/api/v1/incidents/{incident['id']}/patrols", {"patrol_id": crew.patrol_id})
    assert linked.status_code == 200 and linked.json()["patrol_ids"] == [crew.patrol_id]
    assert _post(client, dispatcher, f"/api/v1/incidents/{incident['id']}/patrols",
                 {"patrol_id": crew.patrol_id}).status_code == 409


def test_sos_only_from_the_crew_and_those_who_operate_the_patrol(client, sign_in, crew):
    _go_out(client, sign_in(client, "leader.limni"), crew)
    url = f"/api/v1/patrols/{crew.patrol_id}/sos"
    for onlooker in ("reviewer.sterea", "coordinator.mantoudi"):  # they see the patrol but do not operate it
        assert _post(client, sign_in(client, onlooker), url).status_code == 403, onlooker
    assert _post(client, sign_in(client, "officer.attica"), url).status_code == 404  # another region's patrol
    raised = _post(client, sign_in(client, "leader.limni"), url, {"note": "no answer on the radio"})
    assert raised.status_code == 200 and raised.json()["raised"] is True
