"""What counts as a database outage (503 database_unavailable), also when the outage reaches the last handler
wrapped: the fault test (tests/faults/test_postgres_restart.py) saw a 500 for an outage that arrived that way."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from iolaos.errors import database_unavailable

OUTAGE = OperationalError("SELECT 1", {}, Exception("terminating connection due to administrator command"))


def _raised_while_handling(outage: BaseException) -> RuntimeError:
    try:
        try:
            raise outage
        except OperationalError as exc:
            raise RuntimeError("cleanup failed") from exc
    except RuntimeError as wrapped:
        return wrapped


def test_an_outage_is_recognised_directly_in_a_group_and_as_a_cause() -> None:
    assert database_unavailable(OUTAGE)
    assert database_unavailable(ExceptionGroup("exit", [ValueError(), OUTAGE]))
    assert database_unavailable(_raised_while_handling(OUTAGE))


def test_other_errors_are_not_outages() -> None:
    assert not database_unavailable(ValueError("bad"))
    assert not database_unavailable(ExceptionGroup("exit", [ValueError(), KeyError()]))
    looped = RuntimeError("a")
    looped.__context__ = RuntimeError("b")
    looped.__context__.__context__ = looped  # a cycle of contexts ends, it does not recurse forever
    assert not database_unavailable(looped)
