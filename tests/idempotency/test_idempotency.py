"""Idempotency-Key: a retried POST changes things once and every replay gets the first answer."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import func, select

from iolaos.db import session_scope
from iolaos.incidents.models import Incident

MANTOUDI = {"type": "Point", "coordinates": [23.45, 38.80]}


def _token(url: str, passwords: dict, username: str) -> dict:
    resp = httpx.post(f"{url}/api/v1/auth/token", data={"username": username, "password": passwords[username]})
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def _incidents(engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(Incident))


def test_hundred_replays_ten_concurrent_make_one_record(live_url, engine, demo_passwords):
    headers = {**_token(live_url, demo_passwords, "leader.limni"), "Idempotency-Key": "smoke-7f3a"}
    body = {"kind": "smoke", "point": MANTOUDI, "description": "καπνός"}
    with httpx.Client(base_url=live_url, headers=headers, timeout=30) as http:
        with ThreadPoolExecutor(max_workers=10) as pool:
            concurrent = list(pool.map(lambda _: http.post("/api/v1/incidents", json=body), range(10)))
        sequential = [http.post("/api/v1/incidents", json=body) for _ in range(90)]
    responses = concurrent + sequential
    assert _incidents(engine) == 1
    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1, "every replay returns the first response"
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 99


def test_same_key_different_body_is_rejected(live_url, engine, demo_passwords):
    headers = {**_token(live_url, demo_passwords, "leader.limni"), "Idempotency-Key": "k-1"}
    first = httpx.post(f"{live_url}/api/v1/incidents", headers=headers, json={"kind": "smoke", "point": MANTOUDI})
    other = httpx.post(f"{live_url}/api/v1/incidents", headers=headers, json={"kind": "wildfire", "point": MANTOUDI})
    assert first.status_code == 201
    assert other.status_code == 422 and other.json()["error"] == "idempotency_key_reused"
    assert _incidents(engine) == 1


def test_keys_are_per_user_and_errors_replay_too(live_url, engine, demo_passwords):
    body = {"kind": "smoke", "point": MANTOUDI}
    for username in ("leader.limni", "leader.north_evia"):
        headers = {**_token(live_url, demo_passwords, username), "Idempotency-Key": "shared-key"}
        assert httpx.post(f"{live_url}/api/v1/incidents", headers=headers, json=body).status_code == 201
    assert _incidents(engine) == 2
    headers = {**_token(live_url, demo_passwords, "leader.limni"), "Idempotency-Key": "bad-1"}
    bad = [httpx.post(f"{live_url}/api/v1/incidents", headers=headers, json={"kind": "meteor", "point": MANTOUDI})
           for _ in range(2)]
    assert [r.status_code for r in bad] == [422, 422] and bad[0].content == bad[1].content


def test_malformed_key_is_rejected(live_url, demo_passwords):
    headers = {**_token(live_url, demo_passwords, "leader.limni"), "Idempotency-Key": "x" * 300}
    resp = httpx.post(f"{live_url}/api/v1/incidents", headers=headers, json={"kind": "smoke", "point": MANTOUDI})
    assert resp.status_code == 422 and resp.json()["error"] == "invalid_idempotency_key"
