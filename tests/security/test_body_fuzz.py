"""Acceptance 1 for request bodies: a bounded hypothesis fuzz of every JSON body in the OpenAPI document.

Each route's body starts from its succeeding call in tests/api/test_every_write_is_audited.py (real ids,
the objects it needs set up, a caller of the right role), so hostile values reach the services and not only
the first validator: the fuzz walks the body's schema and replaces some datetime, number and text fields, or
adds optional ones, with naive or extreme times, booleans, NaN and huge numbers, control characters, lone
surrogates, very long text and values of the wrong type. The caller is the recipe's account or a person of
the same role in another organisation. No answer may be a 5xx, and every 4xx has the one error shape.
"""

from __future__ import annotations

import copy
import json
import math
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.test_every_write_is_audited import RECIPES, Call
from tests.api.test_every_write_is_audited import _field_patrol as field_patrol
from tests.api.test_every_write_is_audited import _ids as recipe_ids
from tests.auth.world import issue_token

EXAMPLES = 16  # per route and backend: about 600 requests per backend
# The same role in another organisation (or, for the one national admin, a leader who manages people too).
PEERS = {"dispatcher.attica": "dispatcher.sterea", "dispatcher.sterea": "dispatcher.attica",
         "officer.attica": "officer.police", "leader.limni": "leader.penteli", "leader.penteli": "leader.limni",
         "volunteer.limni": "volunteer.penteli", "coordinator.mantoudi": "coordinator.marathon",
         "admin": "leader.penteli"}
# Routes that may take the recipe's people or organisation out of service: fuzzed last, in this order.
LAST = ("/api/v1/auth/password", "/api/v1/users/{user_id}", "/api/v1/organisations/{org_id}/users",
        "/api/v1/organisations", "/api/v1/organisations/{org_id}/zones", "/api/v1/organisations/{org_id}")

HOSTILE_TIMES = ["2026-12-03T10:00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                 "2026-02-30T00:00:00Z", "2026-07-14T25:00:00Z", "1999-12-31T23:59:59Z", "2100-01-01T00:00:00Z",
                 "2026-07-14T10:00:00+24:00", "", "now", "9999-12-31", 1e20, 0, -1, True]
HOSTILE_DAYS = ["0001-01-01", "9999-12-31", "2026-02-30", "1999-12-31", "2100-01-01", "2026-07-14T10:00:00Z",
                "", 20260714, True]
HOSTILE_NUMBERS = [True, False, math.nan, math.inf, -math.inf, 10**30, -(10**30), 2**31, 2**63, -1, 0, -0.0,
                   1.5, 1e-300, "1", "NaN", None]
HOSTILE_TEXTS = ["\x00", "a\x1bb", "\x7f", "\u0085", "\ud800", "x\udfffy", "\u202e\u2066", "\ufeff", "\U0001f525" * 50,
                 "x" * 100_000, "%s%n{0}", "'; DROP TABLE users; --", "<img src=x onerror=alert(1)>", " ", ""]
EDGE_TIMES = ["2000-01-01T00:00:00+14:00", "2099-12-31T23:59:59-14:00", "2000-01-01T00:00:00Z",
              "2099-12-31T23:59:59.999999Z", "2026-07-14T10:00:00.123456+05:45"]
EDGE_DAYS = ["2000-01-01", "2099-12-31", "2028-02-29"]
WRONG_TYPES = [None, True, 0, 1.5, "text", [], [None], {}, {"a": {"b": [1]}}]


def _positions(ids, pw, c, si) -> tuple[Call, Call]:
    """Positions have no audit recipe (they are volatile): a crew member of an active patrol reports one."""
    from iolaos.kit.time import utcnow

    patrol_id, _ = field_patrol(ids, c, si, "active")
    report = {"patrol_id": patrol_id, "at": utcnow().isoformat(), "lon": 23.45, "lat": 38.8, "accuracy_m": 8}
    call = Call("volunteer.limni", "/api/v1/positions", {"reports": [report]})
    return call, call


CALLS = {**RECIPES, ("POST", "/api/v1/positions"): _positions}


def _resolve(schema: dict, components: dict, value: Any = None) -> dict:
    """The schema a value is checked against: references followed, a union narrowed to the value's option."""
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    options = schema.get("anyOf") or schema.get("oneOf")
    if not options:
        return schema
    options = [_resolve(o, components) for o in options if o.get("type") != "null"]
    if isinstance(value, dict):
        for option in options:
            consts = {k: p.get("const", (p.get("enum") or [None])[0])
                      for k, p in option.get("properties", {}).items() if "const" in p or len(p.get("enum", [])) == 1}
            if consts and all(value.get(k) == v for k, v in consts.items()):
                return option
    return options[0] if options else schema


def _kind(schema: dict) -> str:
    fmt, kind = schema.get("format"), schema.get("type")
    if fmt == "date-time":
        return "time"
    if fmt == "date":
        return "day"
    return {"string": "text", "integer": "number", "number": "number"}.get(kind, kind or "any")


def _slots(schema: dict, value: Any, path: tuple, components: dict) -> list[tuple[tuple, dict]]:
    """Every place in the body a hostile value can go, with its schema: present fields and absent optional ones."""
    schema = _resolve(schema, components, value)
    found = [(path, schema)] if path else []
    if _kind(schema) == "object" and isinstance(value, dict):
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                found += _slots(sub, value[name], (*path, name), components)
            else:
                found.append(((*path, name), _resolve(sub, components)))
    elif _kind(schema) == "array" and isinstance(value, list):
        for index, item in enumerate(value[:3]):
            found += _slots(schema.get("items", {}), item, (*path, index), components)
    return found


