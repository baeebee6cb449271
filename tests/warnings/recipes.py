"""Calls for tests/api/test_every_write_is_audited.py: one succeeding and one failing call per warning route."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

ISSUER, SECOND = "dispatcher.attica", "officer.attica"  # the same fire command: four-eyes needs two people
PENTELI = [23.87, 38.06]


def _call(username, path, json=None):
    from tests.api.test_every_write_is_audited import Call

    return Call(username, path, json)


def _content(**extra) -> dict:
    return {"hazard": "wildfire", "response_type": "Avoid", "area": {"kind": "zones", "zone_codes": ["9176"]},
            "expires": (datetime.now(UTC) + timedelta(hours=6)).isoformat(), **extra}


def _incident(c, si) -> int:
    resp = c.post("/api/v1/incidents", headers=si(c, ISSUER), json={
        "kind": "wildfire", "severity": "critical", "point": {"type": "Point", "coordinates": PENTELI}})
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def _draft(c, si) -> int:
    resp = c.post("/api/v1/warnings", headers=si(c, ISSUER),
                  json={"source": "incident", "incident_id": _incident(c, si), **_content()})
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def draft(ids, pw, c, si):
    """Draft from an incident the caller's agency leads (good) / with an expiry in the past (bad)."""
    incident = _incident(c, si)
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    return (_call(ISSUER, "/api/v1/warnings", {"source": "incident", "incident_id": incident, **_content()}),
            _call(ISSUER, "/api/v1/warnings", {"source": "incident", "incident_id": incident,
                                               **_content(expires=past)}))


def edit(ids, pw, c, si):
    """A new revision (good) / an area of unknown zones (bad)."""
    warning = _draft(c, si)
    return (_call(ISSUER, f"/api/v1/warnings/{warning}", _content(instruction_el="Απομακρυνθείτε από την περιοχή.")),
            _call(ISSUER, f"/api/v1/warnings/{warning}", _content(area={"kind": "zones", "zone_codes": ["nowhere"]})))


def approve(ids, pw, c, si):
    """A second person approves the revision (good) / the author approves their own (bad)."""
    warning = _draft(c, si)
    return (_call(SECOND, f"/api/v1/warnings/{warning}/approve", {"revision": 1}),
            _call(ISSUER, f"/api/v1/warnings/{warning}/approve", {"revision": 1}))


def publish(ids, pw, c, si):
    """Publish the revision seen (good) / a revision that does not exist (bad)."""
    warning = _draft(c, si)
    return (_call(ISSUER, f"/api/v1/warnings/{warning}/publish", {"revision": 1}),
            _call(ISSUER, f"/api/v1/warnings/{warning}/publish", {"revision": 99}))


def cancel(ids, pw, c, si):
    """Cancel with a reason (good) / by a leader, who may not warn (bad)."""
    warning = _draft(c, si)
    return (_call(ISSUER, f"/api/v1/warnings/{warning}/cancel", {"reason": "contained"}),
            _call("leader.penteli", f"/api/v1/warnings/{warning}/cancel", {"reason": "contained"}))


RECIPES = {
    ("POST", "/api/v1/warnings"): draft,
    ("PUT", "/api/v1/warnings/{warning_id}"): edit,
    ("POST", "/api/v1/warnings/{warning_id}/approve"): approve,
    ("POST", "/api/v1/warnings/{warning_id}/publish"): publish,
    ("POST", "/api/v1/warnings/{warning_id}/cancel"): cancel,
}
