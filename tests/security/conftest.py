"""Fixtures of the security tests: the demo world and quick tokens (shared with tests/auth)."""

from tests.auth.conftest import bearer, world  # noqa: F401
