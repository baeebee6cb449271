"""Acceptance 2: an IDOR sweep over every route with an object id, every method, across organisations.

Routes are found by walking the application, so a new route with an id in its path is swept as soon
as it exists; a path parameter this file does not know fails the test until it is mapped below.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select

from iolaos.auth.permissions import LEADER_GRANTABLE, PERMISSIONS, ROLES_BY_ORG_KIND
from iolaos.db import session_scope
from iolaos.demo.seed import VOLUNTEER_ORGS
from iolaos.kit.time import utcnow
from iolaos.organisations.models import Organisation, OrganisationZone
from iolaos.patrols.models import Assignment, Patrol
from iolaos.zones.models import Zone
from tests.auth.routes import Endpoint, endpoints
from tests.auth.world import World, snapshot

# Callers of at least three organisations, two regions and every role that has no nationwide reach.
SWEEPERS = [
    "leader.penteli", "leader.lamia", "volunteer.north_evia", "dispatcher.attica", "dispatcher.sterea",
    "officer.police", "coordinator.marathon", "coordinator.mantoudi", "reviewer.attica", "reviewer.sterea",
]
PER_KIND = 5  # foreign objects of each kind tried per caller
MIN_ATTEMPTS = 500
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
ABSENT_ID = 2**31 - 1

# Path parameter -> the kind of object it names. Add new id parameters here, and for kinds the demo
# does not seed, a step in MAKERS below that makes some for several organisations.
ID_PARAMS = {
    "org_id": "organisation", "user_id": "user", "volunteer_id": "volunteer", "incident_id": "incident",
    "subject_id": "incident",  # with subject_type=incident below
    "patrol_id": "patrol", "assignment_id": "assignment", "alert_id": "alert", "warning_id": "warning",
}
# Path parameters that are not object ids, and the value the sweep gives them.
FIXED_PARAMS = {"subject_type": "incident"}
# Plans committed before the sweep: (region, its dispatcher, zones put at risk category 4 for tomorrow).
PLANNED_REGIONS = [
    ("GR-I", "dispatcher.attica", ["9220", "9176", "9217", "9232"]),
    ("GR-H", "dispatcher.sterea", ["9153", "9150"]),
]
# Incidents reported before the sweep by people of several organisations: (reporter, kind, lon, lat).
INCIDENT_REPORTS = [
    ("dispatcher.attica", "smoke", 23.7348, 37.9755), ("dispatcher.sterea", "wildfire", 23.45, 38.80),
    ("leader.lamia", "road_blocked", 22.42, 38.90), ("leader.penteli", "smoke", 23.88, 38.06),
    ("officer.police", "suspicious_activity", 23.95, 38.15), ("coordinator.mantoudi", "arson", 23.40, 38.85),
]

# (method, path) -> the action the route needs; 403 for roles without it, 404 for foreign objects otherwise.
ROUTE_ACTIONS = {
    ("GET", "/api/v1/organisations/{org_id}"): "organisation.read",
    ("PATCH", "/api/v1/organisations/{org_id}"): "organisation.write",
    ("PUT", "/api/v1/organisations/{org_id}/zones"): "organisation.write",
    ("POST", "/api/v1/organisations/{org_id}/users"): "user.write",
    ("POST", "/api/v1/organisations/{org_id}/volunteers"): "volunteer.write",
    ("GET", "/api/v1/users/{user_id}"): "user.read",
    ("PATCH", "/api/v1/users/{user_id}"): "user.write",
    ("POST", "/api/v1/users/{user_id}/revoke-tokens"): "user.write",
    ("GET", "/api/v1/volunteers/{volunteer_id}"): "volunteer.read",
    ("PATCH", "/api/v1/volunteers/{volunteer_id}"): "volunteer.write",
    ("PUT", "/api/v1/volunteers/{volunteer_id}/skills"): "volunteer.write",
    ("PUT", "/api/v1/volunteers/{volunteer_id}/availability"): "volunteer.write",
    # Field operations (issue 7): the role is checked before the object is looked up.
    ("POST", "/api/v1/patrols/{patrol_id}/check-in"): "patrol.operate",
    ("POST", "/api/v1/patrols/{patrol_id}/check-out"): "patrol.operate",
    ("POST", "/api/v1/patrols/{patrol_id}/start"): "patrol.operate",
    ("POST", "/api/v1/patrols/{patrol_id}/end"): "patrol.operate",
    ("POST", "/api/v1/patrols/{patrol_id}/field-status"): "patrol.operate",
    ("GET", "/api/v1/patrols/{patrol_id}/positions"): "volunteer.location",
    ("POST", "/api/v1/alerts/{alert_id}/acknowledge"): "alert.manage",
    ("POST", "/api/v1/incidents/{incident_id}/patrols"): "incident.manage",
    ("GET", "/api/v1/incidents/{incident_id}/patrols/near"): "incident.read",
    # Recognition statements, built from the journal.
    ("GET", "/api/v1/recognition/volunteers/{volunteer_id}"): "recognition.read",
    ("GET", "/api/v1/recognition/organisations/{org_id}"): "recognition.read",
}
# Volunteer teams (demo keys) sent out on patrol before the sweep, the first of each region also for the
# positive controls; their home municipalities come from the demo seed.
FIELD_TEAMS = ["penteli", "limni", "marathon", "lamia", "north_evia"]
FIELD_HOMES = {key: home for key, _el, _en, _region, home, _cat in VOLUNTEER_ORGS}
# The state a patrol must be in for the positive control of a route (default: active).
POSITIVE_PATROL_STATES = {
    ("POST", "/api/v1/patrols/{patrol_id}/check-in"): "accepted",
    ("POST", "/api/v1/patrols/{patrol_id}/check-out"): "checked_in",
    ("POST", "/api/v1/patrols/{patrol_id}/start"): "checked_in",
}
# Incident kinds an organisation of each kind leads (demo routing rules), for incidents a caller manages.
LEAD_KINDS = {"fire_service": "smoke", "police": "suspicious_activity", "municipality": "road_blocked"}
# The sweep favours these objects of a kind (made by MAKERS) over the rest: kind -> the objects' pseudo-kind.
FAVOURED = {"patrol": "active_patrol"}
_serial = itertools.count(1)


def _user_body(world: World, target: int) -> dict:
    kind = world.orgs[target].kind if target in world.orgs else "volunteer_org"
    # A role the callers may grant (nobody grants permissions they do not hold: issue 16).
    grantable = "reviewer" if "reviewer" in ROLES_BY_ORG_KIND[kind] else "admin"
    role = "volunteer" if kind == "volunteer_org" else grantable
    return {"username": f"idor.probe{next(_serial)}", "full_name": "IDOR Probe", "role": role,
            "password": "correct horse battery staple"}


def _crew_of(world: World, patrol_id: int) -> list[int]:
    """The crew of a patrol made for the sweep (any volunteer for other ids, so the body stays valid)."""
    crew = world.objects.get("patrol_crew", {}).get(patrol_id)
    return sorted(crew) if crew else world.volunteers_of(set(world.orgs))[:1]


def _patrol_to_link(world: World, incident_id: int) -> int:
    """A patrol the caller may see, made along with the incident; for other incidents any patrol."""
    chosen = world.objects.get("incident_patrol", {}).get(incident_id)
    return min(chosen) if chosen else min(world.objects.get("patrol", {1: set()}))


# (method, path) -> a valid body for the target object, so validation never masks authorisation.
BODIES: dict[tuple[str, str], Callable[[World, int], dict | None]] = {
    ("PATCH", "/api/v1/organisations/{org_id}"): lambda w, t: {"name_en": "Renamed by the IDOR sweep"},
    ("PUT", "/api/v1/organisations/{org_id}/zones"): lambda w, t: {"zone_codes": ["GR-I", "9186"]},
    ("POST", "/api/v1/organisations/{org_id}/users"): _user_body,
    ("POST", "/api/v1/organisations/{org_id}/volunteers"): lambda w, t: {"full_name": "IDOR Probe"},
    ("PATCH", "/api/v1/users/{user_id}"): lambda w, t: {"full_name": "IDOR Probe", "phone": "+30 2100000000"},
    ("POST", "/api/v1/users/{user_id}/revoke-tokens"): lambda w, t: None,
    ("PATCH", "/api/v1/volunteers/{volunteer_id}"): lambda w, t: {"status": "off_duty", "full_name": "IDOR Probe"},
    ("PUT", "/api/v1/volunteers/{volunteer_id}/skills"): lambda w, t: {
        "skills": [{"skill": "radio", "valid_until": "2030-01-01"}]},
    ("PUT", "/api/v1/volunteers/{volunteer_id}/availability"): lambda w, t: {
        "availability": [{"starts_at": "2030-07-01T06:00:00Z", "ends_at": "2030-07-01T14:00:00Z"}]},
    ("POST", "/api/v1/incidents/{incident_id}/status"): lambda w, t: {"status": "acknowledged", "note": "probe"},
    ("POST", "/api/v1/responsibility/{subject_type}/{subject_id}/handover"): lambda w, t: {
        "to_user_id": w.accounts["admin"].id, "reason": "IDOR sweep probe"},
    ("POST", "/api/v1/patrols/{patrol_id}/crew"): lambda w, t: {
        "volunteer_id": w.volunteers_of(set(w.orgs))[0], "reason": "IDOR sweep probe"},
    ("POST", "/api/v1/patrols/{patrol_id}/cancel"): lambda w, t: {"reason": "IDOR sweep probe"},
    ("POST", "/api/v1/assignments/{assignment_id}/accept"): lambda w, t: None,
    ("POST", "/api/v1/assignments/{assignment_id}/decline"): lambda w, t: {"reason": "IDOR sweep probe"},
    ("POST", "/api/v1/assignments/{assignment_id}/remove"): lambda w, t: {"reason": "IDOR sweep probe"},
    ("POST", "/api/v1/patrols/{patrol_id}/check-in"): lambda w, t: {"volunteer_ids": _crew_of(w, t)},
    ("POST", "/api/v1/patrols/{patrol_id}/check-out"): lambda w, t: {"volunteer_ids": _crew_of(w, t)},
    ("POST", "/api/v1/patrols/{patrol_id}/start"): lambda w, t: None,
    ("POST", "/api/v1/patrols/{patrol_id}/end"): lambda w, t: None,
    ("POST", "/api/v1/patrols/{patrol_id}/field-status"): lambda w, t: {"status": "needs_help"},
    ("POST", "/api/v1/patrols/{patrol_id}/sos"): lambda w, t: {"note": "IDOR sweep probe"},
    ("POST", "/api/v1/alerts/{alert_id}/acknowledge"): lambda w, t: {"note": "IDOR sweep probe"},
    ("POST", "/api/v1/incidents/{incident_id}/patrols"): lambda w, t: {"patrol_id": _patrol_to_link(w, t)},
    # Public warnings (issue 15).
    ("PUT", "/api/v1/warnings/{warning_id}"): lambda w, t: _warning_body(["9176"]),
    ("POST", "/api/v1/warnings/{warning_id}/approve"): lambda w, t: {"revision": 1},
    ("POST", "/api/v1/warnings/{warning_id}/publish"): lambda w, t: {"revision": 1},
    ("POST", "/api/v1/warnings/{warning_id}/cancel"): lambda w, t: {"reason": "IDOR sweep probe"},
}


def _spread(ids: list[int], n: int) -> list[int]:
    """Up to ``n`` ids spread over the sorted list (first, last and between)."""
    ids = sorted(ids)
    if len(ids) <= n:
        return ids
    step = (len(ids) - 1) / (n - 1)
    return sorted({ids[round(i * step)] for i in range(n)})


def _objects_of(world: World, orgs: set[int], kind: str) -> list[int]:
    if kind == "organisation":
        return sorted(orgs)
    if kind == "user":
        return [a.id for a in world.users_of(orgs)]
    if kind == "volunteer":
        return world.volunteers_of(orgs)
    # Objects made for the sweep are foreign only when every organisation involved is.
    return sorted(i for i, involved in world.objects.get(kind, {}).items() if involved <= orgs)


def _foreign_objects(world: World, username: str, kind: str) -> list[int]:
    """Objects of organisations outside every scope of the caller: two of its own region, the rest elsewhere."""
    foreign = world.foreign(username)
    region = world.org_of(username).region_id
    near = {o for o in foreign if world.orgs[o].region_id == region}
    if kind not in ("organisation", "user", "volunteer"):
        candidates = _objects_of(world, foreign, kind)
        favoured = _spread([i for i in candidates if i in world.objects.get(FAVOURED.get(kind, ""), {})], 3)
        return sorted(favoured + _spread([i for i in candidates if i not in favoured], PER_KIND - len(favoured)))
    picked = _spread(_objects_of(world, near, kind), 2)
    return picked + _spread(_objects_of(world, foreign - near, kind), PER_KIND - len(picked))


def _point_in(client: TestClient, zone_code: str) -> tuple[float, float]:
    """A point inside a zone."""
    with session_scope(client.app.state.engine) as session:
        point = session.scalar(select(Zone).where(Zone.code == zone_code)).geom.representative_point()
    return round(point.x, 6), round(point.y, 6)


def _org_point(client: TestClient, org_id: int) -> tuple[float, float]:
    """A point in the organisation's jurisdiction, else in its region, else in Mantoudi."""
    with session_scope(client.app.state.engine) as session:
        code = session.scalar(select(Zone.code).join(OrganisationZone, OrganisationZone.zone_id == Zone.id)
                              .where(OrganisationZone.organisation_id == org_id).order_by(Zone.id))
        region = session.scalar(select(Zone.code).join(Organisation, Organisation.region_id == Zone.id)
                                .where(Organisation.id == org_id))
    return _point_in(client, code or region or FIELD_HOMES["limni"])


