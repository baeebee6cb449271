"""Public warnings over HTTP: only authorised, explicit publications reach the feed; the CAP lifecycle; ETags."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from iolaos.app import create_app
from iolaos.auth import users
from iolaos.db import session_scope
from iolaos.organisations.models import Organisation
from tests.warnings import capcheck

ATOM = "{http://www.w3.org/2005/Atom}"
SMOKE_AT_PENTELI = (23.88, 38.06)


def _report(client, headers, kind="wildfire", severity="critical", point=SMOKE_AT_PENTELI, description=""):
    body = {"kind": kind, "severity": severity, "description": description,
            "point": {"type": "Point", "coordinates": list(point)}}
    resp = client.post("/api/v1/incidents", json=body, headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


def _feed(client):
    resp = client.get("/api/v1/cap/index.json")
    assert resp.status_code == 200, resp.text
    return resp.json()["messages"]


def _draft_body(incident_id=None, **extra):
    body = {"source": "incident" if incident_id else "risk_map", "hazard": "wildfire", "response_type": "Avoid",
            "area": {"kind": "zones", "zone_codes": ["9176"]},
            "expires": (datetime.now(UTC) + timedelta(hours=6)).isoformat()}
    if incident_id:
        body["incident_id"] = incident_id
    body.update(extra)
    return body


def test_no_report_reaches_the_public_feed_whatever_its_severity(client, sign_in):
    """Acceptance 1: volunteers, leaders, coordinators (and dispatchers) report; the feed stays empty."""
    reporters = ["volunteer.penteli", "leader.penteli", "coordinator.marathon", "dispatcher.attica"]
    made = []
    for username in reporters:
        headers = sign_in(client, username)
        for kind in ("wildfire", "smoke"):
            for severity in ("high", "critical"):
                made.append(_report(client, headers, kind, severity, description=f"{username}: call 6912345678"))
        if username != "dispatcher.attica":
            resp = client.post("/api/v1/warnings", json=_draft_body(made[-1]["id"]), headers=headers)
            assert resp.status_code == 403, resp.text  # no warning.issue: the role may not warn at all
    assert _feed(client) == []
    atom = ET.fromstring(client.get("/api/v1/cap/feed.atom").content)
    assert atom.findall(f"{ATOM}entry") == []
    for incident in made:  # the old per-incident CAP route is gone
        assert client.get(f"/api/v1/cap/incidents/{incident['id']}").status_code == 404
    assert "6912345678" not in client.get("/api/v1/cap/feed.atom").text


def test_draft_publish_update_cancel_over_http(client, sign_in):
    headers = sign_in(client, "dispatcher.attica")
    incident = _report(client, headers, "smoke", "high", description="reporter's words, 6900000000")
    resp = client.post("/api/v1/warnings", json=_draft_body(incident["id"]), headers=headers)
    assert resp.status_code == 201, resp.text
    warning = resp.json()
    assert warning["state"] == "draft" and warning["allowed_actions"] == ["edit", "cancel", "publish"]
    assert _feed(client) == []  # a draft is not public
    preview = client.get(f"/api/v1/warnings/{warning['id']}/preview", headers=headers).json()
    assert preview["msg_type"] == "Alert" and preview["area"]["type"] in ("Polygon", "MultiPolygon")
    capcheck.read(preview["xml"])
    first = client.post(f"/api/v1/warnings/{warning['id']}/publish", json={"revision": 1}, headers=headers)
    assert first.status_code == 200, first.text
    [entry] = _feed(client)
    assert entry["msgType"] == "Alert" and entry["status"] == "Exercise" and entry["references"] == []
    alert = capcheck.read(client.get(entry["url"]).text)
    assert alert.sender == "iolaos-exercise@invalid" and alert.status.value == "Exercise"
    assert [i.language for i in alert.infos] == ["el-GR", "en-US"]
    el, en = alert.infos
    assert el.headline.startswith("Δασική πυρκαγιά") and en.headline.startswith("Wildfire")
    assert "Keep away" in en.instruction and "Μην πλησιάζετε" in el.instruction
    assert [r.value for r in en.response_types] == ["Avoid"]
    assert ("YPES", "9176") in capcheck.geocodes(en.areas[0])
    assert ("NUTS2", "EL30") in capcheck.geocodes(en.areas[0])
    xml = client.get(entry["url"]).text
    assert "6900000000" not in xml and "reporter" not in xml  # the reporter's text never goes out
    again = client.post(f"/api/v1/warnings/{warning['id']}/publish", json={"revision": 1}, headers=headers)
    assert again.status_code == 409 and again.json()["error"] == "nothing_to_update"
    body = _draft_body(None, response_type="Evacuate", area={"kind": "circle", "lon": 23.88, "lat": 38.06,
                                                             "radius_km": 4})
    body.pop("source")
    edited = client.put(f"/api/v1/warnings/{warning['id']}", json=body, headers=headers)
    assert edited.status_code == 200, edited.text
    assert edited.json()["revision"] == 2 and edited.json()["pending_changes"]
    update = client.post(f"/api/v1/warnings/{warning['id']}/publish", json={"revision": 2}, headers=headers)
    assert update.status_code == 200, update.text
    [entry2] = _feed(client)
    assert entry2["msgType"] == "Update" and entry2["identifier"] != entry["identifier"]
    assert entry2["references"] == [f"{entry['sender']},{entry['identifier']},{entry['sent']}"]
    upd = capcheck.read(client.get(entry2["url"]).text)
    assert upd.infos[0].areas[0].circles == ["38.06,23.88 4"]
    cancel = client.post(f"/api/v1/warnings/{warning['id']}/cancel", json={"reason": "contained"}, headers=headers)
    assert cancel.status_code == 200 and cancel.json()["state"] == "cancelled", cancel.text
    [entry3] = _feed(client)  # a cancelled warning stays in the feed for the retention period
    assert entry3["msgType"] == "Cancel" and len(entry3["references"]) == 2 and entry3["state"] == "cancelled"
    cancelled = capcheck.read(client.get(entry3["url"]).text)
    assert [r.value for r in cancelled.infos[1].response_types] == ["AllClear"]
    assert client.get(entry["url"]).status_code == 200  # earlier messages stay readable: references resolve
    history = client.get("/api/v1/warnings", headers=sign_in(client, "reviewer.attica")).json()
    assert [m["msg_type"] for m in history[0]["messages"]] == ["Alert", "Update", "Cancel"]


def test_feed_etag_answers_304_until_something_changes(client, sign_in):
    headers = sign_in(client, "dispatcher.attica")
    first = client.get("/api/v1/cap/feed.atom")
    tag = first.headers["etag"]
    assert client.get("/api/v1/cap/feed.atom", headers={"If-None-Match": tag}).status_code == 304
    index = client.get("/api/v1/cap/index.json")
    assert client.get("/api/v1/cap/index.json", headers={"If-None-Match": index.headers["etag"]}).status_code == 304
    warning = client.post("/api/v1/warnings", json=_draft_body(), headers=headers).json()
    assert client.get("/api/v1/cap/feed.atom", headers={"If-None-Match": tag}).status_code == 304  # drafts: no change
    client.post(f"/api/v1/warnings/{warning['id']}/publish", json={"revision": 1}, headers=headers)
    changed = client.get("/api/v1/cap/feed.atom", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    url = _feed(client)[0]["url"]
    message = client.get(url)
    assert client.get(url, headers={"If-None-Match": message.headers["etag"]}).status_code == 304


def test_who_may_warn(client, sign_in):
    attica = sign_in(client, "dispatcher.attica")
    smoke = _report(client, attica, "smoke", "high")  # led by the Fire Service of Attica
    police = sign_in(client, "officer.police")
    resp = client.post("/api/v1/warnings", json=_draft_body(smoke["id"]), headers=police)
    assert resp.status_code == 403 and resp.json()["error"] == "no_authority"  # not the lead agency
    resp = client.post("/api/v1/warnings", json=_draft_body(), headers=police)
    assert resp.status_code == 403 and resp.json()["error"] == "no_authority"  # the risk map is the fire service's
    sterea = sign_in(client, "dispatcher.sterea")
    assert client.post("/api/v1/warnings", json=_draft_body(smoke["id"]), headers=sterea).status_code == 404
    resp = client.post("/api/v1/warnings", json=_draft_body(), headers=sterea)  # 9176 lies in Attica
    assert resp.status_code == 403 and resp.json()["error"] == "no_authority"
    own = client.post("/api/v1/warnings", json=_draft_body(area={"kind": "zones", "zone_codes": ["9153"]}),
                      headers=sterea)
    assert own.status_code == 201, own.text
    officer = sign_in(client, "officer.attica")  # the lead agency's officer may warn about its incident
    assert client.post("/api/v1/warnings", json=_draft_body(smoke["id"]), headers=officer).status_code == 201
    wid = own.json()["id"]
    assert client.get(f"/api/v1/warnings/{wid}", headers=attica).status_code == 404  # another region's warning
    assert client.get(f"/api/v1/warnings/{wid}", headers=sign_in(client, "leader.lamia")).status_code == 403
    resp = client.post("/api/v1/warnings", headers=attica, json=_draft_body(
        instruction_en="Call 210 123 4567 for help"))
    assert resp.status_code == 422 and resp.json()["error"] == "personal_data"
    resp = client.post("/api/v1/warnings", headers=attica, json=_draft_body(response_type="Prepare"))
    assert resp.status_code == 422  # Prepare does not fit a wildfire under way


@pytest.fixture
def four_eyes_client(db):
    with TestClient(create_app(db.model_copy(update={"warning_four_eyes": True})), raise_server_exceptions=False) as c:
        yield c


def test_four_eyes_needs_another_person_for_each_revision(four_eyes_client, sign_in):
    client = four_eyes_client
    dispatcher, officer = sign_in(client, "dispatcher.attica"), sign_in(client, "officer.attica")
    warning = client.post("/api/v1/warnings", json=_draft_body(), headers=dispatcher).json()
    wid = warning["id"]
    assert warning["needs_approval"] and "approve" in warning["allowed_actions"]
    resp = client.post(f"/api/v1/warnings/{wid}/publish", json={"revision": 1}, headers=dispatcher)
    assert resp.status_code == 409 and resp.json()["error"] == "approval_required"
    resp = client.post(f"/api/v1/warnings/{wid}/approve", json={"revision": 1}, headers=dispatcher)
    assert resp.status_code == 409 and resp.json()["error"] == "four_eyes"
    assert client.post(f"/api/v1/warnings/{wid}/approve", json={"revision": 1}, headers=officer).status_code == 200
    assert client.post(f"/api/v1/warnings/{wid}/publish", json={"revision": 1}, headers=dispatcher).status_code == 200
    body = _draft_body(severity="Extreme")
    body.pop("source")
    assert client.put(f"/api/v1/warnings/{wid}", json=body, headers=dispatcher).status_code == 200
    resp = client.post(f"/api/v1/warnings/{wid}/publish", json={"revision": 2}, headers=dispatcher)
    assert resp.status_code == 409 and resp.json()["error"] == "approval_required"  # each update too
    resp = client.post(f"/api/v1/warnings/{wid}/approve", json={"revision": 1}, headers=officer)
    assert resp.status_code == 409 and resp.json()["error"] == "stale_revision"
    assert client.post(f"/api/v1/warnings/{wid}/approve", json={"revision": 2}, headers=officer).status_code == 200
    assert client.post(f"/api/v1/warnings/{wid}/publish", json={"revision": 2}, headers=dispatcher).status_code == 200
    assert [e["msgType"] for e in _feed(client)] == ["Update"]


def test_expired_warnings_stay_in_the_feed_for_the_retention_period(client, sign_in):
    headers = sign_in(client, "dispatcher.attica")
    start = datetime.now(UTC)
    body = _draft_body(expires=(start + timedelta(hours=2)).isoformat())
    warning = client.post("/api/v1/warnings", json=body, headers=headers).json()
    client.post(f"/api/v1/warnings/{warning['id']}/publish", json={"revision": 1}, headers=headers)
    client.app.state.clock = lambda: start + timedelta(hours=3)
    [entry] = _feed(client)
    assert entry["state"] == "expired"
    resp = client.post(f"/api/v1/warnings/{warning['id']}/cancel", json={"reason": "late"}, headers=headers)
    assert resp.status_code == 409 and resp.json()["error"] == "warning_closed"
    client.app.state.clock = lambda: start + timedelta(hours=2 + 24, minutes=1)
    assert _feed(client) == []


def test_civil_protection_may_warn_anywhere_in_its_reach(client, sign_in):
    admin = sign_in(client, "admin")
    gscp = client.get("/api/v1/auth/me", headers=admin).json()["organisation_id"]
    body = {"username": "dispatcher.gscp", "full_name": "Πολιτική Προστασία", "role": "dispatcher",
            "password": "a long enough password"}
    # An admin may not grant a dispatcher's rights it lacks (docs/security.md): the superuser's path makes it.
    with session_scope(client.app.state.engine) as session:
        users.create_by_superuser(session, username=body["username"], full_name=body["full_name"],
                                  password=body["password"], org=session.get(Organisation, gscp), role="dispatcher")
    token = client.post("/api/v1/auth/token", data={"username": "dispatcher.gscp", "password": body["password"]})
    civil = {"Authorization": f"Bearer {token.json()['access_token']}"}
    fire = _report(client, sign_in(client, "dispatcher.sterea"), "wildfire", "critical", point=(23.45, 38.80))
    resp = client.post("/api/v1/warnings", json=_draft_body(fire["id"], area={"kind": "zones",
                                                                              "zone_codes": ["9153"]}), headers=civil)
    assert resp.status_code == 201, resp.text  # not the lead agency, but civil protection (national)
    resp = client.post("/api/v1/warnings", json=_draft_body(), headers=civil)  # the risk map, in Attica
    assert resp.status_code == 201, resp.text
    wid = resp.json()["id"]
    attica = sign_in(client, "dispatcher.attica")  # the fire service of Attica sees it but may not act on it
    assert client.get(f"/api/v1/warnings/{wid}", headers=attica).status_code == 200  # its area is in Attica
    resp = client.post(f"/api/v1/warnings/{wid}/cancel", json={"reason": "not ours"}, headers=attica)
    assert resp.status_code == 403 and resp.json()["error"] == "no_authority"
    assert client.get(f"/api/v1/warnings/{wid}", headers=sign_in(client, "dispatcher.sterea")).status_code == 404
    done = client.post(f"/api/v1/warnings/{wid}/publish", json={"revision": 1}, headers=civil)
    assert done.status_code == 200, done.text
    assert [e["msgType"] for e in _feed(client)] == ["Alert"]


def test_approve_and_publish_act_on_the_revision_seen_and_answer_the_warning_as_it_is(four_eyes_client, sign_in):
    """The two revision steps share one route helper: both refuse a revision other than the current one with its
    number, and both answer exactly what reading the warning answers afterwards."""
    client = four_eyes_client
    dispatcher, officer = sign_in(client, "dispatcher.attica"), sign_in(client, "officer.attica")
    wid = client.post("/api/v1/warnings", json=_draft_body(), headers=dispatcher).json()["id"]
    for step, headers in (("approve", officer), ("publish", dispatcher)):
        stale = client.post(f"/api/v1/warnings/{wid}/{step}", json={"revision": 2}, headers=headers)
        assert stale.status_code == 409, stale.text
        assert stale.json()["error"] == "stale_revision" and stale.json()["detail"]["revision"] == 1
        done = client.post(f"/api/v1/warnings/{wid}/{step}", json={"revision": 1}, headers=headers)
        assert done.status_code == 200, done.text
        assert done.json() == client.get(f"/api/v1/warnings/{wid}", headers=headers).json()
    assert client.get(f"/api/v1/warnings/{wid}", headers=dispatcher).json()["status"] == "published"
