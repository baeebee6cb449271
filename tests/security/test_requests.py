"""Request limits and strict input (issue 16): 413 before reading, control characters, naive or extreme times,
booleans as numbers."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest
from pydantic import TypeAdapter, ValidationError

from iolaos.kit.strict import Instant

ATTICA = {"type": "Point", "coordinates": [23.85, 38.10]}


def test_a_50_mb_body_without_a_token_gets_413_before_it_is_read(live_url):
    """Acceptance 4 (memory growth is measured by bench/body_limit.py, figures in docs/benchmarks.md)."""
    parts = urlsplit(live_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        began = time.perf_counter()
        sock.sendall(b"POST /api/v1/incidents HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 52428800\r\n\r\n" + b"[" * 65536)  # 64 KiB of the 50 MB, then wait
        answer = sock.recv(65536).decode("latin-1")
        elapsed = time.perf_counter() - began
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert "payload_too_large" in answer and "connection: close" in answer.lower()
    assert elapsed < 1.0, elapsed


def test_a_chunked_body_over_the_cap_is_cut_off(client):
    def chunks():
        for _ in range(40):
            yield b"x" * 65536  # 2.5 MiB in all, no Content-Length

    resp = client.post("/api/v1/auth/token", content=chunks(),
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 413 and resp.json()["error"] == "payload_too_large"


def test_position_batches_have_their_own_cap(client, bearer):
    headers = bearer("volunteer.penteli")
    body = b'{"reports": [' + b" " * 300_000 + b"]}"  # over 256 KiB, under the 1 MiB default
    assert client.post("/api/v1/positions", content=body, headers={**headers, "Content-Type": "application/json"}
                       ).status_code == 413
    elsewhere = client.post("/api/v1/incidents", content=body, headers={**headers, "Content-Type": "application/json"})
    assert elsewhere.status_code == 422  # read and parsed: the default cap is larger


@pytest.mark.parametrize("text", ["nul\u0000here", "bell\u0007", "esc\u001b[31m", "del\u007f", "c1\u0085"])
def test_control_characters_in_text_are_refused(client, bearer, text):
    resp = client.post("/api/v1/incidents", headers=bearer("leader.penteli"),
                       json={"kind": "smoke", "point": ATTICA, "description": text})
    assert resp.status_code == 422 and resp.json()["error"] == "invalid_input", resp.text


def test_line_breaks_in_notes_are_kept_and_escaped_backslashes_are_text(client, bearer):
    resp = client.post("/api/v1/incidents", headers=bearer("leader.penteli"),
                       json={"kind": "smoke", "point": ATTICA, "description": "line one\nline two \\u0000 as text"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["description"] == "line one\nline two \\u0000 as text"


def test_control_characters_in_the_url_are_refused(shared_client):
    for url in ("/api/v1/zones?kind=%00", "/api/v1/zones/%1b", "/ogc/collections/risk/items?datetime=2026%0a"):
        resp = shared_client.get(url)
        assert resp.status_code == 422 and resp.json()["error"] == "invalid_input", url


@pytest.mark.parametrize("coordinates", [[0.0, False], [True, 38.1], ["23.8", 38.1]])
def test_coordinates_must_be_json_numbers(client, bearer, coordinates):
    resp = client.post("/api/v1/incidents", headers=bearer("leader.penteli"),
                       json={"kind": "smoke", "point": {"type": "Point", "coordinates": coordinates}})
    assert resp.status_code == 422, resp.text


def test_positions_refuse_booleans_and_naive_times(client, bearer):
    headers = bearer("volunteer.penteli")
    good = {"patrol_id": 1, "at": "2026-07-14T10:00:00Z", "lon": 23.85, "lat": 38.1}
    for bad in ({"lon": True}, {"patrol_id": True}, {"at": "2026-07-14T10:00:00"}, {"at": "9999-12-31T23:00:00Z"}):
        resp = client.post("/api/v1/positions", headers=headers, json={"reports": [good | bad]})
        assert resp.status_code == 422, (bad, resp.text)


@pytest.mark.parametrize("url", [
    "/ogc/collections/risk/items?datetime=9999-12-31T23:00:00Z",
    "/ogc/collections/risk/items?datetime=0001-01-01T00:00:00Z/..",
    "/ogc/collections/risk/items?datetime=2026-07-14T10:00:00",
    "/api/v1/audit?since=0001-01-01T00:00:00%2B14:00",
    "/api/v1/audit?since=9999-12-31T23:59:59-14:00",
    "/api/v1/patrols/1/positions?since=2026-12-03T10:00:00",
    "/api/v1/zones/GR-A/risk?date=9999-12-31",
    "/api/v1/responsibility/incident/1/at?at=0001-01-01T00:00:00%2B14:00",
])
def test_naive_or_extreme_times_answer_422(shared_client, url, demo_passwords):
    token = shared_client.post("/api/v1/auth/token", data={"username": "admin", "password": demo_passwords["admin"]})
    resp = shared_client.get(url, headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert resp.status_code == 422, (url, resp.status_code, resp.text)


def test_risk_levels_for_the_years_1_and_9999_are_refused(client, bearer):
    for day in ("0001-07-14", "9999-07-14"):
        resp = client.post("/api/v1/risk/levels", headers=bearer("dispatcher.attica"),
                           json={"levels": [{"zone_code": "GR-I", "date": day, "category": 3}]})
        assert resp.status_code == 422, resp.text


def test_the_strict_instant_type():
    adapter = TypeAdapter(Instant)
    assert adapter.validate_python("2026-07-14T13:00:00+03:00").isoformat() == "2026-07-14T10:00:00+00:00"
    for bad in ("2026-07-14T13:00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-14:00", "1999-12-31T23:00Z"):
        with pytest.raises(ValidationError):
            adapter.validate_python(bad)