def _team_for(world: World, username: str) -> str:
    """The caller's own volunteer team, else the first field team of the caller's region."""
    org = world.org_of(username)
    if org.kind == "volunteer_org":
        return username.split(".", 1)[1]
    return next(t for t in FIELD_TEAMS if world.org_of(f"leader.{t}").region_id == org.region_id)


def _fresh_patrol(client: TestClient, bearer, world: World, username: str, endpoint: Endpoint) -> int:
    """A patrol in the caller's scope, in the state the route needs."""
    state = POSITIVE_PATROL_STATES.get((endpoint.method, endpoint.path), "active")
    return _field_patrol(client, bearer, world, _team_for(world, username), state)


def _fresh_alert(client: TestClient, bearer, world: World, username: str, endpoint: Endpoint) -> int:
    """An open alert on an active patrol in the caller's scope."""
    team = _team_for(world, username)
    return _raise_sos(client, bearer, world, team, _field_patrol(client, bearer, world, team, "active"))


def _fresh_incident(client: TestClient, bearer, world: World, username: str, endpoint: Endpoint) -> int:
    """An incident the caller sees and, for managing routes, leads: reported by them (or, when their role does
    not report, by someone in their reach) at a point their organisation answers for."""
    account = world.accounts[username]
    reporter = username
    if "incident.report" not in PERMISSIONS[account.role]:
        reach = world.reach(username, "incident.read")
        reporter = next(a.username for a in world.users_of(reach) if "incident.report" in PERMISSIONS[a.role])
    org = world.org_of(reporter)
    lon, lat = _org_point(client, org.id)
    body = {"kind": LEAD_KINDS.get(org.kind, "smoke"), "point": {"type": "Point", "coordinates": [lon, lat]}}
    resp = client.post("/api/v1/incidents", json=body, headers=bearer(reporter))
    assert resp.status_code == 201, resp.text
    incident_id = resp.json()["id"]
    if endpoint.method == "POST":  # linking: a patrol the caller may see
        patrol_id = _field_patrol(client, bearer, world, _team_for(world, username), "active")
        world.objects.setdefault("incident_patrol", {})[incident_id] = {patrol_id}
    return incident_id


