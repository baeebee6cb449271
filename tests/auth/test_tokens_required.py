"""Acceptance 1: every endpoint needs a valid token, except health, sign-in, the API docs and zones."""

from __future__ import annotations

import secrets

import pytest
from starlette.websockets import WebSocketDisconnect

from tests.auth.routes import PUBLIC_PREFIXES, endpoints, websocket_paths

BAD_CREDENTIALS = {
    "no token": {},
    "garbage": {"Authorization": "Bearer garbage"},
    "well-formed but unknown": {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"},
    "empty bearer": {"Authorization": "Bearer "},
    "other scheme": {"Authorization": "Basic YWRtaW46YWRtaW4="},
}


def _protected(app):
    return [e for e in endpoints(app) if e.is_api and not e.is_public]


def test_the_route_walk_finds_the_known_routes(shared_client):
    found = {(e.method, e.path) for e in endpoints(shared_client.app)}
    for expected in [("GET", "/healthz"), ("POST", "/api/v1/auth/token"), ("GET", "/api/v1/zones/{code}"),
                     ("GET", "/openapi.json"), ("PATCH", "/api/v1/users/{user_id}"),
                     ("POST", "/api/v1/organisations"), ("PUT", "/api/v1/volunteers/{volunteer_id}/skills")]:
        assert expected in found
    assert len(_protected(shared_client.app)) >= 15


@pytest.mark.parametrize("label", list(BAD_CREDENTIALS))
def test_every_protected_endpoint_answers_401_in_the_one_error_shape(shared_client, label):
    headers = BAD_CREDENTIALS[label]
    checked = 0
    for endpoint in _protected(shared_client.app):
        resp = shared_client.request(endpoint.method, endpoint.url(), headers=headers)
        where = f"{endpoint.method} {endpoint.path} ({label})"
        assert resp.status_code == 401, f"{where} answered {resp.status_code}: {resp.text[:200]}"
        body = resp.json()
        assert set(body) == {"error", "detail"}, where
        assert body["error"] in ("unauthenticated", "invalid_token"), where
        assert resp.headers.get("www-authenticate") == "Bearer", where
        checked += 1
    assert checked >= 15


def test_a_bad_token_is_refused_before_the_body_is_validated(shared_client):
    resp = shared_client.post("/api/v1/volunteers", json={"nonsense": True}, headers=BAD_CREDENTIALS["garbage"])
    assert resp.status_code == 401
    resp = shared_client.patch("/api/v1/users/not-a-number", json=[], headers=BAD_CREDENTIALS["no token"])
    assert resp.status_code == 401


def test_public_endpoints_answer_without_a_token(shared_client):
    public = [e for e in endpoints(shared_client.app) if e.is_public]
    assert {e.path for e in public} >= {"/healthz", "/readyz", "/api/v1/auth/token", "/openapi.json", "/docs",
                                        "/redoc", "/api/v1/zones", "/api/v1/zones/{code}"}
    for endpoint in public:
        resp = shared_client.request(endpoint.method, endpoint.url(code="GR-I"))
        assert resp.status_code != 401, f"{endpoint.method} {endpoint.path} wants a token"
        assert resp.status_code < 500, f"{endpoint.method} {endpoint.path}: {resp.status_code}"
    assert shared_client.get("/healthz").status_code == 200
    assert shared_client.get("/api/v1/zones/GR-I").status_code == 200
    assert shared_client.get("/openapi.json").status_code == 200


def test_public_reference_data_is_read_only(shared_client):
    for endpoint in endpoints(shared_client.app):
        if endpoint.path.startswith(PUBLIC_PREFIXES):
            assert endpoint.method == "GET", f"{endpoint.method} {endpoint.path} would be public and writable"
    resp = shared_client.post("/api/v1/zones", json={})
    assert resp.status_code == 405
    assert set(resp.json()) == {"error", "detail"}


def test_the_openapi_document_declares_bearer_security_on_protected_operations(shared_client):
    spec = shared_client.get("/openapi.json").json()
    for endpoint in _protected(shared_client.app):
        operation = spec["paths"][endpoint.path][endpoint.method.lower()]
        assert operation.get("security"), f"{endpoint.method} {endpoint.path} does not declare its bearer token"


def test_live_update_sockets_refuse_callers_without_valid_credentials(shared_client):
    for path in websocket_paths(shared_client.app):
        for query, first in [("?ticket=garbage", None), ("", {"type": "auth", "token": "garbage"})]:
            with shared_client.websocket_connect(path + query) as ws:
                if first is not None:
                    ws.send_json(first)
                with pytest.raises(WebSocketDisconnect) as closed:
                    ws.receive_json()
            assert closed.value.code not in (1000, 1001), f"{path}{query} closed normally"

