"""Acceptance 3: schemathesis over the whole OpenAPI schema, in process, with a dispatcher's token.

Every operation gets a bounded number of generated requests (valid and invalid ones); the run must
find no server error and no response that breaks the schema (status code, content type, body).
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.python import asgi as schemathesis_asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from iolaos.app import create_app
from tests.auth.world import issue_token

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 5}  # per operation
WRITER_EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 3}  # second pass, people operations only
REVOKING = {"POST /api/v1/auth/logout", "POST /api/v1/auth/password", "POST /api/v1/users/{user_id}/revoke-tokens"}
PEOPLE_PATHS = ("/api/v1/auth", "/api/v1/users", "/api/v1/organisations", "/api/v1/volunteers")


def _run_operation(operation, mode: GenerationMode, examples: int, username: str, engine, stats: Counter,
                   tokens: dict[str, str | None]) -> None:
    """Generate and send requests for one operation; raises on the first (shrunk) failure.

    Requests that may sign the caller out (logout, revoking sessions, changing the password) get a
    token of their own and the next request a new one, so they do not turn every later one into a 401.
    """

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate, Phase.shrink],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large,
                                     HealthCheck.function_scoped_fixture])
    def run(case) -> None:
        if operation.label in REVOKING or tokens.get(username) is None:
            tokens[username] = issue_token(engine, username)
        response = case.call(headers={"Authorization": f"Bearer {tokens[username]}"})
        if operation.label in REVOKING:
            tokens[username] = None  # the next request signs in afresh
        stats["examples"] += 1
        stats[f"status {response.status_code // 100}xx"] += 1
        case.validate_response(response, checks=CHECKS)

    run()


def _describe(exc: BaseException) -> str:
    """The failure's message, with the sub-failures of a group."""
    parts = [f"{type(exc).__name__}: {exc}", *getattr(exc, "__notes__", ())]
    parts += [f"{type(sub).__name__}: {sub}" for sub in getattr(exc, "exceptions", ())]
    return "\n".join(parts)[:2500]


def _fuzz(db, engine, username: str, prefixes: tuple[str, ...] = ("/",), examples: dict = EXAMPLES
          ) -> tuple[int, Counter, dict[str, str]]:
    """Run every operation under ``prefixes`` as ``username``: (operations, statistics, failures)."""
    app = create_app(db)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    stats: Counter[str] = Counter()
    failures: dict[str, str] = {}
    tokens: dict[str, str | None] = {}
    operations = [r.ok() for r in schema.get_all_operations() if r.ok().path.startswith(prefixes)]
    try:
        for operation in operations:
            for mode, count in examples.items():
                try:
                    _run_operation(operation, mode, count, username, engine, stats, tokens)
                except Unsatisfiable:  # nothing to get wrong: no parameters and no body
                    stats["operations without negative cases"] += 1
                except (FailureGroup, Exception) as exc:  # collect every operation's failure, report them together
                    failures[f"{operation.label} ({mode.value})"] = _describe(exc)
    finally:
        schemathesis_asgi.shutdown_lifespans()
    print(f"\nschemathesis as {username}: {len(operations)} operations, {stats['examples']} examples, "
          f"{len(failures)} failing; {dict(sorted(stats.items()))}")
    return len(operations), stats, failures


def _report(failures: dict[str, str]) -> str:
    return "\n\n".join(f"== {label}\n{text}" for label, text in failures.items())


@pytest.mark.slow
def test_whole_api_schema_with_a_dispatcher_token(db, engine):
    operations, stats, failures = _fuzz(db, engine, "dispatcher.attica")
    assert operations >= 20
    assert stats["examples"] >= 10 * operations
    assert not failures, _report(failures)


@pytest.mark.slow
@pytest.mark.parametrize("username", ["admin", "leader.penteli"])
def test_people_operations_with_roles_that_write(db, engine, username):
    """The dispatcher may change nothing here; admins and leaders reach the writing code paths."""
    operations, stats, failures = _fuzz(db, engine, username, PEOPLE_PATHS, WRITER_EXAMPLES)
    assert operations >= 15
    assert stats["status 2xx"] >= operations
    assert not failures, _report(failures)


SECOND_ORGANISATION = {GenerationMode.POSITIVE: 10, GenerationMode.NEGATIVE: 3}


@pytest.mark.slow
def test_whole_api_schema_with_a_second_organisations_token(db, engine):
    """Issue 16: the same run with a token of another organisation (a volunteer organisation's leader), so
    scoping and the new strict inputs are exercised from both sides: 0 5xx, 0 schema violations."""
    operations, stats, failures = _fuzz(db, engine, "leader.penteli", examples=SECOND_ORGANISATION)
    assert operations >= 20
    assert stats["examples"] >= 5 * operations
    assert not failures, _report(failures)
