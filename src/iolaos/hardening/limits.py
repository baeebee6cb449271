"""Request limits checked before a route runs: body size (413) and control characters in the input (422).

The body limit is enforced on the declared ``Content-Length`` before a byte of the body is read, and on
the bytes actually received for bodies without one (chunked), so a 50 MB body costs the server nothing.
JSON bodies (at most the cap, so buffering them is bounded) and the query string are also checked for
control characters here, once for every route: no text field has a use for NUL, backspace or escape
characters, PostgreSQL refuses NUL, and log and CSV consumers misread them. Tab, line feed and carriage
return stay allowed inside JSON strings (multi-line notes); names have their own stricter patterns.
"""

from __future__ import annotations

import json
import re
from urllib.parse import unquote_plus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from iolaos.config import Settings
from iolaos.errors import error_body

# A control character in text that arrived decoded (path, query): C0, DEL and C1.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# In a JSON body, control characters can only hide in escapes (\u0000, \b, \f) or be sent raw as DEL or C1.
# Each backslash escape is consumed whole, so an escaped backslash followed by "u0000" text is not a match.
_ESCAPE = re.compile(rb"\\(u[0-9a-fA-F]{4}|.)|\x7f|\xc2[\x80-\x9f]", re.DOTALL)
_ALLOWED_CODES = {0x09, 0x0A, 0x0D}


class _TooLarge(Exception):
    """The body grew past the cap while being read."""


def json_has_controls(body: bytes) -> bool:
    """True when a JSON document's strings hold a control character other than tab, LF and CR."""
    for match in _ESCAPE.finditer(body):
        escape = match.group(1)
        if escape is None:
            return True  # raw DEL or C1
        if escape[:1] == b"u":
            code = int(escape[1:], 16)
            if (code < 0x20 and code not in _ALLOWED_CODES) or 0x7F <= code <= 0x9F:
                return True
        elif escape in (b"b", b"f"):
            return True
    return False


async def _answer(send: Send, status: int, code: str, detail: str) -> None:
    body = json.dumps(error_body(code, detail)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"cache-control", b"no-store")]
    if status == 413:
        headers.append((b"connection", b"close"))  # the unread rest of the body is never read
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """413 for bodies over the cap of their route, 422 for control characters in the query or a JSON body."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.default = settings.max_body_bytes
        # Routes that carry more than an ordinary form, each with its own documented cap (docs/security.md).
        self.caps = {"/api/v1/positions": settings.max_body_bytes_positions,
                     "/api/v1/risk/levels": settings.max_body_bytes_imports}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request's size and text, then pass it on."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = unquote_plus(scope.get("query_string", b"").decode("latin-1"), errors="replace")
        if _CONTROL.search(scope.get("path", "")) or _CONTROL.search(query):
            await _answer(send, 422, "invalid_input", "control characters are not allowed in the URL")
            return
        cap = self.caps.get(scope.get("path", ""), self.default)
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _answer(send, 400, "bad_request", "invalid Content-Length")
                return
            if int(declared) > cap:
                await _answer(send, 413, "payload_too_large", f"the body may have at most {cap} bytes")
                return
        is_json = headers.get(b"content-type", b"").split(b";")[0].strip().endswith(b"json")
        if is_json and scope.get("method") in ("POST", "PUT", "PATCH", "DELETE"):
            await self._buffered(scope, receive, send, cap)
            return
        await self._streamed(scope, receive, send, cap)

    async def _buffered(self, scope: Scope, receive: Receive, send: Send, cap: int) -> None:
        """Read a JSON body (at most ``cap`` bytes), check its strings, then replay it to the app."""
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > cap:
                await _answer(send, 413, "payload_too_large", f"the body may have at most {cap} bytes")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if json_has_controls(body):
            await _answer(send, 422, "invalid_input", "control characters are not allowed in text")
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)

    async def _streamed(self, scope: Scope, receive: Receive, send: Send, cap: int) -> None:
        """Pass any other body through, counting bytes as the app reads them."""
        size = 0
        started = exceeded = False

        async def counted() -> Message:
            nonlocal size, exceeded
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > cap:
                    exceeded = True
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if exceeded:  # a parser caught _TooLarge and answered on its own (e.g. 400): answer 413 instead
                if not started and message["type"] == "http.response.start":
                    started = True
                    await _answer(send, 413, "payload_too_large", f"the body may have at most {cap} bytes")
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if started:
                raise
            await _answer(send, 413, "payload_too_large", f"the body may have at most {cap} bytes")


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    """A receive callable that yields ``messages`` first, then defers to ``then`` (disconnects)."""
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is None:
            return {"type": "http.disconnect"}
        return await then()

    return receive
