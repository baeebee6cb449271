"""Calls for tests/api/test_every_write_is_audited.py: one succeeding and one failing call per planning route."""

from __future__ import annotations

from datetime import timedelta

from tests.planning.helpers import category4_day, committed_plan, tomorrow

POLICY_RULE = {"category": 3, "patrols_per_zone": 2, "crew_size": 2, "required_skills": ["driver_4x4"],
               "capability": "prevention", "shifts": ["10:00-14:00", "14:00-18:00"]}


def _call(username, path, json=None):
    from tests.api.test_every_write_is_audited import Call

    return Call(username, path, json)


def risk_levels(ids, pw, c, si):
    """Set a category (good) / an unknown zone (bad)."""
    day = tomorrow().isoformat()
    return (_call("dispatcher.attica", "/api/v1/risk/levels",
                  {"levels": [{"zone_code": "9220", "date": day, "category": 4}]}),
            _call("dispatcher.attica", "/api/v1/risk/levels",
                  {"levels": [{"zone_code": "NOWHERE", "date": day, "category": 4}]}))


def coverage_policy(ids, pw, c, si):
    """Attica's dispatcher edits Attica's policy (good); a leader may not (bad)."""
    return (_call("dispatcher.attica", "/api/v1/coverage/policy", {"rules": [POLICY_RULE]}),
            _call("leader.limni", "/api/v1/coverage/policy", {"rules": [POLICY_RULE]}))


def plans(ids, pw, c, si):
    """Commit a category-4 day (good); a day with nothing to plan (bad)."""
    day = category4_day(c, si)
    return (_call("dispatcher.attica", "/api/v1/plans", {"date": day.isoformat(), "region_code": "GR-I"}),
            _call("dispatcher.attica", "/api/v1/plans", {"date": (day + timedelta(days=3)).isoformat()}))


def _proposal(c, si):
    plan = committed_plan(c, si)
    for patrol in plan["patrols"]:
        for member in patrol["crew"]:
            return plan, patrol, member
    raise AssertionError("no proposal in the demo plan")


def _leader_of(c, si, organisation_id: int) -> str:
    from iolaos.demo.seed import VOLUNTEER_ORGS

    orgs = c.get("/api/v1/organisations", params={"limit": 500}, headers=si(c, "admin")).json()
    name = next(o["name_en"] for o in orgs if o["id"] == organisation_id)
    return next(f"leader.{key}" for key, _, name_en, *_ in VOLUNTEER_ORGS if name_en == name)


def accept(ids, pw, c, si):
    """The volunteer's leader accepts (good); another organisation's leader cannot see it (bad)."""
    _, _, member = _proposal(c, si)
    leader = _leader_of(c, si, member["organisation_id"])
    other = "leader.limni" if leader != "leader.limni" else "leader.penteli"
    path = f"/api/v1/assignments/{member['assignment_id']}/accept"
    return _call(leader, path), _call(other, path)


def decline(ids, pw, c, si):
    """The leader declines with a reason (good); without a real reason (bad)."""
    _, _, member = _proposal(c, si)
    leader = _leader_of(c, si, member["organisation_id"])
    path = f"/api/v1/assignments/{member['assignment_id']}/decline"
    return _call(leader, path, {"reason": "on holiday that week"}), _call(leader, path, {"reason": ""})


def remove(ids, pw, c, si):
    """Attica's dispatcher takes a volunteer off (good); Central Greece's does not see the patrol (bad)."""
    _, _, member = _proposal(c, si)
    path = f"/api/v1/assignments/{member['assignment_id']}/remove"
    return (_call("dispatcher.attica", path, {"reason": "needed at the station"}),
            _call("dispatcher.sterea", path, {"reason": "needed at the station"}))


def cancel(ids, pw, c, si):
    """Attica's dispatcher cancels (good); a leader may not (bad)."""
    _, patrol, _ = _proposal(c, si)
    path = f"/api/v1/patrols/{patrol['patrol_id']}/cancel"
    return _call("dispatcher.attica", path, {"reason": "road closed"}), _call("leader.penteli", path,
                                                                               {"reason": "road closed"})


def override(ids, pw, c, si):
    """The dispatcher puts an idle, available Marathon volunteer on a Marathon patrol (good); an unknown one (bad)."""
    plan = committed_plan(c, si)
    busy = {m["volunteer_id"] for p in plan["patrols"] for m in p["crew"]}
    patrol = next(p for p in plan["patrols"] if p["zone_code"] == "9220" and p["open_places"])
    leader = si(c, "leader.marathon")
    people = c.get("/api/v1/volunteers", params={"limit": 500}, headers=leader).json()
    volunteer = next(v for v in people if v["id"] not in busy and v["status"] != "unavailable")
    start = patrol["shift_start"]
    window = {"starts_at": start.replace("Z", "+00:00"), "ends_at": patrol["shift_end"].replace("Z", "+00:00")}
    resp = c.put(f"/api/v1/volunteers/{volunteer['id']}/availability", json={"availability": [window]},
                 headers=leader)
    assert resp.status_code == 200, resp.text
    path = f"/api/v1/patrols/{patrol['patrol_id']}/crew"
    return (_call("dispatcher.attica", path, {"volunteer_id": volunteer["id"], "reason": "knows the area"}),
            _call("dispatcher.attica", path, {"volunteer_id": 2**31 - 1, "reason": "knows the area"}))


RECIPES = {
    ("POST", "/api/v1/risk/levels"): risk_levels,
    ("PUT", "/api/v1/coverage/policy"): coverage_policy,
    ("POST", "/api/v1/plans"): plans,
    ("POST", "/api/v1/assignments/{assignment_id}/accept"): accept,
    ("POST", "/api/v1/assignments/{assignment_id}/decline"): decline,
    ("POST", "/api/v1/assignments/{assignment_id}/remove"): remove,
    ("POST", "/api/v1/patrols/{patrol_id}/cancel"): cancel,
    ("POST", "/api/v1/patrols/{patrol_id}/crew"): override,
}
