"""Handover candidates: the people the caller may hand a subject to, never the current holder."""

from __future__ import annotations


def _report(client, headers):
    resp = client.post("/api/v1/incidents", headers=headers, json={
        "kind": "smoke", "severity": "high", "point": {"type": "Point", "coordinates": [23.45, 38.80]}})
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_candidates_are_who_a_handover_would_accept(client, sign_in):
    incident = _report(client, sign_in(client, "leader.limni"))
    dispatcher = sign_in(client, "dispatcher.sterea")
    base = f"/api/v1/responsibility/incident/{incident['id']}"
    assert client.post(f"/api/v1/incidents/{incident['id']}/status", headers=dispatcher,
                       json={"status": "acknowledged"}).status_code == 200  # the dispatcher takes it
    me = client.get("/api/v1/auth/me", headers=dispatcher).json()
    candidates = client.get(f"{base}/candidates", headers=dispatcher)
    assert candidates.status_code == 200
    people = candidates.json()
    assert people and me["id"] not in {p["user_id"] for p in people}
    assert all(p["role"] in ("admin", "dispatcher", "officer", "coordinator", "leader") for p in people)
    assert all(p["organisation_name"] for p in people)
    target = people[-1]
    handed = client.post(f"{base}/handover", headers=dispatcher, json={"to_user_id": target["user_id"],
                                                                       "reason": "end of shift"})
    assert handed.status_code == 200, handed.text
    assert handed.json()["current"]["holder_user_id"] == target["user_id"]
    # The former holder no longer holds it and has no authority over both sides: nobody to hand to.
    leader = sign_in(client, "leader.limni")
    assert client.get(f"{base}/candidates", headers=leader).json() == []
    assert client.get("/api/v1/responsibility/incident/999999/candidates", headers=dispatcher).status_code == 404
