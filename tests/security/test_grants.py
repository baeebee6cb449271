"""Grants and personal data (issue 16): no grant beyond one's own permissions, re-enable at the disabling level,
audit payloads redacted for roles without the right, organisation deactivation revokes tokens."""

from __future__ import annotations

from sqlalchemy import func, select

from iolaos.auth.models import User
from iolaos.db import session_scope
from iolaos.journal.service import verify_chain

NEW = {"full_name": "Νέος Λογαριασμός", "password": "twelve chars or more", "email": "nea@example.gr",
       "phone": "+30 2101234567"}


def _users(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(User)).scalar_one()


def test_an_admin_without_location_rights_cannot_create_a_dispatcher(client, bearer, world, engine):
    before = _users(engine)
    resp = client.post(f"/api/v1/organisations/{world.org_of('admin').id}/users",
                       headers={**bearer("admin"), "Accept-Language": "en"},
                       json=NEW | {"username": "would.dispatch", "role": "dispatcher"})
    assert resp.status_code == 403 and resp.json()["error"] == "grant_exceeds_own"
    assert "volunteer.location" in resp.json()["detail"]
    assert _users(engine) == before
    ok = client.post(f"/api/v1/organisations/{world.org_of('admin').id}/users", headers=bearer("admin"),
                     json=NEW | {"username": "new.reviewer", "role": "reviewer"})
    assert ok.status_code == 201, ok.text


def test_nobody_promotes_beyond_their_own_permissions_but_demotion_is_allowed(client, bearer, world):
    officer = world.accounts["officer.attica"].id
    up = client.patch(f"/api/v1/users/{officer}", json={"role": "dispatcher"}, headers=bearer("admin"))
    assert up.status_code == 403 and up.json()["error"] == "grant_exceeds_own"
    leader = world.accounts["leader.penteli"].id
    down = client.patch(f"/api/v1/users/{leader}", json={"role": "volunteer"}, headers=bearer("admin"))
    assert down.status_code == 200, down.text  # a volunteer holds nothing a leader did not


def test_an_account_is_re_enabled_only_at_the_level_that_disabled_it(client, bearer, world):
    member = world.accounts["volunteer.penteli"].id
    admin = bearer("admin")
    assert client.patch(f"/api/v1/users/{member}", json={"is_active": False}, headers=admin).status_code == 200
    again = client.patch(f"/api/v1/users/{member}", json={"is_active": True}, headers=bearer("leader.penteli"))
    assert again.status_code == 403 and again.json()["error"] == "reenable_level"
    assert client.patch(f"/api/v1/users/{member}", json={"is_active": True}, headers=bearer("admin")).status_code == 200
    # Disabled by the leader: the leader (or anyone above) may lift it.
    assert client.patch(f"/api/v1/users/{member}", json={"is_active": False},
                        headers=bearer("leader.penteli")).status_code == 200
    assert client.patch(f"/api/v1/users/{member}", json={"is_active": True},
                        headers=bearer("leader.penteli")).status_code == 200


def test_audit_payloads_hide_personal_data_from_roles_without_the_right(client, bearer, world, engine):
    penteli = world.org_of("leader.penteli").id
    created = client.post(f"/api/v1/organisations/{penteli}/users", headers=bearer("leader.penteli"),
                          json=NEW | {"username": "new.member", "role": "volunteer"})
    assert created.status_code == 201, created.text
    query = {"action": "user.create", "subject_id": str(created.json()["id"])}
    seen_by_reviewer = client.get("/api/v1/audit", params=query, headers=bearer("reviewer.attica")).json()
    (record,) = seen_by_reviewer["records"]
    assert record["data"]["email"] == record["data"]["phone"] == "[redacted]"
    assert record["data"]["username"] == "new.member"
    export = client.get("/api/v1/audit/export.csv", params=query, headers=bearer("reviewer.attica")).text
    assert "nea@example.gr" not in export and "2101234567" not in export
    (full,) = client.get("/api/v1/audit", params=query, headers=bearer("admin")).json()["records"]
    assert full["data"]["email"] == "nea@example.gr"  # the admin has volunteer.contact
    assert full["hash"] == record["hash"]  # the stored record is unchanged
    with session_scope(engine) as session:
        assert verify_chain(session).ok


def test_deactivating_an_organisation_revokes_its_tokens(client, bearer, world):
    member = bearer("leader.penteli")
    org = world.org_of("leader.penteli").id
    assert client.get("/api/v1/auth/me", headers=member).status_code == 200
    admin = bearer("admin")
    assert client.patch(f"/api/v1/organisations/{org}", json={"active": False}, headers=admin).status_code == 200
    assert client.get("/api/v1/auth/me", headers=member).status_code == 401
    assert client.patch(f"/api/v1/organisations/{org}", json={"active": True}, headers=admin).status_code == 200
    assert client.get("/api/v1/auth/me", headers=member).status_code == 401  # the old token stays dead


def test_the_incidents_csv_export_neutralises_formulas(client, bearer):
    headers = bearer("leader.penteli")
    made = client.post("/api/v1/incidents", headers=headers, json={
        "kind": "smoke", "point": {"type": "Point", "coordinates": [23.85, 38.10]},
        "description": '=HYPERLINK("http://evil.example","click")'})
    assert made.status_code == 201, made.text
    text = client.get("/api/v1/exports/incidents.csv", headers=headers).text
    assert "'=HYPERLINK" in text
    assert ',=HYPERLINK' not in text and '"=HYPERLINK' not in text
