"""/metrics in Prometheus format, JSON logs without secrets, and `iolaos worker --once`."""

from __future__ import annotations

import json
import logging
import sys

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from iolaos.app import create_app
from iolaos.config import Settings
from iolaos.journal import checkpoint as cp_mod
from iolaos.logging import REDACTED, JsonFormatter, redact
from iolaos.worker import latest_checkpoint, run


def _samples(text: str) -> dict[str, list]:
    found: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample)
    return found


def test_metrics_count_requests_by_route_template(db: Settings, sign_in) -> None:
    settings = db.model_copy(update={"metrics_token": "scrape-token-for-tests"})  # /metrics needs it (issue 16)
    with TestClient(create_app(settings)) as client:
        _count_and_scrape(client, sign_in)


def _count_and_scrape(client: TestClient, sign_in) -> None:
    headers = sign_in(client, "dispatcher.attica")
    for _ in range(3):
        assert client.get("/api/v1/incidents/999999", headers=headers).status_code == 404
    assert client.get("/no/such/path").status_code == 404
    resp = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-for-tests"})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    samples = _samples(resp.text)
    requests = {(s.labels["route"], s.labels["status"]): s.value for s in samples["iolaos_http_requests_total"]}
    assert requests[("/api/v1/incidents/{incident_id}", "404")] == 3
    assert requests[("<unmatched>", "404")] == 1
    assert not any("999999" in route for route, _ in requests)
    counts = {s.labels["route"]: s.value for s in samples["iolaos_http_request_duration_seconds_count"]}
    assert counts["/api/v1/incidents/{incident_id}"] == 3
    assert any(s.labels["le"] == "0.3" for s in samples["iolaos_http_request_duration_seconds_bucket"])
    for name in ("iolaos_ws_connections", "iolaos_ws_live_connections", "iolaos_ws_queued_messages",
                 "iolaos_ws_events_delivered_total", "iolaos_ws_events_read_total", "iolaos_ws_slow_closes_total",
                 "iolaos_fanout_backend_connected"):
        assert name in samples, name
    assert {s.labels["reason"] for s in samples["iolaos_ws_slow_closes_total"]} == {"queue_full", "stalled"}


def test_metrics_can_be_turned_off(db: Settings) -> None:
    with TestClient(create_app(db.model_copy(update={"metrics_enabled": False}))) as client:
        assert client.get("/metrics").status_code == 404


def _record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("iolaos.test", logging.INFO, __file__, 1, msg, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_json_logs_are_one_object_per_line_without_secrets() -> None:
    formatter = JsonFormatter()
    line = formatter.format(_record(
        'GET /ws?ticket=q3XvSECRET1&x=1 Authorization: Bearer sSg1SECRET2 db postgresql+psycopg://app:SECRET3@db/x '
        'password=SECRET4 {"token": "SECRET5"}', password="SECRET6", user_id=7, job="purge", access_token="SECRET7"))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "info" and entry["logger"] == "iolaos.test" and entry["ts"].endswith("Z")
    assert entry["user_id"] == 7 and entry["job"] == "purge"
    assert "SECRET" not in line, line
    assert entry["password"] == REDACTED and entry["access_token"] == REDACTED
    assert "x=1" in entry["msg"]


def test_exceptions_are_redacted_too() -> None:
    try:
        raise RuntimeError("could not connect to redis://:SECRETPW@127.0.0.1:6379/0")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert "SECRETPW" not in entry["exc"] and "RuntimeError" in entry["exc"]
    assert redact("nothing secret here") == "nothing secret here"


def test_worker_runs_each_job_once_and_chains_checkpoints(db: Settings, tmp_path) -> None:
    key = tmp_path / "key.pem"
    cp_mod.generate_key(key)
    settings = db.model_copy(update={"worker_checkpoint_key": key, "worker_checkpoint_dir": tmp_path / "cps",
                                     "worker_sweep_seconds": 60.0, "worker_purge_seconds": 60.0,
                                     "worker_checkpoint_seconds": 60.0})
    assert run(settings, once=True) == 0
    first = latest_checkpoint(tmp_path / "cps")
    assert first is not None
    assert run(settings, once=True) == 0  # verifies the chain against the first checkpoint, then signs anew
    second = latest_checkpoint(tmp_path / "cps")
    assert second is not None and second != first
    assert cp_mod.read_checkpoint(second).seq >= cp_mod.read_checkpoint(first).seq


def test_worker_reports_a_failing_job(db: Settings, tmp_path) -> None:
    settings = db.model_copy(update={"worker_checkpoint_key": tmp_path / "missing.pem",
                                     "worker_checkpoint_dir": tmp_path / "cps", "worker_purge_seconds": 0.0})
    assert run(settings, once=True) == 1  # the checkpoint fails (no key); the sweep still ran
