"""A fake SMS gateway for the demo and the tests: accepts the gateway requests and keeps them in memory.

Mounted at ``/fake-sms`` when ``IOLAOS_NOTIFY_SMS_URL=fake`` (the demo), or run on its own port by tests, which can
also make it refuse the next requests to exercise retries.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


class FakeSmsGateway:
    """Messages received (newest last, at most ``keep``), and failures to answer with on demand."""

    def __init__(self, keep: int = 1000) -> None:
        self.messages: deque[dict[str, Any]] = deque(maxlen=keep)
        self.failures: deque[int] = deque()
        self.lock = threading.Lock()
        self.app = Starlette(routes=[Route("/messages", self._post, methods=["POST"]),
                                     Route("/messages", self._list, methods=["GET"])])

    def fail_next(self, count: int, status: int = 503) -> None:
        """Answer the next ``count`` requests with ``status`` (without keeping them)."""
        with self.lock:
            self.failures.extend([status] * count)

    async def _post(self, request: Request) -> JSONResponse:
        body = await request.json()
        with self.lock:
            if self.failures:
                return JSONResponse({"error": "unavailable"}, status_code=self.failures.popleft())
            self.messages.append(body if isinstance(body, dict) else {"body": body})
            count = len(self.messages)
        return JSONResponse({"accepted": True, "id": count}, status_code=202)

    async def _list(self, request: Request) -> JSONResponse:
        with self.lock:
            return JSONResponse({"messages": list(self.messages)})
