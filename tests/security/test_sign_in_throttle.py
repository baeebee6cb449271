"""Sign-in throttling (issue 16): growing delays per (account, address) and per address, trusted proxies only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from iolaos.app import create_app
from iolaos.auth import service, throttle
from iolaos.auth.models import LoginFailure
from iolaos.config import Settings
from iolaos.db import session_scope
from iolaos.errors import TooManyRequests, Unauthenticated
from iolaos.kit.time import utcnow

TOKEN_URL = "/api/v1/auth/token"
ATTACKER, COLLEAGUE = "203.0.113.5", "198.51.100.7"


def _account_key(username: str) -> str:
    return service.digest(service.normalise_username(username))


def _client(settings: Settings, address: str) -> TestClient:
    return TestClient(create_app(settings), raise_server_exceptions=False, client=(address, 40000))


def test_delays_grow_from_the_base_and_stop_at_the_maximum():
    settings = Settings(login_base_delay_seconds=1.0, login_max_delay_seconds=900.0)
    assert [throttle.delay_seconds(n, 5, settings) for n in range(4, 10)] == [0, 1, 2, 4, 8, 16]
    assert throttle.delay_seconds(1000, 5, settings) == 900.0
    assert throttle.delay_seconds(10**9, 5, settings) == 900.0  # no overflow


def test_a_thousand_failures_do_not_stop_the_right_password_from_another_address(db, engine, demo_passwords):
    """Acceptance 3: 1,000 failures for one account from one address; the dispatcher still signs in elsewhere."""
    key, now = _account_key("dispatcher.attica"), utcnow()
    with session_scope(engine) as session:  # the rows sign-in stores on each failure, written in one go
        session.add_all(LoginFailure(account_key=key, client_address=ATTACKER, at=now - timedelta(seconds=i * 0.5))
                        for i in range(1000))
    with _client(db, COLLEAGUE) as colleague:
        ok = colleague.post(TOKEN_URL, data={"username": "dispatcher.attica",
                                             "password": demo_passwords["dispatcher.attica"]})
        assert ok.status_code == 200, ok.text
    with _client(db, ATTACKER) as attacker:
        slowed = attacker.post(TOKEN_URL, data={"username": "dispatcher.attica",
                                                "password": demo_passwords["dispatcher.attica"]})
        assert slowed.status_code == 429 and slowed.json()["error"] == "too_many_attempts"
        assert 890 <= int(slowed.headers["Retry-After"]) <= 900  # the maximum delay, not a lock without end
        # The attacker's address is also slowed down on other accounts (1,000 > 30 free per address).
        other = attacker.post(TOKEN_URL, data={"username": "officer.attica", "password": "a wrong guess here"})
        assert other.status_code == 429


def test_after_the_delay_the_attempt_is_checked_again(db, engine, demo_passwords):
    """Time is an input: the service takes ``now``; once the delay has passed the password is checked."""
    settings = db.model_copy(update={"login_free_failures_per_account_address": 2})
    key, at = _account_key("officer.attica"), utcnow()
    with session_scope(engine) as session:
        session.add_all(LoginFailure(account_key=key, client_address=ATTACKER, at=at) for _ in range(4))
    with session_scope(engine) as session, pytest.raises(TooManyRequests) as refused:
        service.sign_in(session, settings, username="officer.attica", password="wrong guess again",
                        client_address=ATTACKER, now=at + timedelta(seconds=3))
    assert refused.value.headers["Retry-After"] == "1"  # 4 failures, 2 free: 1 s doubled twice = 4 s
    with session_scope(engine) as session, pytest.raises(Unauthenticated):
        service.sign_in(session, settings, username="officer.attica", password="wrong guess again",
                        client_address=ATTACKER, now=at + timedelta(seconds=5))
    with session_scope(engine) as session:
        issued = service.sign_in(session, settings, username="officer.attica",
                                 password=demo_passwords["officer.attica"], client_address=COLLEAGUE)
        assert issued.user.username == "officer.attica"


def _failures_from(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(LoginFailure.client_address)).scalars())


def test_a_spoofed_forwarded_for_counts_against_the_real_peer(db, engine):
    """Without trusted proxies (the default) X-Forwarded-For is ignored: the failure is the peer's."""
    assert db.trusted_proxies == ""
    with _client(db, ATTACKER) as client:
        resp = client.post(TOKEN_URL, data={"username": "nobody.here", "password": "a wrong guess here"},
                           headers={"X-Forwarded-For": "192.0.2.99"})
        assert resp.status_code == 401
    assert _failures_from(engine) == [ATTACKER]


def test_a_trusted_proxy_names_the_client_and_an_untrusted_peer_cannot(db, engine):
    settings = db.model_copy(update={"trusted_proxies": "127.0.0.1"})
    with _client(settings, "127.0.0.1") as via_proxy:
        via_proxy.post(TOKEN_URL, data={"username": "nobody.here", "password": "a wrong guess here"},
                       headers={"X-Forwarded-For": f"{COLLEAGUE}"})
    with _client(settings, ATTACKER) as direct:
        direct.post(TOKEN_URL, data={"username": "nobody.here", "password": "a wrong guess here"},
                    headers={"X-Forwarded-For": "192.0.2.99"})
    assert sorted(_failures_from(engine)) == sorted([COLLEAGUE, ATTACKER])