# Kinds the positive control makes afresh for each caller and route (their routes change their state).
FRESH = {"patrol": _fresh_patrol, "alert": _fresh_alert, "incident": _fresh_incident}


def _in_scope_object(client: TestClient, bearer, world: World, username: str, endpoint: Endpoint,
                     action: str) -> int:
    """An object the caller may use the route on (not themself where another will do)."""
    kind = ID_PARAMS[_id_param(endpoint)]
    if kind in FRESH:
        return FRESH[kind](client, bearer, world, username, endpoint)
    account = world.accounts[username]
    reach = world.reach(username, action)
    if kind == "organisation":
        orgs = sorted(reach, key=lambda o: (o != account.organisation_id, o))
        if action == "volunteer.write":
            orgs = [o for o in orgs if world.orgs[o].kind == "volunteer_org"]
        return orgs[0]
    if kind == "user":
        if PERMISSIONS[account.role][action] == "self":
            return account.id
        users = [a for a in world.users_of(reach) if a.id != account.id]
        if account.role == "leader" and action == "user.write":
            users = [a for a in users if a.role in LEADER_GRANTABLE]
        return users[0].id if users else account.id
    if PERMISSIONS[account.role][action] == "self":
        return next(v for v, u in world.volunteer_users.items() if u == account.id)
    return world.volunteers_of(reach)[-1]


