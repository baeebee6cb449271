"""Acceptance 4: argon2id hashes, rate-limited sign-in, and tokens that stop working at once."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, text, update

from iolaos.app import create_app
from iolaos.auth.models import AuthToken, User
from iolaos.kit.time import utcnow

TOKEN_URL = "/api/v1/auth/token"
NEW_PASSWORD = "a long and new passphrase"


def _sign_in(client, username: str, password: str):
    return client.post(TOKEN_URL, data={"username": username, "password": password})


def _token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def test_every_stored_password_hash_is_argon2id(client, sign_in, engine, world):
    admin = sign_in(client, "admin")
    created = client.post(f"/api/v1/organisations/{world.org_of('admin').id}/users", headers=admin, json={
        "username": "new.dispatcher", "full_name": "Νέος Συντονιστής", "role": "reviewer",  # one admin may grant
        "password": "the first passphrase"})
    assert created.status_code == 201, created.text
    token = _sign_in(client, "new.dispatcher", "the first passphrase").json()["access_token"]
    newcomer = {"Authorization": f"Bearer {token}"}
    changed = client.post("/api/v1/auth/password", headers=newcomer,
                          json={"current_password": "the first passphrase", "new_password": NEW_PASSWORD})
    assert changed.status_code == 204, changed.text
    with engine.connect() as conn:
        hashes = dict(conn.execute(select(User.username, User.password_hash)).all())
        journal = " ".join(conn.execute(text("SELECT data FROM audit_record")).scalars())
    assert len(hashes) >= 25
    assert all(h.startswith("$argon2id$v=19$") for h in hashes.values()), hashes
    assert len(set(hashes.values())) == len(hashes)  # salted: no two alike
    assert "passphrase" not in journal and "password_hash" not in journal
    assert _sign_in(client, "new.dispatcher", NEW_PASSWORD).status_code == 200


def test_tokens_are_stored_only_as_their_hash(client, sign_in, engine):
    token = _token_of(sign_in(client, "officer.attica"))
    with engine.connect() as conn:
        stored = list(conn.execute(select(AuthToken.token_hash)).scalars())
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert token not in stored


def test_failed_sign_ins_slow_that_account_from_that_address_down(client, demo_passwords):
    """After the free failures, the (account, address) pair waits a growing delay, even with the right password."""
    for _ in range(5):
        resp = _sign_in(client, "dispatcher.attica", "not the password at all")
        assert resp.status_code == 401
    slowed = _sign_in(client, "dispatcher.attica", demo_passwords["dispatcher.attica"])
    assert slowed.status_code == 429, slowed.text
    assert slowed.json()["error"] == "too_many_attempts"  # the detail is in the caller's language (tests/i18n)
    assert int(slowed.headers["Retry-After"]) == 1  # the first delay: login_base_delay_seconds
    # Case and spaces do not make it another account.
    assert _sign_in(client, " Dispatcher.ATTICA ", demo_passwords["dispatcher.attica"]).status_code == 429
    # Other accounts are not affected.
    assert _sign_in(client, "dispatcher.sterea", demo_passwords["dispatcher.sterea"]).status_code == 200


def test_failed_sign_ins_are_limited_per_client_address(db, demo_passwords):
    """Guessing across many accounts from one address is limited too (a low limit keeps the test quick)."""
    settings = db.model_copy(update={"login_free_failures_per_address": 4})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        for i in range(4):
            assert _sign_in(client, f"nobody{i}", "guessing a password").status_code == 401
        resp = _sign_in(client, "reviewer.attica", demo_passwords["reviewer.attica"])
        assert resp.status_code == 429
        assert resp.json()["error"] == "too_many_attempts"
        assert int(resp.headers["Retry-After"]) >= 1


def test_unknown_user_and_wrong_password_get_identical_answers(client, sign_in):
    unknown = _sign_in(client, "no.such.person", "some password here")
    wrong = _sign_in(client, "officer.police", "some password here")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json() and wrong.json()["error"] == "invalid_credentials"
    assert unknown.headers.get("www-authenticate") == wrong.headers.get("www-authenticate") == "Bearer"


def test_a_disabled_users_token_fails_on_the_next_request(client, sign_in, demo_passwords, world):
    member = sign_in(client, "volunteer.penteli")
    assert client.get("/api/v1/auth/me", headers=member).status_code == 200
    leader = sign_in(client, "leader.penteli")
    member_id = world.accounts["volunteer.penteli"].id
    resp = client.patch(f"/api/v1/users/{member_id}", json={"is_active": False}, headers=leader)
    assert resp.status_code == 200 and resp.json()["is_active"] is False
    refused = client.get("/api/v1/auth/me", headers=member)
    assert refused.status_code == 401
    assert set(refused.json()) == {"error", "detail"}
    # Signing in again looks exactly like a wrong password.
    again = _sign_in(client, "volunteer.penteli", demo_passwords["volunteer.penteli"])
    assert again.status_code == 401 and again.json()["error"] == "invalid_credentials"


def test_disabling_in_the_database_alone_is_enough(client, sign_in, engine, world):
    """The account is read on every request: no cached principal survives a change of status."""
    headers = sign_in(client, "coordinator.marathon")
    assert client.get("/api/v1/volunteers", headers=headers).status_code == 200
    with engine.begin() as conn:
        conn.execute(update(User).where(User.username == "coordinator.marathon").values(is_active=False))
    assert client.get("/api/v1/volunteers", headers=headers).status_code == 401


def test_a_role_change_takes_effect_on_the_next_request(client, sign_in, world):
    leader = sign_in(client, "leader.penteli")
    first = client.post("/api/v1/volunteers", json={"full_name": "Πρώτη Εγγραφή"}, headers=leader)
    assert first.status_code == 201, first.text
    admin = sign_in(client, "admin")
    leader_id = world.accounts["leader.penteli"].id
    demoted = client.patch(f"/api/v1/users/{leader_id}", json={"role": "volunteer"}, headers=admin)
    assert demoted.status_code == 200 and demoted.json()["role"] == "volunteer"
    second = client.post("/api/v1/volunteers", json={"full_name": "Δεύτερη Εγγραφή"}, headers=leader)
    assert second.status_code == 403, second.text
    me = client.get("/api/v1/auth/me", headers=leader).json()
    assert me["role"] == "volunteer" and "volunteer.write" not in me["permissions"]


def test_logout_revokes_only_that_token(client, sign_in):
    first = sign_in(client, "dispatcher.sterea")
    second = sign_in(client, "dispatcher.sterea")
    assert client.post("/api/v1/auth/logout", headers=first).status_code == 204
    assert client.get("/api/v1/auth/me", headers=first).status_code == 401
    assert client.post("/api/v1/auth/logout", headers=first).status_code == 401
    assert client.get("/api/v1/auth/me", headers=second).status_code == 200


def test_an_expired_token_fails(client, sign_in, engine):
    headers = sign_in(client, "reviewer.sterea")
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    digest = hashlib.sha256(_token_of(headers).encode()).hexdigest()
    with engine.begin() as conn:
        changed = conn.execute(update(AuthToken).where(AuthToken.token_hash == digest)
                               .values(expires_at=utcnow() - timedelta(seconds=1)))
        assert changed.rowcount == 1
    resp = client.get("/api/v1/auth/me", headers=headers)
    assert resp.status_code == 401
    assert resp.json()["error"] == "invalid_token"


def test_revoking_a_users_tokens_signs_them_out_everywhere(client, sign_in, world):
    phone, laptop = sign_in(client, "officer.attica"), sign_in(client, "officer.attica")
    admin = sign_in(client, "admin")
    resp = client.post(f"/api/v1/users/{world.accounts['officer.attica'].id}/revoke-tokens", headers=admin)
    assert resp.status_code == 200 and resp.json() == {"revoked": 2}
    assert client.get("/api/v1/auth/me", headers=phone).status_code == 401
    assert client.get("/api/v1/auth/me", headers=laptop).status_code == 401
    assert client.get("/api/v1/auth/me", headers=admin).status_code == 200


def test_changing_the_password_signs_out_the_other_sessions(client, sign_in, demo_passwords):
    current, other = sign_in(client, "leader.lamia"), sign_in(client, "leader.lamia")
    wrong = client.post("/api/v1/auth/password", headers=current,
                        json={"current_password": "not it at all", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 422
    resp = client.post("/api/v1/auth/password", headers=current,
                       json={"current_password": demo_passwords["leader.lamia"], "new_password": NEW_PASSWORD})
    assert resp.status_code == 204
    assert client.get("/api/v1/auth/me", headers=other).status_code == 401
    assert _sign_in(client, "leader.lamia", demo_passwords["leader.lamia"]).status_code == 401
    assert _sign_in(client, "leader.lamia", NEW_PASSWORD).status_code == 200


def test_deactivating_an_organisation_signs_its_members_out(client, sign_in, demo_passwords, world):
    leader = sign_in(client, "leader.parnitha")
    admin = sign_in(client, "admin")
    org = world.org_of("leader.parnitha").id
    resp = client.patch(f"/api/v1/organisations/{org}", json={"active": False}, headers=admin)
    assert resp.status_code == 200 and resp.json()["active"] is False
    assert client.get("/api/v1/auth/me", headers=leader).status_code == 401
    again = _sign_in(client, "leader.parnitha", demo_passwords["leader.parnitha"])
    assert again.status_code == 401 and again.json()["error"] == "invalid_credentials"
    assert client.patch(f"/api/v1/organisations/{org}", json={"active": True}, headers=admin).status_code == 200
    assert _sign_in(client, "leader.parnitha", demo_passwords["leader.parnitha"]).status_code == 200


def test_control_characters_in_a_username_are_refused_not_a_server_error(client):
    for name in ("admin\x00", "\x00", "ad\x1bmin"):
        resp = _sign_in(client, name, "whatever password")
        assert resp.status_code == 422, resp.text
        assert resp.json()["error"] == "invalid_input"
