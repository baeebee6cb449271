"""The answer cache: whole answers of hot reads, kept until the journal head moves (issue 19).

A route opts in with ``auth.deps.JournaledReaderDep``, declaring that its answer is a function of the journaled
state, the caller, the URL and the language only. Its ``200`` answer is then kept, keyed by (caller, language,
path and query), under the journal head (``journal.head``: ``audit_seq``) read *before* the route ran, so
everything the route read is at least that new. The next time the same caller asks for the same URL, the head is
read again; if it has not moved, no journaled change has committed since, so the kept answer is exactly what the
route would answer, and it is sent without a thread, a pooled connection or a query beyond the head's.
An answer is kept at most ``max_age`` seconds (``answer_cache_seconds``): the bound for a change written without
a journal record (SQL by hand), which moves no head.

Who is calling comes from the principal cache (``auth.cache``), with the same bound on revocation as every other
read; a caller it does not know yet goes through the route, which looks them up (so with the principal cache off,
``auth_cache_seconds=0``, no answer is served kept). The first read that sees a new
head drops every kept answer. ``Cache-Control: no-cache`` from the client skips the lookup (the answer is
computed afresh). Answers carry ``X-Answer: kept`` or ``X-Answer: fresh`` so that a client or a test can tell.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from iolaos import i18n
from iolaos.auth import cache as principal_cache
from iolaos.deps import ANSWER_FOR
from iolaos.journal.head import HeadReader
from iolaos.kit.time import utcnow

ENTRY_OVERHEAD = 400  # bytes of a kept answer beyond its body, headers and URL (key, objects, dict slot)
MAX_ANSWER_SHARE = 16  # one answer may take at most this fraction of the budget (and at most 1 MiB)
_KEPT = (b"x-answer", b"kept")
_FRESH = (b"x-answer", b"fresh")


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    kept_at: float  # monotonic seconds


class AnswerCacheMiddleware:
    """ASGI middleware serving kept answers of GET requests with a bearer token (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, budget_bytes: int, max_age: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.budget = budget_bytes
        self.max_age = max_age
        self.clock = clock
        self.max_answer = min(budget_bytes // MAX_ANSWER_SHARE, 1 << 20)
        self._head: int | None = None  # the newest head seen; every kept answer was computed at it
        self._answers: dict[tuple[Any, ...], _Answer] = {}
        self._bytes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.budget <= 0 or scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        token = _bearer(_first(scope, b"authorization"))
        head = await self._read_head(scope) if token else None
        if head is None:
            await self.app(scope, receive, send)
            return
        place = (i18n.current_language(), scope["path"], scope["query_string"])
        if b"no-cache" not in (_first(scope, b"cache-control") or b""):
            principal = principal_cache.of(scope["app"]).get(token, utcnow())  # type: ignore[arg-type]
            if principal is not None:
                kept = self._answers.get((principal_cache.caller_key(principal), *place))
                if kept is not None and self.clock() - kept.kept_at < self.max_age:
                    await _replay(kept, send)
                    return
        await self._compute(scope, receive, send, head, place)

    async def _read_head(self, scope: Scope) -> int | None:
        reader: HeadReader | None = getattr(scope["app"].state, "head_reader", None)  # made by the lifespan
        head = await reader.read() if reader is not None else None
        if head is not None and head != self._head:
            self._head = head
            self._answers.clear()
            self._bytes = 0
        return head

    async def _compute(self, scope: Scope, receive: Receive, send: Send, head: int, place: tuple[Any, ...]) -> None:
        """Run the route; keep its answer if it opted in, succeeded, is small enough and the head is still ``head``."""
        start: tuple[int, tuple[tuple[bytes, bytes], ...]] | None = None
        parts: list[bytes] = []
        size = 0

        async def keep_and_send(message: Message) -> None:
            nonlocal start, size
            if message["type"] == "http.response.start" and ANSWER_FOR in scope and message["status"] == 200:
                # A copy taken now: the layers outside (gzip) change the headers of the message they are sent.
                start = (message["status"], tuple(message.get("headers", ())))
                message = {**message, "headers": [*start[1], _FRESH]}
            elif message["type"] == "http.response.body" and start is not None:
                size += len(message.get("body", b""))
                if size <= self.max_answer:
                    parts.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, keep_and_send)
        if start is None or size > self.max_answer or head != self._head:
            return
        status, kept_headers = start
        if any(k.lower() == b"set-cookie" for k, _ in kept_headers):
            return
        # What an entry really costs: many small answers (one per page of a list, say) must fill the budget too.
        cost = size + sum(len(k) + len(v) for k, v in kept_headers) + len(place[1]) + len(place[2]) + ENTRY_OVERHEAD
        if self._bytes + cost > self.budget:
            self._answers.clear()
            self._bytes = 0
        self._answers[(scope[ANSWER_FOR], *place)] = _Answer(status, (*kept_headers, _KEPT), b"".join(parts),
                                                               self.clock())
        self._bytes += cost


def _first(scope: Scope, name: bytes) -> bytes | None:
    """The first header ``name`` (lower case), as Starlette's ``Headers.get`` and so the route read it."""
    return next((v for k, v in scope["headers"] if k == name), None)


def _bearer(value: bytes | None) -> str | None:
    if not value or value[:7].lower() != b"bearer ":
        return None
    return value[7:].strip().decode("latin-1") or None


async def _replay(answer: _Answer, send: Send) -> None:
    await send({"type": "http.response.start", "status": answer.status, "headers": list(answer.headers)})
    await send({"type": "http.response.body", "body": answer.body})