def _edge(schema: dict) -> st.SearchStrategy[Any]:
    """Valid values at the edges of what the schema allows: they get past validation into the services."""
    kind = _kind(schema)
    if kind in ("time", "day"):
        return st.sampled_from(EDGE_TIMES if kind == "time" else EDGE_DAYS)
    if schema.get("enum"):
        return st.sampled_from(schema["enum"])
    if kind == "number":
        integer = schema.get("type") == "integer"
        low, high = schema.get("minimum", -(2**31)), schema.get("maximum", 2**31 - 1)
        values = [int(b) if integer else b for b in (low, high)] + [0, 1, 2**31 - 1]
        return st.one_of(st.sampled_from(values), st.integers(int(low), int(high)) if integer else st.floats(low, high))
    if kind == "text":
        longest, shortest = schema.get("maxLength", 5000), schema.get("minLength", 0)
        if "pattern" in schema:  # e.g. phone numbers, e-mail addresses, codes: what the pattern lets through
            return st.from_regex(schema["pattern"], fullmatch=True).filter(lambda t: shortest <= len(t) <= longest)
        return st.sampled_from(["x" * longest, "\u03a9" * longest, "\U0001f525" * longest, "x" * shortest,
                                " " * max(shortest, 1), "<img src=x onerror=alert(1)><b>x</b>"[:longest]])
    if kind == "boolean":
        return st.booleans()
    return st.just([] if kind == "array" else {})


def _hostile(schema: dict) -> st.SearchStrategy[Any]:
    kind = _kind(schema)
    typed = {"time": st.sampled_from(HOSTILE_TIMES), "day": st.sampled_from(HOSTILE_DAYS),
             "number": st.one_of(st.sampled_from(HOSTILE_NUMBERS), st.integers(), st.floats()),
             "text": st.one_of(st.sampled_from(HOSTILE_TEXTS), st.text(max_size=60))}
    wrong = st.sampled_from(WRONG_TYPES)
    if kind in typed:
        return st.one_of(typed[kind], wrong)
    return st.one_of(wrong, st.sampled_from(HOSTILE_TIMES + HOSTILE_NUMBERS + HOSTILE_TEXTS))


def _put(body: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return body


def _json_routes(schema: dict) -> list[tuple[str, str, dict]]:
    found = []
    for path, item in schema["paths"].items():
        for method, op in item.items():
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                found.append((method.upper(), path, content["application/json"]["schema"]))
    return sorted(found, key=lambda r: (r[1] in LAST and LAST.index(r[1]) + 1, r[1], r[0]))


def _is_error_shape(resp) -> bool:
    try:
        body = resp.json()
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("error"), str) and "detail" in body


def _fuzz_route(client, engine, method: str, path: str, body: Any, schema: dict, users: list[str],
                components: dict, stats: Counter) -> None:
    slots = _slots(schema, body, (), components)

    @given(data=st.data())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                     HealthCheck.data_too_large])
    def run(data) -> None:
        document = copy.deepcopy(body)
        if not slots or data.draw(st.integers(0, 9)) == 0:
            document = data.draw(_hostile({}))  # the whole body of the wrong type
        else:
            # Half the examples hold only valid edge values, so they get past validation into the service.
            values = _edge if data.draw(st.booleans()) else _hostile
            chosen = data.draw(st.lists(st.sampled_from(slots), min_size=1, max_size=3, unique_by=lambda s: s[0]))
            for where, part in sorted(chosen, key=lambda s: len(s[0]), reverse=True):
                try:
                    document = _put(document, where, data.draw(values(part)))
                except (KeyError, IndexError, TypeError):  # a deeper slot under one replaced already
                    continue
        user = data.draw(st.sampled_from(users))
        headers = {"Authorization": f"Bearer {issue_token(engine, user)}", "Content-Type": "application/json"}
        # Encoded here, not by the client: NaN, Infinity and lone surrogates are part of the attack.
        resp = client.request(method, path, content=json.dumps(document, allow_nan=True), headers=headers)
        stats[(method, path, resp.status_code)] += 1
        shown = json.dumps(document)[:400]
        assert resp.status_code < 500, (method, path, user, shown, resp.status_code, resp.text[:400])
        if resp.status_code >= 400:
            assert _is_error_shape(resp), (method, path, user, shown, resp.status_code, resp.text[:400])

    run()


def test_hostile_bodies_on_every_route_never_answer_5xx(client, engine, sign_in, demo_passwords):
    schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    routes = _json_routes(schema)
    assert len(routes) >= 30
    assert [r[:2] for r in routes if r[:2] not in CALLS] == [], "give these routes a recipe"
    ids = recipe_ids(engine)
    stats: Counter[tuple[str, str, int]] = Counter()
    for method, template, body_schema in routes:
        good, _ = CALLS[(method, template)](ids, demo_passwords, client, sign_in)
        users = [good.username, good.username, good.username, PEERS.get(good.username, good.username)]
        _fuzz_route(client, engine, method, good.path, good.json or {}, body_schema, users, components, stats)
    by_route: dict[str, Counter[int]] = {}
    for (method, path, status), count in stats.items():
        by_route.setdefault(f"{method} {path}", Counter())[status] += count
    print("\n".join(f"{r}: {dict(c)}" for r, c in sorted(by_route.items())))
    print(f"\nfuzzed {len(routes)} bodies: {dict(sorted(Counter(s for (_, _, s) in stats.elements()).items()))}")
    # The callers are of the right role: every route answered something else than 401 or 403 at least once.
    refused = sorted(r for r, counts in by_route.items() if set(counts) <= {401, 403})
    assert refused == [], refused
    assert sum(stats.values()) >= len(routes) * EXAMPLES * 0.9
    # Not only the validator: a good share of the documents got past it into the services (about a third).
    assert sum(c for (_, _, status), c in stats.items() if status != 422) >= 0.2 * sum(stats.values())