@dataclass
class Sweep:
    """Counts of the sweep."""

    attempts: int = 0
    forbidden: int = 0
    not_found: int = 0


def _id_param(endpoint: Endpoint) -> str:
    """The one path parameter naming an object."""
    ids = [p for p in endpoint.params if p in ID_PARAMS]
    assert len(ids) == 1, f"{endpoint.method} {endpoint.path}: expected one object id, found {ids}"
    return ids[0]


def _id_routes(client: TestClient) -> list[Endpoint]:
    routes = [e for e in endpoints(client.app) if e.is_api and not e.is_public and e.params]
    unmapped = {(e.method, e.path, p) for e in routes for p in e.params if p not in ID_PARAMS | FIXED_PARAMS}
    assert not unmapped, f"path parameters the IDOR sweep does not know; map them in ID_PARAMS: {unmapped}"
    no_body = {(e.method, e.path) for e in routes if e.method in WRITE_METHODS and (e.method, e.path) not in BODIES}
    assert not no_body, f"write routes without a valid body in BODIES: {no_body}"
    return routes


def _call(client: TestClient, endpoint: Endpoint, world: World, target: int, headers: dict):
    body = BODIES[(endpoint.method, endpoint.path)](world, target) if endpoint.method in WRITE_METHODS else None
    url = endpoint.url(**FIXED_PARAMS, **{_id_param(endpoint): target})
    return client.request(endpoint.method, url, json=body, headers=headers)


