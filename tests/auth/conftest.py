"""Fixtures of the authorisation tests: the demo world read from the test database, and quick tokens."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.engine import Engine

from tests.auth.world import World, issue_token, load_world


@pytest.fixture
def world(engine: Engine) -> World:
    """Organisations, accounts and volunteers of the fresh test database."""
    return load_world(engine)


@pytest.fixture
def bearer(engine: Engine) -> Callable[[str], dict[str, str]]:
    """``bearer(username)`` → Authorization headers with a token of that demo account (one per test and account).

    The token is stored as sign-in stores it but skips the deliberately slow password check, so
    tests about authorisation can act as many people quickly; sign-in itself is tested over HTTP.
    """
    issued: dict[str, dict[str, str]] = {}

    def _bearer(username: str) -> dict[str, str]:
        if username not in issued:
            issued[username] = {"Authorization": f"Bearer {issue_token(engine, username)}"}
        return issued[username]

    return _bearer
