"""Acceptance 5: fields a client may not set (organisation, role, created-by, hashes, ids) are refused, never stored."""

from __future__ import annotations

import pytest

from tests.auth.world import World, snapshot

FORBIDDEN_EVERYWHERE = {
    "id": 4242, "created_by": 1, "created_at": "2020-01-01T00:00:00Z", "updated_at": "2020-01-01T00:00:00Z",
}


def _cases(world: World) -> list[tuple[str, str, str, dict, dict]]:
    """(caller, method, url, valid body, extra fields) for every writing route that takes a body."""
    penteli, lamia = world.org_of("leader.penteli").id, world.org_of("leader.lamia").id
    member = world.accounts["volunteer.penteli"].id
    volunteer = world.volunteers[penteli][5]
    admin = world.accounts["admin"].id
    return [
        ("leader.penteli", "POST", "/api/v1/volunteers", {"full_name": "Νέα Εθελόντρια"},
         {"organisation_id": lamia, "contact_visible": True}),
        ("leader.penteli", "PATCH", f"/api/v1/volunteers/{volunteer}", {"status": "off_duty"},
         {"organisation_id": lamia, "user_id": admin, "national_id": "AB123456"}),
        ("leader.penteli", "PATCH", f"/api/v1/users/{member}", {"full_name": "Άλλο Όνομα"},
         {"organisation_id": lamia, "password_hash": "$argon2id$v=19$forged", "username": "admin2",
          "token_hash": "0" * 64}),
        ("leader.penteli", "POST", f"/api/v1/organisations/{penteli}/users",
         {"username": "new.member", "full_name": "Νέο Μέλος", "role": "volunteer", "password": "twelve chars ok"},
         {"organisation_id": lamia, "password_hash": "$argon2id$v=19$forged", "is_active": False}),
        ("admin", "POST", "/api/v1/organisations",
         {"kind": "municipality", "name_el": "Δήμος Δοκιμής", "name_en": "Test Municipality", "region_code": "GR-I"},
         {"region_id": 1, "active": False}),
        ("admin", "PATCH", f"/api/v1/organisations/{penteli}", {"name_en": "Penteli Volunteers"},
         {"kind": "police", "parent_id": lamia, "region_id": 1}),
    ]


def test_fields_a_client_may_not_set_are_rejected_and_nothing_is_stored(client, bearer, world, engine):
    tokens = {u: bearer(u) for u in ("leader.penteli", "admin")}
    before = snapshot(engine)
    attempts = 0
    for caller, method, url, body, extras in _cases(world):
        for field, value in (extras | FORBIDDEN_EVERYWHERE).items():
            resp = client.request(method, url, json=body | {field: value},  # pydantic's own (English) messages
                                  headers={**tokens[caller], "Accept-Language": "en"})
            where = f"{caller} {method} {url} with {field}"
            assert resp.status_code == 422, f"{where}: {resp.status_code} {resp.text}"
            error = resp.json()
            assert error["error"] == "validation_error", where
            assert {"loc": ["body", field], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"} \
                in error["detail"], where
            attempts += 1
    assert attempts >= 40
    assert snapshot(engine) == before


def test_the_same_bodies_without_the_extra_fields_are_accepted(client, bearer, world):
    """Control: the rejections above are about the extra fields, not the bodies."""
    tokens = {u: bearer(u) for u in ("leader.penteli", "admin")}
    for caller, method, url, body, _ in _cases(world):
        resp = client.request(method, url, json=body, headers=tokens[caller])
        assert 200 <= resp.status_code < 300, f"{caller} {method} {url}: {resp.text}"


def test_the_organisation_comes_from_the_callers_membership(client, bearer, world, engine):
    penteli = world.org_of("leader.penteli").id
    headers = bearer("leader.penteli")
    volunteer = client.post("/api/v1/volunteers", json={"full_name": "Από Πεντέλη"}, headers=headers).json()
    assert volunteer["organisation_id"] == penteli
    user = client.post(f"/api/v1/organisations/{penteli}/users", headers=headers, json={
        "username": "penteli.new", "full_name": "Νέο Μέλος", "role": "volunteer", "password": "twelve chars ok"}).json()
    assert user["organisation_id"] == penteli
    admin = bearer("admin")
    org = client.post("/api/v1/organisations", headers=admin, json={
        "kind": "municipality", "name_el": "Δήμος Δοκιμής", "name_en": "Test Municipality"}).json()
    assert org["parent_id"] == world.org_of("admin").id and org["active"] is True


@pytest.mark.parametrize(("caller", "target", "role"), [
    ("leader.penteli", "volunteer.penteli", "admin"),  # a volunteer organisation cannot hold it
    ("leader.penteli", "volunteer.penteli", "dispatcher"),
    ("admin", "reviewer.attica", "leader"),  # a region cannot hold it
])
def test_roles_that_may_not_be_given_are_refused_and_not_stored(client, bearer, world, engine, caller, target, role):
    headers = bearer(caller)
    before = snapshot(engine)
    created = client.post(f"/api/v1/organisations/{world.org_of(caller).id}/users", headers=headers, json={
        "username": "would.be", "full_name": "Κάποιος", "role": role, "password": "twelve chars ok"})
    assert created.status_code == 422, created.text
    assert created.json()["error"] == "invalid_role"
    changed = client.patch(f"/api/v1/users/{world.accounts[target].id}", json={"role": role}, headers=headers)
    assert changed.status_code == 422, changed.text
    assert changed.json()["error"] == "invalid_role"
    assert snapshot(engine) == before


def test_a_leader_cannot_promote_anyone_to_an_agency_role_or_reach_agency_accounts(client, bearer, world):
    headers = bearer("leader.penteli")
    me = world.accounts["leader.penteli"].id
    assert client.patch(f"/api/v1/users/{me}", json={"role": "volunteer"}, headers=headers).status_code == 409
    admin_id = world.accounts["admin"].id
    assert client.patch(f"/api/v1/users/{admin_id}", json={"is_active": False}, headers=headers).status_code == 404


def test_a_volunteer_may_not_change_their_own_role_or_account(client, bearer, world):
    headers = bearer("volunteer.penteli")
    me = world.accounts["volunteer.penteli"].id
    resp = client.patch(f"/api/v1/users/{me}", json={"role": "leader"}, headers=headers)
    assert resp.status_code == 403
    assert client.get("/api/v1/auth/me", headers=headers).json()["role"] == "volunteer"
