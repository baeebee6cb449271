"""The principal cache's bound (issue 19, src/iolaos/auth/cache.py): a change this process cannot see — made by
another instance, the CLI or SQL typed by hand, here raw SQL — takes effect on reads within ``auth_cache_seconds``
and on writes at once; changes made through SQLAlchemy in this process, and a token's expiry, take effect at
once."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update

from iolaos.app import create_app
from iolaos.auth.cache import PrincipalCache
from iolaos.kit.time import utcnow
from iolaos.organisations.models import Organisation

ME = "/api/v1/auth/me"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _raw(engine, sql: str, **params) -> None:
    """A change the process is not told about (as if made by another instance or by hand)."""
    with engine.begin() as conn:
        assert conn.execute(text(sql), params).rowcount >= 1


def test_a_change_made_elsewhere_takes_effect_within_the_bound(db, engine, sign_in):
    clock = Clock()
    with TestClient(create_app(db), raise_server_exceptions=False) as client:
        assert db.auth_cache_seconds == 2.0  # the documented default
        client.app.state.principal_cache = PrincipalCache(db.auth_cache_seconds, clock=clock)
        headers = sign_in(client, "dispatcher.sterea")
        assert client.get(ME, headers=headers).json()["role"] == "dispatcher"
        _raw(engine, "UPDATE app_user SET is_active = :off WHERE username = 'dispatcher.sterea'", off=False)
        clock.now += 1.9  # within the bound: the cached principal may still answer a read
        assert client.get(ME, headers=headers).status_code == 200
        assert client.post("/api/v1/auth/logout", headers=headers).status_code == 401  # a write: never cached
        clock.now += 0.1  # at the bound: read again, refused
        resp = client.get(ME, headers=headers)
        assert resp.status_code == 401 and resp.json()["error"] == "invalid_token"


def test_a_role_changed_elsewhere_is_seen_within_the_bound(db, engine, sign_in):
    clock = Clock()
    with TestClient(create_app(db), raise_server_exceptions=False) as client:
        client.app.state.principal_cache = PrincipalCache(db.auth_cache_seconds, clock=clock)
        headers = sign_in(client, "leader.penteli")
        assert client.get(ME, headers=headers).json()["role"] == "leader"
        _raw(engine, "UPDATE app_user SET role = 'volunteer' WHERE username = 'leader.penteli'")
        clock.now += db.auth_cache_seconds
        assert client.get(ME, headers=headers).json()["role"] == "volunteer"


def test_without_the_cache_a_change_made_elsewhere_takes_effect_at_once(db, engine, sign_in):
    with TestClient(create_app(db.model_copy(update={"auth_cache_seconds": 0})),
                    raise_server_exceptions=False) as client:
        headers = sign_in(client, "dispatcher.sterea")
        assert client.get(ME, headers=headers).status_code == 200
        _raw(engine, "UPDATE app_user SET is_active = :off WHERE username = 'dispatcher.sterea'", off=False)
        assert client.get(ME, headers=headers).status_code == 401


@pytest.mark.parametrize("change", ["deactivate", "sign_out"])
def test_changes_through_sqlalchemy_in_this_process_take_effect_at_once(db, engine, sign_in, world, change):
    clock = Clock()  # never moves: only the invalidation can refuse the token
    with TestClient(create_app(db), raise_server_exceptions=False) as client:
        client.app.state.principal_cache = PrincipalCache(db.auth_cache_seconds, clock=clock)
        headers = sign_in(client, "leader.parnitha")
        assert client.get(ME, headers=headers).status_code == 200
        if change == "deactivate":  # deactivating an organisation ends its members' access (issue 16)
            with engine.begin() as conn:
                conn.execute(update(Organisation).where(Organisation.id == world.org_of("leader.parnitha").id)
                             .values(active=False))
        else:
            assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
        assert client.get(ME, headers=headers).status_code == 401


def test_a_cached_principal_ends_with_its_token(db, sign_in):
    with TestClient(create_app(db), raise_server_exceptions=False) as client:
        headers = sign_in(client, "reviewer.sterea")
        assert client.get(ME, headers=headers).status_code == 200
        token = headers["Authorization"].removeprefix("Bearer ")
        cache = client.app.state.principal_cache
        expires_at = cache._entries[hashlib.sha256(token.encode()).hexdigest()].expires_at
        assert expires_at > utcnow()
        assert cache.get(token, expires_at - timedelta(seconds=1)) is not None
        assert cache.get(token, expires_at) is None  # the token's own expiry, whatever the bound


def test_closing_a_session_whose_connection_died_raises_nothing(backend, engine):
    """The cache's rollback hook read the info of a connection that died with its transaction, and the error
    escaped the session's close after the answer was sent: uvicorn dropped the client's connection (seen in
    tests/faults/test_postgres_restart.py as a ReadError on the next request)."""
    if backend.name != "postgresql":
        pytest.skip("a server that kills the connection: PostgreSQL")
    from sqlalchemy.exc import OperationalError
    from sqlmodel import Session

    session = Session(engine)
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with engine.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        other.commit()
    with pytest.raises(OperationalError):
        session.execute(text("SELECT 1"))
    session.close()  # raised PendingRollbackError from the hook before the fix
