"""ASGI middleware implementing Idempotency-Key for writes (IETF draft semantics).

- a replay of a completed request returns the first response (with ``Idempotent-Replayed: true``);
- the same key with a different request answers 422;
- the same key while the first request is still running waits briefly, then answers 409.
Keys are scoped per signed-in user; requests without a valid token pass straight through.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from functools import partial
from typing import Any

from anyio import to_thread

from iolaos.errors import database_unavailable, error_body
from iolaos.idempotency import store

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
# deps.get_session calls this request-state hook with the request's session right before it commits, so the key's
# row is marked committed in the same transaction as the change (deps knows nothing of idempotency).
STATE_KEY = "before_commit"
log = logging.getLogger(__name__)


class IdempotencyMiddleware:
    """Wraps the app; only requests carrying an Idempotency-Key header are affected."""

    def __init__(self, app: Any, *, wait_seconds: float = 3.0, stale_after: float = 60.0) -> None:
        self.app = app
        self.wait_seconds = wait_seconds
        self.stale_after = stale_after

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        raw_key = headers.get(b"idempotency-key")
        token = _bearer(headers.get(b"authorization", b""))
        if raw_key is None or token is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1").strip().strip('"')
        if not KEY_PATTERN.match(key):
            await _answer(send, 422, error_body("invalid_idempotency_key", "Idempotency-Key must be 1–255 visible "
                                                                           "ASCII characters"))
            return
        engine = scope["app"].state.engine
        try:
            user_id = await to_thread.run_sync(store.user_for_token, engine, token)
            if user_id is None:
                await self.app(scope, receive, send)
                return
            body = await _read_body(receive)
            print_ = store.fingerprint(scope["method"], scope["path"], scope.get("query_string", b""), body)
            outcome = await self._claim(engine, user_id, key, print_)
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            # Answered here: raised further, the server would log a traceback for every request of an outage.
            log.warning("idempotency: database unavailable (%s)", type(exc).__name__)
            await _answer(send, 503, error_body("database_unavailable", "the database is not reachable; try again "
                                                                        "shortly"), retry_after=2)
            return
        if outcome.kind == "proceed":
            assert outcome.record_id is not None  # a claim that proceeds always names its row
            await self._run(scope, body, send, engine, outcome.record_id)
        elif outcome.kind == "replay":
            await _replay(send, outcome)
        elif outcome.kind == "mismatch":
            await _answer(send, 422, error_body("idempotency_key_reused",
                                                "this Idempotency-Key was used for a different request"))
        else:
            await _answer(send, 409, error_body("idempotency_in_flight",
                                                "a request with this Idempotency-Key is still being processed"),
                          retry_after=1)

    async def _claim(self, engine: Any, user_id: int, key: str, print_: str) -> store.Outcome:
        deadline = asyncio.get_running_loop().time() + self.wait_seconds
        while True:
            outcome = await to_thread.run_sync(lambda: store.claim(engine, user_id=user_id, key=key, print_=print_,
                                                                   stale_after=self.stale_after))
            if outcome.kind != "in_flight" or asyncio.get_running_loop().time() >= deadline:
                return outcome
            await asyncio.sleep(0.05)

    async def _run(self, scope: dict, body: bytes, send: Any, engine: Any, record_id: int) -> None:
        scope.setdefault("state", {})[STATE_KEY] = partial(store.mark_committed, record_id=record_id)
        status_code: int = 500
        content_type: str | None = None
        chunks: list[bytes] = []

        async def replay_receive() -> dict:
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: dict) -> None:
            nonlocal status_code, content_type
            if message["type"] == "http.response.start":
                status_code = message["status"]
                ctype = dict(message.get("headers", [])).get(b"content-type")
                content_type = ctype.decode("latin-1") if ctype else None
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive, capture)
        finally:
            try:
                await to_thread.run_sync(store.finish, engine, record_id, status_code, content_type,
                                         b"".join(chunks))
            # The answer is already sent. A retry with this key then answers 409 if the change committed (it is
            # never run twice), or runs again once the record is stale if nothing was committed.
            except Exception as exc:
                if not database_unavailable(exc):
                    raise
                log.warning("idempotency: could not store the answer (%s)", type(exc).__name__)


def _bearer(value: bytes) -> str | None:
    text = value.decode("latin-1")
    if not text.lower().startswith("bearer "):
        return None
    token = text[7:].strip()
    return token or None


async def _read_body(receive: Any) -> bytes:
    parts, more = [], True
    while more:
        message = await receive()
        parts.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(parts)


async def _replay(send: Any, outcome: store.Outcome) -> None:
    headers = [(b"idempotent-replayed", b"true")]
    if outcome.content_type:
        headers.append((b"content-type", outcome.content_type.encode("latin-1")))
    body = outcome.body or b""
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": outcome.status_code or 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _answer(send: Any, status: int, payload: dict, retry_after: int | None = None) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if retry_after:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
