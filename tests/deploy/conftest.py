"""Fixtures of the deployment tests: the machine's Redis (a test database number) as in tests/realtime."""

from tests.realtime.conftest import redis_url  # noqa: F401  (re-exported fixture)