def _has_route(client: TestClient, method: str, path: str) -> bool:
    return (method, path) in {(e.method, e.path) for e in endpoints(client.app)}


def _report_incidents(client: TestClient, bearer, world: World) -> None:
    """Incidents reported by people of several organisations."""
    if not _has_route(client, "POST", "/api/v1/incidents"):
        return
    made = world.objects.setdefault("incident", {})
    for reporter, kind, lon, lat in INCIDENT_REPORTS:
        body = {"kind": kind, "point": {"type": "Point", "coordinates": [lon, lat]}, "description": "IDOR fixture"}
        resp = client.post("/api/v1/incidents", json=body, headers=bearer(reporter))
        assert resp.status_code == 201, resp.text
        out = resp.json()
        made[out["id"]] = {out["lead_organisation_id"], out["reporter_organisation_id"],
                           *out["notified_organisation_ids"]}


def _commit_plans(client: TestClient, bearer, world: World) -> None:
    """Patrols and proposals (assignments) of a day in Attica and in Central Greece."""
    if not _has_route(client, "POST", "/api/v1/plans"):
        return
    day = (datetime.now(ZoneInfo("Europe/Athens")) + timedelta(days=1)).date().isoformat()
    for region, dispatcher, zones in PLANNED_REGIONS:
        levels = {"levels": [{"zone_code": z, "date": day, "category": 4} for z in zones]}
        assert client.post("/api/v1/risk/levels", json=levels, headers=bearer(dispatcher)).status_code == 201
        plan = client.post("/api/v1/plans", json={"date": day, "region_code": region}, headers=bearer(dispatcher))
        assert plan.status_code == 201, plan.text
        for patrol in plan.json()["patrols"]:
            involved = world.region_orgs(region) | {m["organisation_id"] for m in patrol["crew"]}
            involved |= {patrol["executing_organisation_id"]} - {None}
            world.objects.setdefault("patrol", {})[patrol["patrol_id"]] = involved
            for member in patrol["crew"]:
                world.objects.setdefault("assignment", {})[member["assignment_id"]] = involved


