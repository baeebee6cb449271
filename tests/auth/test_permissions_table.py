"""The permissions table is the single source: the document is rendered from it and the API obeys it."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

from iolaos.auth.permissions import ACTIONS, LEADER_GRANTABLE, PERMISSIONS, ROLES_BY_ORG_KIND, render_markdown
from tests.auth.world import World

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
# One demo account per role.
ROLE_USERS = {
    "admin": "admin", "dispatcher": "dispatcher.attica", "officer": "officer.attica",
    "coordinator": "coordinator.marathon", "reviewer": "reviewer.attica", "leader": "leader.penteli",
    "volunteer": "volunteer.penteli",
}
_serial = itertools.count(1)


def test_the_document_is_the_rendered_table():
    assert DOC.read_text(encoding="utf-8") == render_markdown(), "run `iolaos docs permissions` and commit the result"


def test_the_table_is_well_formed():
    assert set(ROLE_USERS) == set(PERMISSIONS), "every role needs a demo account in ROLE_USERS"
    for role, grants in PERMISSIONS.items():
        assert set(grants) <= set(ACTIONS), role
        assert all(str(scope) in ("self", "own", "tree", "region", "all") for scope in grants.values()), role
    assert {r for roles in ROLES_BY_ORG_KIND.values() for r in roles} == set(PERMISSIONS)
    assert "volunteer.contact" in ACTIONS and "volunteer.location" in ACTIONS  # permissions of their own


def test_me_shows_each_roles_row_of_the_table(client, bearer, world):
    for role, username in ROLE_USERS.items():
        assert world.accounts[username].role == role
        me = client.get("/api/v1/auth/me", headers=bearer(username))
        assert me.status_code == 200, me.text
        assert me.json()["role"] == role
        assert me.json()["permissions"] == {action: str(scope) for action, scope in PERMISSIONS[role].items()}


def _volunteer_org_in_reach(world: World, username: str) -> int:
    """The caller's own organisation if it has volunteers, else one their volunteer.write reaches (else their own)."""
    own = world.org_of(username)
    reach = world.reach(username, "volunteer.write")
    teams = sorted(o for o in reach if world.orgs[o].kind == "volunteer_org")
    return own.id if own.kind == "volunteer_org" or not teams else teams[0]


def _register_volunteer(client, world, username, headers):
    org = _volunteer_org_in_reach(world, username)
    return client.post(f"/api/v1/organisations/{org}/volunteers", json={"full_name": "Ελένη Δοκιμή"}, headers=headers)


def _create_organisation(client, world, username, headers):
    body = {"kind": "municipality", "name_el": "Δήμος Πίνακα", "name_en": f"Table Municipality {next(_serial)}"}
    return client.post("/api/v1/organisations", json=body, headers=headers)


def _create_account(client, world, username, headers):
    own = world.org_of(username)
    roles = [r for r in ROLES_BY_ORG_KIND[own.kind] if r != "admin"]
    if world.accounts[username].role == "leader":
        roles = [r for r in roles if r in LEADER_GRANTABLE]
    body = {"username": f"table.user{next(_serial)}", "full_name": "Νέος Λογαριασμός", "role": roles[-1],
            "password": "twelve chars or more"}
    return client.post(f"/api/v1/organisations/{own.id}/users", json=body, headers=headers)


# action -> a request that needs exactly that action, and the status it answers when allowed.
PROBES: dict[str, tuple[Callable, int]] = {
    "volunteer.write": (_register_volunteer, 201),
    "organisation.write": (_create_organisation, 201),
    "user.write": (_create_account, 201),
}


def test_roles_without_an_action_get_403_and_roles_with_it_succeed(client, bearer, world):
    outcomes = set()
    for (role, username), (action, (probe, allowed)) in itertools.product(ROLE_USERS.items(), PROBES.items()):
        resp = probe(client, world, username, bearer(username))
        expected = allowed if action in PERMISSIONS[role] else 403
        assert resp.status_code == expected, f"{role} {action}: {resp.status_code} {resp.text}"
        if expected == 403:
            assert resp.json()["error"] == "forbidden"
        outcomes.add(expected)
    assert outcomes == {201, 403}  # both sides of every probe were seen


def test_registering_in_your_own_organisation_needs_volunteer_write_and_a_volunteer_organisation(
        client, bearer, world):
    for role, username in ROLE_USERS.items():
        resp = client.post("/api/v1/volunteers", json={"full_name": "Νίκος Δοκιμή"}, headers=bearer(username))
        may = "volunteer.write" in PERMISSIONS[role] and world.org_of(username).kind == "volunteer_org"
        assert resp.status_code == (201 if may else 403), f"{role}: {resp.text}"
        if may:
            assert resp.json()["organisation_id"] == world.org_of(username).id


def test_contact_data_is_shown_only_with_volunteer_contact(client, bearer, world):
    seen = set()
    for role, username in ROLE_USERS.items():
        account = world.accounts[username]
        if PERMISSIONS[role]["volunteer.read"] == "self":
            volunteer = next(v for v, u in world.volunteer_users.items() if u == account.id)
        else:
            volunteer = world.volunteers_of(world.reach(username, "volunteer.read"))[-1]
        resp = client.get(f"/api/v1/volunteers/{volunteer}", headers=bearer(username))
        assert resp.status_code == 200, f"{role}: {resp.text}"
        body = resp.json()
        visible = "volunteer.contact" in PERMISSIONS[role]
        assert body["contact_visible"] is visible, role
        assert (body["phone"] is not None) is visible, role
        assert (body["home_base"] is not None) is visible, role
        seen.add(visible)
    assert seen == {True, False}


def test_a_regional_reviewer_reads_the_whole_region_and_changes_nothing(client, bearer, world):
    headers = bearer("reviewer.attica")
    region = world.reach("reviewer.attica", "volunteer.read")
    listed = client.get("/api/v1/volunteers", params={"limit": 500}, headers=headers).json()
    assert {v["id"] for v in listed} == set(world.volunteers_of(region))
    assert len({v["organisation_id"] for v in listed}) == 6  # the six volunteer organisations of Attica
    orgs = {o["id"] for o in client.get("/api/v1/organisations", params={"limit": 500}, headers=headers).json()}
    assert orgs == region
    some_volunteer, some_org = world.volunteers_of(region)[0], world.org_of("leader.penteli").id
    for method, url, body in [
        ("PATCH", f"/api/v1/volunteers/{some_volunteer}", {"status": "off_duty"}),
        ("PUT", f"/api/v1/volunteers/{some_volunteer}/skills", {"skills": []}),
        ("PATCH", f"/api/v1/organisations/{some_org}", {"name_en": "Renamed"}),
        ("POST", f"/api/v1/organisations/{some_org}/users",
         {"username": "x.y.z", "full_name": "Χ Ψ", "role": "volunteer", "password": "twelve chars ok"}),
        ("PATCH", f"/api/v1/users/{world.accounts['leader.penteli'].id}", {"full_name": "Άλλος"}),
    ]:
        resp = client.request(method, url, json=body, headers=headers)
        assert resp.status_code == 403, f"{method} {url}: {resp.text}"
