"""Prometheus metrics on ``/metrics``: HTTP requests and latency by route template, and the live hub's counters.

Each app has its own registry (tests build many apps in one process). Route labels are templates
(``/api/v1/incidents/{incident_id}``), never raw paths, so the label set stays small; unmatched paths are
counted as ``<unmatched>``. ``/metrics`` is for the monitoring network: the proxy in deploy/nginx.conf refuses
it from outside.
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0, 15.0)


class HubCollector(Collector):
    """Reads the hub's status and counters at scrape time (no cost on the hot path)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[Any]:
        """Gauges and counters of the realtime hub of this process."""
        hub = getattr(self.app.state, "hub", None)
        if hub is None:
            return
        status = hub.status()
        for name, key, doc in (("iolaos_ws_connections", "connections", "open websocket connections"),
                               ("iolaos_ws_live_connections", "live", "connections receiving live events"),
                               ("iolaos_ws_queued_messages", "queued", "messages waiting in send queues"),
                               ("iolaos_ws_topics", "topics", "distinct subscribed topics"),
                               ("iolaos_journal_seq", "seq", "newest event seq read by this process's hub")):
            yield GaugeMetricFamily(name, doc, value=float(status.get(key) or 0))
        yield GaugeMetricFamily("iolaos_fanout_backend_connected", "1 when the wake-up backend is connected",
                                value=1.0 if status.get("backend_connected") else 0.0)
        stats = getattr(hub, "stats", {})
        delivered = CounterMetricFamily("iolaos_ws_events_delivered", "events queued to websocket clients")
        delivered.add_metric([], float(stats.get("events_delivered", 0)))
        yield delivered
        read = CounterMetricFamily("iolaos_ws_events_read", "events read from the journal by the hub")
        read.add_metric([], float(stats.get("events_read", 0)))
        yield read
        closes = CounterMetricFamily("iolaos_ws_slow_closes", "connections closed as too slow (4008)",
                                     labels=["reason"])
        closes.add_metric(["queue_full"], float(stats.get("queue_full_closes", 0)))
        closes.add_metric(["stalled"], float(stats.get("stalled_closes", 0)))
        yield closes


class Metrics:
    """The registry of one app and its HTTP instruments."""

    def __init__(self, app: FastAPI) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("iolaos_http_requests", "HTTP requests by method, route template and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("iolaos_http_request_duration_seconds", "HTTP request latency by route template",
                                 ["method", "route"], buckets=BUCKETS, registry=self.registry)
        self.ws_opened = Counter("iolaos_ws_handshakes", "websocket handshakes received", registry=self.registry)
        self.registry.register(HubCollector(app))


class MetricsMiddleware:
    """Pure ASGI middleware timing each HTTP request (streaming-safe, no body buffering)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count and time HTTP requests; count websocket handshakes."""
        if scope["type"] == "websocket":
            self.metrics.ws_opened.inc()
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            if template != "/metrics":
                method = scope.get("method", "GET")
                self.metrics.requests.labels(method, template, str(status)).inc()
                self.metrics.latency.labels(method, template).observe(time.perf_counter() - began)


def may_scrape(request: Request) -> bool:
    """With ``metrics_token`` set, only a request bearing it; without, only a loopback peer (after
    trusted-proxy resolution, so a request relayed by the proxy never counts as local)."""
    token = request.app.state.settings.metrics_token
    if token:
        sent = request.headers.get("authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def install_metrics(app: FastAPI) -> Metrics:
    """Add the middleware and the ``/metrics`` endpoint to ``app``."""
    metrics = Metrics(app)
    app.state.metrics = metrics
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    async def prometheus(request: Request) -> Response:
        """Prometheus text exposition format (a plain route: operational, not part of the API schema)."""
        if not may_scrape(request):
            return Response(status_code=404)  # as if absent: nothing tells a stranger it exists
        return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.add_route("/metrics", prometheus, methods=["GET"], include_in_schema=False)
    return metrics
