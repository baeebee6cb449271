"""Admission control: at most N API requests of this process run at once; the others wait their turn.

Why: a request holds a pooled database connection from its first query until its commit, across several hops
between the event loop and the worker threads. When more requests were admitted than there are connections,
the worker threads filled up with requests waiting for a connection while the requests holding the connections
waited for a thread to finish in: nothing moved until the pool timeout answered 503 to everyone (found by
bench/load.py). Waiting here costs neither a thread nor a connection, and the waiting requests run in arrival
order. A request that cannot start within ``request_queue_timeout`` seconds answers 503 ``overloaded``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from iolaos.errors import error_body

GATED = ("/api/", "/ogc")  # what touches the database; pages, static files and health checks pass straight through


class AdmissionMiddleware:
    """ASGI middleware: a semaphore in front of the API's HTTP requests (websockets have their own limits)."""

    def __init__(self, app: Any, *, limit: int, wait_seconds: float) -> None:
        self.app = app
        self.limit = limit
        self.wait_seconds = wait_seconds
        self._slots = asyncio.Semaphore(limit)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(GATED):
            await self.app(scope, receive, send)
            return
        if self._slots.locked():  # wait_for costs a task per call: only pay it when there is a queue
            try:
                await asyncio.wait_for(self._slots.acquire(), self.wait_seconds)
            except TimeoutError:
                await _overloaded(send)
                return
        else:
            await self._slots.acquire()  # a free slot and nobody waiting: taken at once, in arrival order
        try:
            await self.app(scope, receive, send)
        finally:
            self._slots.release()


async def _overloaded(send: Any) -> None:
    body = json.dumps(error_body("overloaded", "the service is busy; try again shortly")).encode()
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"retry-after", b"1")]})
    await send({"type": "http.response.body", "body": body})
