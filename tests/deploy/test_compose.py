"""deploy/: the compose file, env example, nginx config and Dockerfile agree with the service's settings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from iolaos.config import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
FIELDS = {f"IOLAOS_{name.upper()}" for name in Settings.model_fields}
API = ("api1", "api2")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """deploy/compose.yaml, parsed (anchors and merge keys resolved)."""
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def test_compose_is_well_formed(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"db", "redis", "migrate", *API, "worker", "proxy"} <= set(services)
    assert "postgis" in services["db"]["image"]
    assert services["redis"]["image"].startswith("redis")
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        for dep in service.get("depends_on", {}):
            assert dep in services, f"{name} depends on unknown {dep}"


def test_every_iolaos_variable_is_a_setting(compose: dict[str, Any]) -> None:
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    named = set(re.findall(r"\bIOLAOS_[A-Z0-9_]+", text))
    passed = {key for service in compose["services"].values() for key in _env(service) if key.startswith("IOLAOS_")}
    assert passed, "compose passes no settings"
    assert named | passed <= FIELDS, f"not settings: {sorted((named | passed) - FIELDS)}"
    example = (DEPLOY / "env.example").read_text(encoding="utf-8")
    in_example = set(re.findall(r"^\s*(IOLAOS_[A-Z0-9_]+)=", example, re.M))
    assert in_example and in_example <= FIELDS, f"not settings: {sorted(in_example - FIELDS)}"
    everywhere = set(re.findall(r"\bIOLAOS_[A-Z0-9_]+", example + (DEPLOY / "Dockerfile").read_text()))
    assert everywhere <= FIELDS, f"not settings: {sorted(everywhere - FIELDS)}"


def test_each_value_parses_as_its_setting(compose: dict[str, Any]) -> None:
    """Literal values (not ${…} interpolations) are accepted by Settings."""
    for name, service in compose["services"].items():
        env = {k[len("IOLAOS_"):].lower(): v for k, v in _env(service).items()
               if k.startswith("IOLAOS_") and "${" not in v}
        Settings(**env)  # raises on a bad value
        assert name


def test_api_replicas_share_postgres_and_redis(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in (*API, "worker"):
        env = _env(services[name])
        url = env["IOLAOS_DATABASE_URL"]
        assert url.startswith("postgresql+psycopg://") and "@db:5432/" in url
        assert env["IOLAOS_BROKER_URL"] == "redis://redis:6379/0"
        assert env["IOLAOS_FANOUT"] == "redis"
    for name in API:
        api = services[name]
        assert api["command"][:2] == ["iolaos", "serve"] and "8000" in api["command"]
        assert "/readyz" in " ".join(api["healthcheck"]["test"])
        assert _env(api)["IOLAOS_FIELD_SWEEP_SECONDS"] == "0"
        assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["worker"]["command"] == ["iolaos", "worker"]
    assert "grant-app-role" in " ".join(services["migrate"]["command"])
    for name in ("db", "redis", "proxy"):
        assert services[name]["healthcheck"]["test"], name
    assert "/healthz" in " ".join(services["proxy"]["healthcheck"]["test"])


def test_proxy_ports_and_upstreams(compose: dict[str, Any]) -> None:
    proxy = compose["services"]["proxy"]
    published = {p.split(":")[-1] for p in proxy["ports"]}
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    listens = set(re.findall(r"listen\s+(\d+)", conf))
    assert published <= listens, (published, listens)
    assert any("nginx.conf" in v for v in proxy["volumes"])
    for name in API:
        assert f"server {name}:8000" in conf
    assert "ssl_certificate " in conf and "ssl_certificate_key" in conf and re.search(r"listen\s+\d+\s+ssl", conf)


def test_nginx_upgrades_websockets_and_hides_metrics() -> None:
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    ws = re.search(r"location /ws \{(.*?)\}", conf, re.S)
    assert ws, "no /ws location"
    block = ws.group(1)
    assert "proxy_set_header Upgrade $http_upgrade" in block
    assert "proxy_set_header Connection $connection_upgrade" in block
    assert re.search(r"map \$http_upgrade \$connection_upgrade", conf)
    assert "proxy_http_version 1.1" in conf
    assert re.search(r"location = /metrics \{\s*deny all;", conf)


def test_dockerfile() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim", text, re.M)
    assert re.search(r"^USER (?!root)\S+", text, re.M)
    assert "pip install ." in text
    assert 'CMD ["iolaos", "serve"]' in text
    assert "/healthz" in text
