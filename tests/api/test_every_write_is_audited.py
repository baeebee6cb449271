"""Every mutating route writes its audit record(s) when it succeeds, and none when it fails.

The routes come from the OpenAPI schema, so a new mutating route without a recipe here fails the
test until someone says how to call it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from iolaos.auth.models import User
from iolaos.db import session_scope
from iolaos.journal.models import AuditRecord
from iolaos.organisations.models import Organisation
from iolaos.volunteers.models import Volunteer
from tests.notifications import recipes as notification_recipes
from tests.planning import recipes as planning_recipes
from tests.warnings import recipes as warning_recipes

MANTOUDI = {"type": "Point", "coordinates": [23.45, 38.80]}
STRONG = "correct horse battery staple"


@dataclass
class Call:
    """One request: who makes it, where, with what body."""

    username: str | None
    path: str
    json: dict | None = None
    data: dict | None = None


@dataclass
class Ids:
    """Objects of the demo database the recipes refer to."""

    limni: int
    limni_volunteer: int
    limni_member_user: int
    gscp: int
    dispatcher_sterea: int
    coordinator_mantoudi: int
    engine: object = None


def _ids(engine) -> Ids:
    with session_scope(engine) as s:
        def org(name: str) -> int:
            return s.scalar(select(Organisation.id).where(Organisation.name_en == name))

        def user(name: str) -> int:
            return s.scalar(select(User.id).where(User.username == name))

        limni = org("Limni Evia Forest Volunteers")
        return Ids(limni=limni,
                   limni_volunteer=s.scalar(select(Volunteer.id).where(Volunteer.organisation_id == limni)
                                            .order_by(Volunteer.id.desc())),
                   limni_member_user=user("volunteer.limni"), gscp=org("General Secretariat for Civil Protection"),
                   dispatcher_sterea=user("dispatcher.sterea"), coordinator_mantoudi=user("coordinator.mantoudi"),
                   engine=engine)


def _field_patrol(ids: Ids, client, sign_in, state: str) -> tuple[int, list[int]]:
    """A Limni patrol in Mantoudi with accepted crew, driven through the API to ``state``."""
    from datetime import timedelta

    from iolaos.kit.time import utcnow
    from iolaos.patrols.models import Assignment, Patrol
    from iolaos.zones.models import Zone

    now = utcnow()
    with session_scope(ids.engine) as s:
        zone = s.scalar(select(Zone.id).where(Zone.code == "9153"))
        member = s.scalar(select(User.id).where(User.username == "volunteer.limni"))
        crew = list(s.scalars(select(Volunteer.id).where(Volunteer.user_id == member)))
        patrol = Patrol(zone_id=zone, organisation_id=ids.limni, shift_start=now - timedelta(hours=1),
                        shift_end=now + timedelta(hours=6), crew_size=1, status="planned")
        s.add(patrol)
        s.flush()
        s.add_all([Assignment(patrol_id=patrol.id, volunteer_id=v, status="accepted") for v in crew])
        patrol_id = patrol.id
    leader = sign_in(client, "leader.limni")
    if state in ("checked_in", "active"):
        client.post(f"/api/v1/patrols/{patrol_id}/check-in", headers=leader, json={"volunteer_ids": crew})
    if state == "active":
        client.post(f"/api/v1/patrols/{patrol_id}/start", headers=leader)
    return patrol_id, crew


def _alert(ids: Ids, client, sign_in) -> int:
    patrol_id, _ = _field_patrol(ids, client, sign_in, "active")
    return client.post(f"/api/v1/patrols/{patrol_id}/sos", headers=sign_in(client, "volunteer.limni"),
                       json={"note": "help"}).json()["alert_id"]


def _incident(client, sign_in) -> int:
    resp = client.post("/api/v1/incidents", headers=sign_in(client, "leader.limni"),
                       json={"kind": "smoke", "point": MANTOUDI})
    return resp.json()["id"]


def _acknowledged_incident(client, sign_in) -> int:
    incident = _incident(client, sign_in)
    client.post(f"/api/v1/incidents/{incident}/status", headers=sign_in(client, "dispatcher.sterea"),
                json={"status": "acknowledged"})
    return incident


Recipe = Callable[..., tuple[Call, Call]]

# (method, path) → (successful call, failing call) built from the ids and helpers.
RECIPES: dict[tuple[str, str], Recipe] = {
    ("POST", "/api/v1/auth/token"): lambda ids, pw, c, si: (
        Call(None, "/api/v1/auth/token", data={"username": "leader.limni", "password": pw["leader.limni"]}),
        Call(None, "/api/v1/auth/token", data={"username": "leader.limni", "password": "wrong-password-123"})),
    ("POST", "/api/v1/auth/logout"): lambda ids, pw, c, si: (
        Call("leader.limni", "/api/v1/auth/logout"), Call(None, "/api/v1/auth/logout")),
    ("POST", "/api/v1/auth/password"): lambda ids, pw, c, si: (
        Call("leader.limni", "/api/v1/auth/password", {"current_password": pw["leader.limni"], "new_password": STRONG}),
        Call("leader.limni", "/api/v1/auth/password", {"current_password": "nope", "new_password": STRONG})),
    ("POST", "/api/v1/organisations"): lambda ids, pw, c, si: (
        Call("admin", "/api/v1/organisations", {"kind": "volunteer_org", "name_el": "Νέα Ομάδα",
                                                "name_en": "New Team", "registry_number": "4242",
                                                "action_categories": ["FPA"], "region_code": "GR-H"}),
        Call("leader.limni", "/api/v1/organisations", {"kind": "volunteer_org", "name_el": "Νέα Ομάδα",
                                                       "name_en": "New Team", "registry_number": "4243",
                                                       "action_categories": ["FPA"]})),
    ("PATCH", "/api/v1/organisations/{org_id}"): lambda ids, pw, c, si: (
        Call("admin", f"/api/v1/organisations/{ids.limni}", {"name_en": "Limni Volunteers"}),
        Call("admin", f"/api/v1/organisations/{ids.limni}", {"registry_number": "not-a-number"})),
    ("PUT", "/api/v1/organisations/{org_id}/zones"): lambda ids, pw, c, si: (
        Call("admin", f"/api/v1/organisations/{ids.limni}/zones", {"zone_codes": ["9153", "9150"]}),
        Call("admin", f"/api/v1/organisations/{ids.limni}/zones", {"zone_codes": ["NO-SUCH"]})),
    ("POST", "/api/v1/organisations/{org_id}/users"): lambda ids, pw, c, si: (
        Call("leader.limni", f"/api/v1/organisations/{ids.limni}/users",
             {"username": "new.volunteer", "full_name": "Νέος Εθελοντής", "role": "volunteer", "password": STRONG}),
        Call("leader.limni", f"/api/v1/organisations/{ids.limni}/users",
             {"username": "new.admin", "full_name": "Νέος", "role": "admin", "password": STRONG})),
    ("PATCH", "/api/v1/users/{user_id}"): lambda ids, pw, c, si: (
        Call("leader.limni", f"/api/v1/users/{ids.limni_member_user}", {"phone": "+30 6900000000"}),
        Call("leader.limni", f"/api/v1/users/{ids.limni_member_user}", {"role": "admin"})),
    ("POST", "/api/v1/users/{user_id}/revoke-tokens"): lambda ids, pw, c, si: (
        Call("leader.limni", f"/api/v1/users/{ids.limni_member_user}/revoke-tokens"),
        Call("leader.penteli", f"/api/v1/users/{ids.limni_member_user}/revoke-tokens")),
    ("POST", "/api/v1/volunteers"): lambda ids, pw, c, si: (
        Call("leader.limni", "/api/v1/volunteers", {"full_name": "Άννα Κ.", "skills": [{"skill": "first_aid"}]}),
        Call("leader.limni", "/api/v1/volunteers", {"full_name": "Άννα Κ.", "organisation_id": ids.gscp})),
    ("POST", "/api/v1/organisations/{org_id}/volunteers"): lambda ids, pw, c, si: (
        Call("admin", f"/api/v1/organisations/{ids.limni}/volunteers", {"full_name": "Πέτρος Λ."}),
        Call("leader.penteli", f"/api/v1/organisations/{ids.limni}/volunteers", {"full_name": "Πέτρος Λ."})),
    ("PATCH", "/api/v1/volunteers/{volunteer_id}"): lambda ids, pw, c, si: (
        Call("leader.limni", f"/api/v1/volunteers/{ids.limni_volunteer}", {"status": "off_duty"}),
        Call("leader.limni", f"/api/v1/volunteers/{ids.limni_volunteer}", {"status": "asleep"})),
    ("PUT", "/api/v1/volunteers/{volunteer_id}/skills"): lambda ids, pw, c, si: (
        Call("leader.limni", f"/api/v1/volunteers/{ids.limni_volunteer}/skills", {"skills": [{"skill": "radio"}]}),
        Call("leader.limni", f"/api/v1/volunteers/{ids.limni_volunteer}/skills",
             {"skills": [{"skill": "radio"}, {"skill": "radio"}]})),
    ("PUT", "/api/v1/volunteers/{volunteer_id}/availability"): lambda ids, pw, c, si: (
        Call("leader.limni", f"/api/v1/volunteers/{ids.limni_volunteer}/availability",
             {"availability": [{"starts_at": "2027-06-01T06:00:00+03:00", "ends_at": "2027-06-01T14:00:00+03:00"}]}),
        Call("leader.limni", f"/api/v1/volunteers/{ids.limni_volunteer}/availability",
             {"availability": [{"starts_at": "2027-06-01T06:00:00+03:00", "ends_at": "2027-06-01T05:00:00+03:00"}]})),
    ("POST", "/api/v1/incidents"): lambda ids, pw, c, si: (
        Call("leader.limni", "/api/v1/incidents", {"kind": "smoke", "point": MANTOUDI}),
        Call("leader.limni", "/api/v1/incidents", {"kind": "smoke", "point": MANTOUDI, "status": "closed"})),
    ("POST", "/api/v1/incidents/{incident_id}/status"): lambda ids, pw, c, si: (
        (lambda inc: (Call("dispatcher.sterea", f"/api/v1/incidents/{inc}/status", {"status": "acknowledged"}),
                      Call("dispatcher.sterea", f"/api/v1/incidents/{inc}/status", {"status": "contained"})))
        (_incident(c, si))),
    ("POST", "/api/v1/responsibility/{subject_type}/{subject_id}/handover"): lambda ids, pw, c, si: (
        (lambda inc: (Call("dispatcher.sterea", f"/api/v1/responsibility/incident/{inc}/handover",
                           {"to_user_id": ids.coordinator_mantoudi, "reason": "on-site coordination"}),
                      Call("leader.penteli", f"/api/v1/responsibility/incident/{inc}/handover",
                           {"to_user_id": ids.coordinator_mantoudi, "reason": "not mine"})))
        (_acknowledged_incident(c, si))),
    **planning_recipes.RECIPES,  # risk map, coverage policy, plans, patrols and proposals (issue 6)
    **notification_recipes.RECIPES,  # one's channels and push subscriptions (issue 18)
    **warning_recipes.RECIPES,  # public warnings under authority (issue 15)
    ("POST", "/api/v1/patrols/{patrol_id}/check-in"): lambda ids, pw, c, si: (
        (lambda p: (Call("leader.limni", f"/api/v1/patrols/{p[0]}/check-in", {"volunteer_ids": p[1]}),
                    Call("leader.penteli", f"/api/v1/patrols/{p[0]}/check-in", {"volunteer_ids": p[1]})))
        (_field_patrol(ids, c, si, "accepted"))),
    ("POST", "/api/v1/patrols/{patrol_id}/check-out"): lambda ids, pw, c, si: (
        (lambda p: (Call("leader.limni", f"/api/v1/patrols/{p[0]}/check-out", {"volunteer_ids": p[1]}),
                    Call("leader.limni", f"/api/v1/patrols/{p[0]}/check-out", {"volunteer_ids": []})))
        (_field_patrol(ids, c, si, "checked_in"))),
    ("POST", "/api/v1/patrols/{patrol_id}/start"): lambda ids, pw, c, si: (
        (lambda p: (Call("leader.limni", f"/api/v1/patrols/{p[0]}/start"),
                    Call("reviewer.sterea", f"/api/v1/patrols/{p[0]}/start")))
        (_field_patrol(ids, c, si, "checked_in"))),
    ("POST", "/api/v1/patrols/{patrol_id}/end"): lambda ids, pw, c, si: (
        (lambda p: (Call("leader.limni", f"/api/v1/patrols/{p[0]}/end"),
                    Call("leader.penteli", f"/api/v1/patrols/{p[0]}/end")))
        (_field_patrol(ids, c, si, "active"))),
    ("POST", "/api/v1/patrols/{patrol_id}/field-status"): lambda ids, pw, c, si: (
        (lambda p: (Call("leader.limni", f"/api/v1/patrols/{p[0]}/field-status", {"status": "returning"}),
                    Call("leader.limni", f"/api/v1/patrols/{p[0]}/field-status", {"status": "lost"})))
        (_field_patrol(ids, c, si, "active"))),
    ("POST", "/api/v1/patrols/{patrol_id}/sos"): lambda ids, pw, c, si: (
        (lambda p: (Call("volunteer.limni", f"/api/v1/patrols/{p[0]}/sos", {"note": "injured"}),
                    Call("volunteer.penteli", f"/api/v1/patrols/{p[0]}/sos", {"note": "injured"})))
        (_field_patrol(ids, c, si, "active"))),
    ("POST", "/api/v1/alerts/{alert_id}/acknowledge"): lambda ids, pw, c, si: (
        (lambda a: (Call("dispatcher.sterea", f"/api/v1/alerts/{a}/acknowledge", {"note": "called"}),
                    Call("leader.limni", f"/api/v1/alerts/{a}/acknowledge", {"note": "called"})))
        (_alert(ids, c, si))),
    ("POST", "/api/v1/incidents/{incident_id}/patrols"): lambda ids, pw, c, si: (
        (lambda inc, p: (Call("dispatcher.sterea", f"/api/v1/incidents/{inc}/patrols", {"patrol_id": p[0]}),
                         Call("dispatcher.attica", f"/api/v1/incidents/{inc}/patrols", {"patrol_id": p[0]})))
        (_incident(c, si), _field_patrol(ids, c, si, "active"))),
}

# Writes whose success is recorded elsewhere than in an audit record each, and why.
VOLATILE = {
    ("POST", "/api/v1/positions"): "high-rate position reports are stored in their own table with retention and "
                                   "pushed as volatile live events (docs/architecture.md); a purge is journalled",
}


# Writes that change no stored state, and why.
NOT_STATE_CHANGES = {
    ("POST", "/api/v1/realtime/ticket"): "a single-use websocket ticket living for seconds in memory or Redis",
}


def _mutating_routes(app) -> list[tuple[str, str]]:
    schema = app.openapi()
    return sorted((method.upper(), path) for path, item in schema["paths"].items()
                  for method in item if method in ("post", "put", "patch", "delete"))


def _audit_count(engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(AuditRecord))


def test_every_mutating_route_has_a_recipe(client):
    known = RECIPES.keys() | NOT_STATE_CHANGES.keys() | VOLATILE.keys()
    missing = [r for r in _mutating_routes(client.app) if r not in known]
    assert missing == [], f"add a recipe for {missing}"


@pytest.mark.parametrize("route", sorted(RECIPES), ids=lambda r: f"{r[0]} {r[1]}")
def test_success_is_audited_and_failure_is_not(client, engine, sign_in, demo_passwords, route):
    method, _ = route
    good, bad = RECIPES[route](_ids(engine), demo_passwords, client, sign_in)
    for call in (good, bad):
        call.__dict__["method"] = method
    headers_bad = sign_in(client, bad.username) if bad.username else {}
    before = _audit_count(engine)
    resp = client.request(method, bad.path, headers=headers_bad, json=bad.json, data=bad.data)
    assert resp.status_code >= 400, resp.text
    assert _audit_count(engine) == before, f"failing call {resp.status_code} wrote audit records"
    headers_good = sign_in(client, good.username) if good.username else {}
    before = _audit_count(engine)
    resp = client.request(method, good.path, headers=headers_good, json=good.json, data=good.data)
    assert resp.status_code < 300, resp.text
    with session_scope(engine) as session:
        new = session.scalars(select(AuditRecord.action).where(AuditRecord.seq > before)).all()
    assert new, "a successful change wrote no audit record"
