"""HTTP hygiene (issue 16): no-store, nosniff, no Server header, OPTIONS with Allow, local docs under a CSP,
metrics behind a token, the SQLite file 0600, Idempotency-Key in the OpenAPI document."""

from __future__ import annotations

import os
import stat

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from iolaos.app import create_app
from iolaos.config import Settings
from iolaos.migrate import upgrade


def test_authenticated_and_token_responses_are_not_stored(shared_client, demo_passwords):
    token = shared_client.post("/api/v1/auth/token", data={"username": "reviewer.attica",
                                                            "password": demo_passwords["reviewer.attica"]})
    assert token.status_code == 200 and token.headers["cache-control"] == "no-store"
    me = shared_client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.headers["cache-control"] == "no-store" and me.headers["x-content-type-options"] == "nosniff"
    assert shared_client.get("/api/v1/zones/nope").headers["cache-control"] == "no-store"


def test_a_real_server_sends_no_server_header(live_url):
    resp = httpx.get(f"{live_url}/healthz")
    assert resp.status_code == 200 and "server" not in resp.headers


def test_options_answers_with_allow(shared_client):
    resp = shared_client.options("/api/v1/users/1")
    assert resp.status_code == 204
    assert resp.headers["allow"] == "GET, HEAD, OPTIONS, PATCH"
    assert shared_client.options("/api/v1/no-such-thing").status_code == 404
    wrong = shared_client.delete("/api/v1/zones")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET, HEAD, OPTIONS"


def test_api_docs_come_from_local_assets_under_a_csp(shared_client):
    for page in ("/docs", "/redoc"):
        resp = shared_client.get(page)
        assert resp.status_code == 200
        policy = resp.headers["content-security-policy"]
        assert "script-src 'self' 'nonce-" in policy and "frame-ancestors 'none'" in policy
        assert "cdn" not in resp.text and "https://" not in resp.text.split("</head>")[0]
        nonce = policy.split("'nonce-")[1].split("'")[0]
        assert resp.text.count("<script") == resp.text.count(f'nonce="{nonce}"')
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        assert shared_client.get(f"/docs/assets/{asset}").status_code == 200


def test_metrics_need_the_token_or_a_loopback_peer(db):
    settings = db.model_copy(update={"metrics_token": "scrape-secret-123"})
    with TestClient(create_app(settings), client=("203.0.113.5", 40000)) as outsider:
        assert outsider.get("/metrics").status_code == 404
        assert outsider.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
        ok = outsider.get("/metrics", headers={"Authorization": "Bearer scrape-secret-123"})
        assert ok.status_code == 200 and "iolaos_http_requests" in ok.text
    with TestClient(create_app(db), client=("127.0.0.1", 40000)) as local, \
            TestClient(create_app(db), client=("203.0.113.5", 40000)) as remote:
        assert local.get("/metrics").status_code == 200
        assert remote.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 404


def test_the_sqlite_file_is_created_readable_by_its_owner_only(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'fresh.db'}")
    upgrade(settings)
    path = make_url(settings.database_url).database
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    for extra in ("-wal", "-shm"):
        if os.path.exists(path + extra):
            assert stat.S_IMODE(os.stat(path + extra).st_mode) == 0o600


def test_every_write_that_honours_idempotency_keys_documents_the_header(shared_client):
    schema = shared_client.get("/openapi.json").json()
    writes = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()
              if method in ("post", "put", "patch", "delete")]
    assert len(writes) >= 30
    for path, method, op in writes:
        names = {p["name"] for p in op.get("parameters", []) if p["in"] == "header"}
        assert ("Idempotency-Key" in names) == bool(op.get("security")), (method, path)