def _field_patrol(client: TestClient, bearer, world: World, team: str, state: str) -> int:
    """A patrol of a demo volunteer team (its key in the demo seed) in its home municipality, driven to ``state``.

    Made in the database like the field tests' fixture (accepted crew: the team's member account and one
    more volunteer), then checked in and started over the API by the team's leader.
    """
    org = world.org_of(f"leader.{team}")
    member = next(v for v, u in world.volunteer_users.items() if u == world.accounts[f"volunteer.{team}"].id)
    other = next(v for v in world.volunteers.get(org.id, []) if v not in world.volunteer_users)
    crew, now = [member, other], utcnow()
    with session_scope(client.app.state.engine) as session:
        # One crew cannot be on two patrols at once (the rest rule): earlier fixture patrols of this crew are
        # moved days back, as if worked then, so each fresh patrol starts from a rested crew.
        earlier = session.scalars(select(Assignment).where(Assignment.volunteer_id.in_(crew)).order_by(Assignment.id))
        for i, assignment in enumerate(earlier):  # each its own hour, twelve hours apart
            assignment.status, assignment.checked_in_at = "checked_out", now - timedelta(days=3, hours=12 * i)
            assignment.checked_out_at = assignment.checked_in_at + timedelta(hours=1)
        zone = session.scalar(select(Zone.id).where(Zone.code == FIELD_HOMES[team]))
        patrol = Patrol(zone_id=zone, organisation_id=org.id, shift_start=now - timedelta(hours=1),
                        shift_end=now + timedelta(hours=6), crew_size=2, risk_category=4, status="planned")
        session.add(patrol)
        session.flush()
        session.add_all([Assignment(patrol_id=patrol.id, volunteer_id=v, status="accepted") for v in crew])
        patrol_id = int(patrol.id)
    base, leader = f"/api/v1/patrols/{patrol_id}", bearer(f"leader.{team}")
    if state in ("checked_in", "active"):
        checked = client.post(f"{base}/check-in", json={"volunteer_ids": crew}, headers=leader)
        assert checked.status_code == 200, checked.text
    if state == "active":
        started = client.post(f"{base}/start", headers=leader)
        assert started.status_code == 200, started.text
    involved = {o.id for o in world.orgs.values() if o.region_id == org.region_id} | {org.id}
    world.objects.setdefault("patrol", {})[patrol_id] = involved
    world.objects.setdefault("patrol_crew", {})[patrol_id] = set(crew)
    if state == "active":
        world.objects.setdefault("active_patrol", {})[patrol_id] = involved
    return patrol_id


def _raise_sos(client: TestClient, bearer, world: World, team: str, patrol_id: int) -> int:
    """An open SOS alert raised by the team's crew member; recorded with the patrol's organisations."""
    resp = client.post(f"/api/v1/patrols/{patrol_id}/sos", json={"note": "IDOR fixture"},
                       headers=bearer(f"volunteer.{team}"))
    assert resp.status_code == 200 and resp.json()["raised"], resp.text
    alert_id = resp.json()["alert_id"]
    world.objects.setdefault("alert", {})[alert_id] = world.objects["patrol"][patrol_id]
    return alert_id


def _field_operations(client: TestClient, bearer, world: World) -> None:
    """Active patrols with checked-in crews, a position each, and open SOS alerts, for several organisations."""
    if not _has_route(client, "POST", "/api/v1/patrols/{patrol_id}/start"):
        return
    for team in FIELD_TEAMS:
        patrol_id = _field_patrol(client, bearer, world, team, "active")
        lon, lat = _point_in(client, FIELD_HOMES[team])
        report = {"patrol_id": patrol_id, "at": utcnow().isoformat(), "lon": lon, "lat": lat}
        resp = client.post("/api/v1/positions", json={"reports": [report]}, headers=bearer(f"volunteer.{team}"))
        assert resp.status_code == 200 and resp.json()["accepted"] == 1, resp.text
        _raise_sos(client, bearer, world, team, patrol_id)
        _field_patrol(client, bearer, world, team, "checked_in")


def _warning_body(zone_codes: list[str]) -> dict:
    """A valid warning content over the given zones, expiring in six hours."""
    expires = (utcnow() + timedelta(hours=6)).isoformat()
    return {"hazard": "fire_risk", "response_type": "Prepare", "area": {"kind": "zones", "zone_codes": zone_codes},
            "expires": expires}


def _draft_warnings(client: TestClient, bearer, world: World) -> None:
    """Warning drafts from the risk map by the fire service of each region (one published)."""
    if not _has_route(client, "POST", "/api/v1/warnings"):
        return
    for dispatcher, zones in (("dispatcher.attica", ["9176"]), ("dispatcher.sterea", ["9153"])):
        for publish in (False, True):
            resp = client.post("/api/v1/warnings", json={"source": "risk_map", **_warning_body(zones)},
                               headers=bearer(dispatcher))
            assert resp.status_code == 201, resp.text
            if publish:
                done = client.post(f"/api/v1/warnings/{resp.json()['id']}/publish", json={"revision": 1},
                                   headers=bearer(dispatcher))
                assert done.status_code == 200, done.text
            world.objects.setdefault("warning", {})[resp.json()["id"]] = {resp.json()["organisation_id"]}


