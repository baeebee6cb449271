"""Acceptance 1: a bounded hypothesis fuzz of every route's datetime, number and text parameters, read from the
OpenAPI document: hostile values (naive and extreme times, huge and odd numbers, control characters) never
answer 5xx."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.auth.world import issue_token

HOSTILE_TIMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-12-03T10:00:00", "9999-12-31",
                 "0001-01-01", "2026-02-30T00:00:00Z", "2026-07-14T25:00:00Z", "../..", "/",
                 "2026-07-14T10:00:00Z/0001-01-01"]
HOSTILE_NUMBERS = ["true", "false", "NaN", "Infinity", "-0", "1e309", "99999999999999999999999", "-1", "0x10", "1.5"]


def _hostile(schema: dict) -> st.SearchStrategy[str]:
    """Values for one parameter: the hostile lists above, then text with control characters."""
    texts = st.text(st.characters(codec="utf-8", min_codepoint=0, max_codepoint=0x2FF), max_size=40)
    fmt, kind = schema.get("format"), schema.get("type")
    if fmt in ("date-time", "date") or kind == "string":
        return st.one_of(st.sampled_from(HOSTILE_TIMES + HOSTILE_NUMBERS), texts)
    return st.one_of(st.sampled_from(HOSTILE_NUMBERS + HOSTILE_TIMES), st.integers().map(str), texts)


def _schema_of(param: dict) -> dict:
    schema = param.get("schema", {})
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            return option
    return schema


def _operations(schema: dict) -> list[tuple[str, str, list[dict]]]:
    found = []
    for path, item in schema["paths"].items():
        for method, op in item.items():
            params = [p for p in op.get("parameters", []) if p["in"] in ("query", "path")]
            if method == "get" and params:
                found.append((path, method, params))
    return found


def test_hostile_parameters_on_every_route_never_answer_5xx(client, engine):
    schema = client.get("/openapi.json").json()
    operations = _operations(schema)
    assert len(operations) >= 25
    headers = {"Authorization": f"Bearer {issue_token(engine, 'admin')}"}
    statuses: dict[int, int] = {}

    @given(data=st.data())
    @settings(max_examples=len(operations) * 6, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    def run(data) -> None:
        path, _, params = data.draw(st.sampled_from(operations))
        url, query = path, []
        for param in params:
            value = data.draw(_hostile(_schema_of(param)))
            if param["in"] == "path":
                url = url.replace("{" + param["name"] + "}", quote(value, safe="") or "x")
            elif data.draw(st.booleans()) or param.get("required"):
                query.append(f"{param['name']}={quote(value, safe='')}")
        resp = client.get(url + ("?" + "&".join(query) if query else ""), headers=headers)
        statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
        assert resp.status_code < 500, (url, query, resp.status_code, resp.text[:300])

    run()
    print(f"\nfuzzed {len(operations)} GET operations: {dict(sorted(statuses.items()))}")
    assert sum(statuses.values()) >= len(operations) * 5
