"""Acceptance: disabling a user or revoking their token closes their sockets within 5 seconds."""

from __future__ import annotations

import asyncio
import secrets
import time

import httpx
import pytest
import websockets

from tests.realtime.conftest import People
from tests.realtime.live import LiveServer, bearer, connect, recv, recv_until, sign_in, until


def _new_volunteer_account(server: LiveServer, people: People) -> tuple[int, str]:
    """A fresh account in Penteli's organisation (so each case has its own victim)."""
    org = people.me("leader.penteli")["organisation_id"]
    username, password = f"rt-{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    resp = httpx.post(f"{server.url}/api/v1/organisations/{org}/users", headers=bearer(people.token("leader.penteli")),
                      json={"username": username, "full_name": "Δοκιμή Σύνδεσης", "role": "volunteer",
                            "password": password}, timeout=10)
    assert resp.status_code == 201, resp.text
    user_id = resp.json()["id"]
    until(lambda: httpx.get(f"{server.url}/api/v1/users/{user_id}", headers=bearer(people.token("leader.penteli")),
                            timeout=5).status_code == 200, what="the new account to be committed")
    return user_id, sign_in(server.url, username, password)


@pytest.mark.parametrize("how", ["disable", "revoke_tokens", "sign_out"])
def test_losing_access_closes_the_socket_within_5_seconds(rt_server: LiveServer, people: People, how: str):
    user_id, token = _new_volunteer_account(rt_server, people)
    leader = people.token("leader.penteli")

    def take_access() -> None:
        if how == "disable":
            resp = httpx.patch(f"{rt_server.url}/api/v1/users/{user_id}", headers=bearer(leader),
                               json={"is_active": False}, timeout=10)
        elif how == "revoke_tokens":
            resp = httpx.post(f"{rt_server.url}/api/v1/users/{user_id}/revoke-tokens", headers=bearer(leader),
                              timeout=10)
        else:
            resp = httpx.post(f"{rt_server.url}/api/v1/auth/logout", headers=bearer(token), timeout=10)
        assert resp.status_code in (200, 204), resp.text

    async def run() -> tuple[int, float, bool]:
        victim, _, _ = await connect(rt_server, token, [f"user:{user_id}"])
        bystander, _, _ = await connect(rt_server, leader, ["zones"])
        await recv_until(victim, lambda m: m["type"] == "live")
        await asyncio.to_thread(take_access)
        took_from = time.monotonic()
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await recv(victim, 6)
        took = time.monotonic() - took_from
        await bystander.send('{"type":"ping"}')
        pong, _ = await recv_until(bystander, lambda m: m["type"] == "pong")
        await bystander.close()
        assert closed.value.rcvd is not None
        return closed.value.rcvd.code, took, pong == {"type": "pong"}

    code, took, bystander_fine = asyncio.run(run())
    assert code == 4001 and took < 5, f"{how}: closed with {code} after {took:.1f}s"
    assert bystander_fine
