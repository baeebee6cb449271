"""The answer cache: whole answers of hot reads, kept until the journal head moves (issue 19).

A route opts in with ``auth.deps.JournaledReaderDep``, declaring that its answer is a function of the journaled
state, the caller, the URL and the language only. Its ``200`` answer is then kept, keyed by (caller, language,
path and query), under the journal head (``journal.head``: epoch and ``audit_seq``) read *before* the route ran,
so everything the route read is at least that new. The next time the same caller asks for the same URL, the head
is read again; if it has not moved, no journaled change has committed since, so the kept answer is exactly what
the route would answer, and it is sent without a thread, a pooled connection or a query beyond the head's.
An answer is kept at most ``max_age`` seconds (``answer_cache_seconds``): the bound for a change written without
a journal record (SQL by hand), which moves no head.

Who is calling comes from the principal cache (``auth.cache``), with the same bound on revocation as every other
read; a caller it does not know yet goes through the route, which looks them up (so with the principal cache off,
``auth_cache_seconds=0``, no answer is served kept). An answer is served only to the very principal entry that
computed it: the organisations a caller's scopes reach are memoised on that entry, so an answer computed with an
entry's view of the organisation tree dies with the entry (within ``auth_cache_seconds``).

The head is read only for paths whose route has opted in before (learnt on their first read), so other reads
pay nothing. The first read that sees a new head drops every kept answer; past the memory budget the least
recently used answers go first. ``Cache-Control: no-cache`` from the client skips the lookup (the answer is
computed afresh). Answers that opted in carry ``X-Answer: kept`` or ``X-Answer: fresh``.
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
from iolaos.journal.head import HeadReader, Version
from iolaos.kit.time import utcnow

ENTRY_OVERHEAD = 400  # bytes of a kept answer beyond its body, headers and URL (key, objects, dict slot)
MAX_ANSWER_SHARE = 16  # one answer may take at most this fraction of the budget (and at most 1 MiB)
MAX_PATHS = 50_000  # paths known to opt in; beyond this the list starts afresh
_KEPT = (b"x-answer", b"kept")
_FRESH = (b"x-answer", b"fresh")


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    kept_at: float  # monotonic seconds
    owner: object  # the principal-cache entry's principal that computed it (compared by identity)
    route: Any  # the route that answered, for the metrics of a replay
    cost: int  # bytes counted against the budget


class AnswerCacheMiddleware:
    """ASGI middleware serving kept answers of GET requests with a bearer token (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, budget_bytes: int, max_age: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.budget = budget_bytes
        self.max_age = max_age
        self.clock = clock
        self.max_answer = min(budget_bytes // MAX_ANSWER_SHARE, 1 << 20)
        self._head: Version | None = None  # the newest head seen; every kept answer was computed at it
        self._answers: dict[tuple[Any, ...], _Answer] = {}  # in order of last use
        self._bytes = 0
        self._opted: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.budget <= 0 or scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        token = _bearer(_first(scope, b"authorization"))
        if token is None:
            await self.app(scope, receive, send)
            return
        if scope["path"] not in self._opted:
            await self._learn(scope, receive, send)
            return
        head = await self._read_head(scope)
        if head is None:
            await self.app(scope, receive, send)
            return
        place = (i18n.current_language(), scope["path"], scope["query_string"])
        if b"no-cache" not in (_first(scope, b"cache-control") or b""):
            principal = principal_cache.of(scope["app"]).get(token, utcnow())
            if principal is not None and await self._serve_kept(scope, send, principal, place):
                return
        await self._compute(scope, receive, send, head, place)

    async def _learn(self, scope: Scope, receive: Receive, send: Send) -> None:
        """First read of a path: run it as it is, and remember the path if its route opts in."""
        async def mark_and_send(message: Message) -> None:
            if message["type"] == "http.response.start" and ANSWER_FOR in scope and message["status"] == 200:
                message = {**message, "headers": [*message.get("headers", ()), _FRESH]}
            await send(message)

        await self.app(scope, receive, mark_and_send)
        if ANSWER_FOR in scope:
            if len(self._opted) >= MAX_PATHS:
                self._opted.clear()
            self._opted.add(scope["path"])

    async def _serve_kept(self, scope: Scope, send: Send, principal: Any, place: tuple[Any, ...]) -> bool:
        key = (principal_cache.caller_key(principal), *place)
        kept = self._answers.get(key)
        if kept is None or kept.owner is not principal or self.clock() - kept.kept_at >= self.max_age:
            return False
        self._answers[key] = self._answers.pop(key)  # most recently used last
        if kept.route is not None:
            scope["route"] = kept.route  # what the metrics label a request with
        await send({"type": "http.response.start", "status": kept.status, "headers": list(kept.headers)})
        await send({"type": "http.response.body", "body": kept.body})
        return True

    async def _read_head(self, scope: Scope) -> Version | None:
        reader: HeadReader | None = getattr(scope["app"].state, "head_reader", None)  # made by the lifespan
        head = await reader.read() if reader is not None else None
        if head is not None and head != self._head:
            self._head = head
            self._answers.clear()
            self._bytes = 0
        return head

    async def _compute(self, scope: Scope, receive: Receive, send: Send, head: Version,
                       place: tuple[Any, ...]) -> None:
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
        status, headers = start
        if any(k.lower() == b"set-cookie" for k, _ in headers):
            return
        caller, owner = scope[ANSWER_FOR]
        # What an entry really costs: many small answers (one per page of a list, say) must fill the budget too.
        cost = size + sum(len(k) + len(v) for k, v in headers) + len(place[1]) + len(place[2]) + ENTRY_OVERHEAD
        self._store((caller, *place), _Answer(status, (*headers, _KEPT), b"".join(parts), self.clock(), owner,
                                              scope.get("route"), cost))

    def _store(self, key: tuple[Any, ...], answer: _Answer) -> None:
        replaced = self._answers.pop(key, None)
        if replaced is not None:
            self._bytes -= replaced.cost
        while self._answers and self._bytes + answer.cost > self.budget:  # least recently used first
            self._bytes -= self._answers.pop(next(iter(self._answers))).cost
        self._answers[key] = answer
        self._bytes += answer.cost


def _first(scope: Scope, name: bytes) -> bytes | None:
    """The first header ``name`` (lower case), as Starlette's ``Headers.get`` and so the route read it."""
    return next((v for k, v in scope["headers"] if k == name), None)


def _bearer(value: bytes | None) -> str | None:
    if not value or value[:7].lower() != b"bearer ":
        return None
    return value[7:].strip().decode("latin-1") or None
