"""The answer cache serves a kept answer only while it is exactly what the route would answer (iolaos.answers).

Each test reads through the cache and, where it matters, compares with a fresh computation of the same read
(``Cache-Control: no-cache``). A change committed anywhere — this app, another instance on the same database,
a process writing through the journal directly — is seen by the very next read.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from iolaos.answers import AnswerCacheMiddleware
from iolaos.app import create_app
from iolaos.auth import cache as principal_cache
from iolaos.auth.actor import system_actor
from iolaos.db import make_engine, session_scope
from iolaos.incidents.models import Incident
from iolaos.journal import service as journal

MANTOUDI = (23.45, 38.80)
FRESH = {"Cache-Control": "no-cache"}


def _report(client, headers, point=MANTOUDI):
    resp = client.post("/api/v1/incidents", headers=headers,
                       json={"kind": "smoke", "point": {"type": "Point", "coordinates": list(point)},
                             "severity": "high", "description": "καπνός"})
    assert resp.status_code == 201, resp.text
    return resp.json()


def _twice(client, url, headers):
    """After a first read (the path's route says it opts in), the next read computed and the one after kept."""
    assert client.get(url, headers=headers).headers["x-answer"] == "fresh"
    first, second = client.get(url, headers=headers), client.get(url, headers=headers)
    assert first.status_code == second.status_code == 200, (first.text, second.text)
    assert first.headers["x-answer"] == "fresh" and second.headers["x-answer"] == "kept"
    return first, second


def test_a_repeated_read_is_kept_and_equals_a_fresh_one(client, sign_in):
    dispatcher = sign_in(client, "dispatcher.sterea")
    incident = _report(client, sign_in(client, "leader.limni"))
    for url in ("/api/v1/incidents?open=true", f"/api/v1/incidents/{incident['id']}"):
        first, second = _twice(client, url, dispatcher)
        fresh = client.get(url, headers={**dispatcher, **FRESH})
        assert fresh.headers["x-answer"] == "fresh"
        assert first.content == second.content == fresh.content
        assert second.headers["content-type"] == first.headers["content-type"]
        assert second.headers["content-language"] == first.headers["content-language"] == "el"


def test_a_change_through_the_api_is_seen_by_the_next_read(client, sign_in):
    dispatcher = sign_in(client, "dispatcher.sterea")
    incident = _report(client, sign_in(client, "leader.limni"))
    url = f"/api/v1/incidents/{incident['id']}"
    _twice(client, url, dispatcher)
    moved = client.post(f"{url}/status", headers=dispatcher, json={"status": "acknowledged"})
    assert moved.status_code == 200, moved.text
    after = client.get(url, headers=dispatcher)
    assert after.headers["x-answer"] == "fresh" and after.json()["status"] == "acknowledged"


def test_a_change_made_by_another_instance_is_seen_by_the_next_read(client, db, sign_in):
    dispatcher = sign_in(client, "dispatcher.sterea")
    listing = "/api/v1/incidents?open=true"
    _twice(client, listing, dispatcher)
    with TestClient(create_app(db), raise_server_exceptions=False) as other:
        made = _report(other, sign_in(other, "leader.limni"))
    after = client.get(listing, headers=dispatcher)
    assert after.headers["x-answer"] == "fresh"
    assert made["id"] in [i["id"] for i in after.json()]


def test_a_journaled_change_from_outside_any_instance_is_seen_by_the_next_read(client, db, sign_in):
    """The CLI and the worker write through the journal in a process of their own."""
    dispatcher = sign_in(client, "dispatcher.sterea")
    incident = _report(client, sign_in(client, "leader.limni"))
    url = f"/api/v1/incidents/{incident['id']}"
    _twice(client, url, dispatcher)
    engine = make_engine(db)
    try:
        with session_scope(engine) as session:
            row = session.get(Incident, incident["id"])
            row.description = "αλλαγή από τη γραμμή εντολών"
            journal.record(session, actor=system_actor(), action="incident.edit", subject_type="incident",
                           subject_id=incident["id"], data={"description": row.description})
    finally:
        engine.dispose()
    after = client.get(url, headers=dispatcher)
    assert after.headers["x-answer"] == "fresh"
    assert after.json()["description"] == "αλλαγή από τη γραμμή εντολών"


def test_callers_never_share_kept_answers(client, sign_in):
    incident = _report(client, sign_in(client, "leader.limni"))
    sterea, attica = sign_in(client, "dispatcher.sterea"), sign_in(client, "dispatcher.attica")
    listing = "/api/v1/incidents"
    _twice(client, listing, sterea)
    theirs = client.get(listing, headers=attica)
    assert theirs.headers["x-answer"] == "fresh"
    assert incident["id"] not in [i["id"] for i in theirs.json()]
    detail = f"/api/v1/incidents/{incident['id']}"
    _twice(client, detail, sterea)
    refused = client.get(detail, headers=attica)
    assert refused.status_code == 404 and "x-answer" not in refused.headers


def test_the_language_is_part_of_the_key(client, sign_in):
    dispatcher = sign_in(client, "dispatcher.sterea")
    listing = "/api/v1/incidents"
    _twice(client, listing, dispatcher)
    english = client.get(listing, headers={**dispatcher, "Accept-Language": "en"})
    assert english.headers["x-answer"] == "fresh" and english.headers["content-language"] == "en"


def test_a_signed_out_token_gets_no_kept_answer(client, sign_in):
    dispatcher = sign_in(client, "dispatcher.sterea")
    listing = "/api/v1/incidents"
    _twice(client, listing, dispatcher)
    assert client.post("/api/v1/auth/logout", headers=dispatcher).status_code == 204
    assert client.get(listing, headers=dispatcher).status_code == 401


def test_errors_and_unauthenticated_reads_are_never_kept(client, sign_in):
    dispatcher = sign_in(client, "dispatcher.sterea")
    for _ in range(2):
        missing = client.get("/api/v1/incidents/999999", headers=dispatcher)
        assert missing.status_code == 404 and "x-answer" not in missing.headers
        anonymous = client.get("/api/v1/incidents")
        assert anonymous.status_code == 401 and "x-answer" not in anonymous.headers


def test_a_read_that_did_not_opt_in_is_never_kept(client, sign_in):
    dispatcher = sign_in(client, "dispatcher.sterea")
    for _ in range(2):
        resp = client.get("/api/v1/auth/me", headers=dispatcher)
        assert resp.status_code == 200 and "x-answer" not in resp.headers


def test_a_zero_budget_turns_the_cache_off(db, sign_in):
    with TestClient(create_app(db.model_copy(update={"answer_cache_bytes": 0})),
                    raise_server_exceptions=False) as client:
        dispatcher = sign_in(client, "dispatcher.sterea")
        for _ in range(2):
            resp = client.get("/api/v1/incidents", headers=dispatcher)
            assert resp.status_code == 200 and "x-answer" not in resp.headers


def test_a_kept_answer_large_enough_to_be_compressed_is_compressed_again(client, sign_in):
    """The gzip layer outside the cache rewrites the headers it is sent; what is kept is the plain answer."""
    leader, dispatcher = sign_in(client, "leader.limni"), sign_in(client, "dispatcher.sterea")
    for _ in range(12):
        _report(client, leader)
    headers = {**dispatcher, "Accept-Encoding": "gzip"}
    first, second = _twice(client, "/api/v1/incidents", headers)
    assert first.headers["content-encoding"] == second.headers["content-encoding"] == "gzip"
    assert len(first.content) > 8192 and first.content == second.content


def _answer_cache(app) -> AnswerCacheMiddleware:
    layer = app.middleware_stack
    while not isinstance(layer, AnswerCacheMiddleware):
        layer = layer.app
    return layer


def test_a_change_without_a_journal_record_is_seen_after_the_longest_keeping_time(db, sign_in):
    """SQL by hand moves no head: the answer may be kept, but never longer than ``answer_cache_seconds``."""
    app = create_app(db.model_copy(update={"answer_cache_seconds": 30}))
    with TestClient(app, raise_server_exceptions=False) as client:
        dispatcher = sign_in(client, "dispatcher.sterea")
        incident = _report(client, sign_in(client, "leader.limni"))
        url = f"/api/v1/incidents/{incident['id']}"
        now = [1000.0]
        _answer_cache(app).clock = lambda: now[0]
        principal_cache.of(app).clock = lambda: 0.0  # who is calling stays known however long the test takes
        _twice(client, url, dispatcher)
        engine = make_engine(db)
        try:
            with engine.begin() as conn:
                conn.execute(text("UPDATE incident SET description = 'χωρίς ημερολόγιο' WHERE id = :id"),
                             {"id": incident["id"]})
        finally:
            engine.dispose()
        now[0] += 29
        assert client.get(url, headers=dispatcher).json()["description"] == "καπνός"  # kept: nothing journaled
        now[0] += 1
        after = client.get(url, headers=dispatcher)
        assert after.headers["x-answer"] == "fresh" and after.json()["description"] == "χωρίς ημερολόγιο"


def test_many_small_answers_stay_within_the_budget(db, sign_in):
    """Each kept answer costs its body, headers, URL and a fixed overhead; past the budget the cache starts afresh."""
    budget = 12 * 1024  # past offset 0 the pages are empty lists: forty of them cost more than this
    app = create_app(db.model_copy(update={"answer_cache_bytes": budget}))
    with TestClient(app, raise_server_exceptions=False) as client:
        dispatcher = sign_in(client, "dispatcher.sterea")
        _report(client, sign_in(client, "leader.limni"))
        cache, kept, dropped = None, 0, 0
        for reads, offset in enumerate([*range(40), *reversed(range(40))], start=1):  # back: the newest first
            url = f"/api/v1/incidents?offset={offset}"
            resp = client.get(url, headers=dispatcher)
            assert resp.status_code == 200
            cache = cache or _answer_cache(app)
            assert cache._bytes <= budget
            kept += resp.headers["x-answer"] == "kept"
            dropped += reads > 40 and resp.headers["x-answer"] == "fresh"
        assert dropped > 0 and kept > 0  # the second pass found some answers kept and some dropped


def test_an_answer_dies_with_the_principal_entry_that_computed_it(db, sign_in):
    """The organisations a caller's scopes reach are memoised on the principal cache's entry; an answer computed
    with one entry's view is not served once the entry has been looked up again (within auth_cache_seconds)."""
    app = create_app(db)
    with TestClient(app, raise_server_exceptions=False) as client:
        dispatcher = sign_in(client, "dispatcher.sterea")
        seconds = [0.0]
        principal_cache.of(app).clock = lambda: seconds[0]
        listing = "/api/v1/incidents"
        _twice(client, listing, dispatcher)
        seconds[0] += app.state.settings.auth_cache_seconds  # the entry is stale: the route looks the caller up
        assert client.get(listing, headers=dispatcher).headers["x-answer"] == "fresh"
        assert client.get(listing, headers=dispatcher).headers["x-answer"] == "kept"  # under the new entry


def test_reads_that_never_opted_in_do_not_read_the_head(client, sign_in):
    reader = client.app.state.head_reader
    reads = []
    original = reader.read

    async def counted():
        reads.append(1)
        return await original()

    reader.read = counted
    dispatcher = sign_in(client, "dispatcher.sterea")
    for _ in range(3):
        assert client.get("/api/v1/auth/me", headers=dispatcher).status_code == 200
    assert reads == []
    for _ in range(3):
        assert client.get("/api/v1/incidents", headers=dispatcher).status_code == 200
    assert len(reads) == 2  # the first read of the path only learns that its route opts in


def test_kept_answers_are_counted_under_their_route_in_the_metrics(db, sign_in):
    with TestClient(create_app(db.model_copy(update={"metrics_token": "scrape"})),
                    raise_server_exceptions=False) as client:
        dispatcher = sign_in(client, "dispatcher.sterea")
        _twice(client, "/api/v1/incidents", dispatcher)
        metrics = client.get("/metrics", headers={"Authorization": "Bearer scrape"}).text
    counted = [line for line in metrics.splitlines()
               if line.startswith("iolaos_http_requests_total") and 'route="/api/v1/incidents"' in line]
    assert counted and sum(float(line.rsplit(" ", 1)[1]) for line in counted) >= 3, metrics[:2000]
    assert 'route="<unmatched>"' not in metrics