# Steps that make objects of kinds the demo does not seed, run before the sweep.
MAKERS = [_report_incidents, _commit_plans, _field_operations, _draft_warnings]


def _expected(world: World, username: str, endpoint: Endpoint) -> set[int]:
    action = ROUTE_ACTIONS.get((endpoint.method, endpoint.path))
    if action is None:
        return {403, 404}
    return {404} if action in PERMISSIONS[world.accounts[username].role] else {403}


def test_idor_sweep_finds_no_cross_organisation_access(client, bearer, world, engine):
    routes = _id_routes(client)
    assert len(routes) >= 12
    for make in MAKERS:
        make(client, bearer, world)
    tokens = {u: bearer(u) for u in SWEEPERS}
    orgs_swept = {world.accounts[u].organisation_id for u in SWEEPERS}
    assert len(orgs_swept) >= 3
    before = snapshot(engine)
    sweep = Sweep()
    for username, endpoint in itertools.product(SWEEPERS, routes):
        expected = _expected(world, username, endpoint)
        absent = _call(client, endpoint, world, ABSENT_ID, tokens[username])
        targets = _foreign_objects(world, username, ID_PARAMS[_id_param(endpoint)])
        assert targets, f"no foreign objects for {username} on {endpoint.path}"
        for target in targets:
            resp = _call(client, endpoint, world, target, tokens[username])
            where = f"{username} {endpoint.method} {endpoint.path} with id {target}"
            assert resp.status_code in expected, f"{where}: {resp.status_code} {resp.text[:300]}"
            # A foreign object is indistinguishable from one that does not exist.
            assert (resp.status_code, resp.json()) == (absent.status_code, absent.json()), where
            sweep.attempts += 1
            sweep.forbidden += resp.status_code == 403
            sweep.not_found += resp.status_code == 404
    assert sweep.attempts >= MIN_ATTEMPTS, sweep
    assert sweep.not_found >= 150, sweep  # most attempts reach the lookup, not just the role check
    assert snapshot(engine) == before, "a refused request changed stored data or wrote to the journal"
    print(f"IDOR sweep: {sweep}")


def test_the_same_callers_reach_their_own_objects(client, bearer, world):
    """Positive control: with the same routes and bodies, objects in scope answer 2xx."""
    routes = _id_routes(client)
    callers = [*SWEEPERS, "admin"]  # admin holds organisation.write, which no sweeper has
    tokens = {u: bearer(u) for u in callers}
    covered: set[tuple[str, str]] = set()
    revokes: list[tuple[str, Endpoint]] = []
    for username, endpoint in itertools.product(callers, routes):
        action = ROUTE_ACTIONS.get((endpoint.method, endpoint.path))
        if action is None or action not in PERMISSIONS[world.accounts[username].role]:
            continue
        if endpoint.path.endswith("/revoke-tokens"):
            revokes.append((username, endpoint))  # last: it signs the target out
            continue
        target = _in_scope_object(client, bearer, world, username, endpoint, action)
        resp = _call(client, endpoint, world, target, tokens[username])
        assert 200 <= resp.status_code < 300, f"{username} {endpoint.method} {endpoint.path} on {target}: {resp.text}"
        covered.add((endpoint.method, endpoint.path))
    for username, endpoint in revokes:
        target = _in_scope_object(client, bearer, world, username, endpoint, "user.write")
        resp = _call(client, endpoint, world, target, tokens[username])
        assert resp.status_code == 200, resp.text
        covered.add((endpoint.method, endpoint.path))
    assert covered == {k for k in ROUTE_ACTIONS if k in {(e.method, e.path) for e in routes}}


def test_list_filters_do_not_open_foreign_organisations(client, bearer, world):
    for username in SWEEPERS:
        headers = bearer(username)
        for org_id in _foreign_objects(world, username, "organisation"):
            for path in ("/api/v1/volunteers", "/api/v1/users"):
                resp = client.get(path, params={"organisation_id": org_id}, headers=headers)
                assert resp.status_code == 200, resp.text
                assert resp.json() == [], f"{username} {path}?organisation_id={org_id}"
        orgs = client.get("/api/v1/organisations", params={"limit": 500}, headers=headers).json()
        assert not {o["id"] for o in orgs} & world.foreign(username), username
