"""One websocket subscriber: who it is, what it follows, where it stands, and its bounded send queue."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from iolaos.auth.principal import Principal
from iolaos.realtime import protocol
from iolaos.realtime.topics import Audience, text_for

if TYPE_CHECKING:
    from iolaos.realtime.store import LiveEvent

_ids = itertools.count(1)


class Connection:
    """State of one socket. Only the hub's event loop touches it, so no locks are needed.

    ``cursor`` is the seq up to which every event has been considered for this connection: each relevant
    one is in the queue (or sent) and the others were skipped. Events are queued in seq order only.
    """

    def __init__(self, principal: Principal, token: str, audience: Audience, *, max_queue: int) -> None:
        self.id = next(_ids)
        self.principal = principal
        self.token = token
        self.audience = audience
        self.topics: set[str] = set()
        self.cursor = -1          # -1 until the first subscribe
        self.replay_until = 0     # a resume replays at least up to here (the database head when it began)
        self.live = False         # receiving events from the hub (else: not subscribed yet, or replaying)
        self.replay: asyncio.Task[None] | None = None
        self.queue: deque[str] = deque()
        self.max_queue = max_queue
        self.sent = 0
        self.last_ping = time.monotonic()
        self.sending_since: float | None = None
        self.close_code: int | None = None
        self.close_reason = ""
        self.closed = asyncio.Event()
        self._ready = asyncio.Event()
        self._room = asyncio.Event()

    @property
    def principal_key(self) -> tuple[int, str, int, int | None]:
        """What the topic decisions depend on: account, role, organisation and its region."""
        p = self.principal
        return (p.user_id, p.role, p.organisation_id, p.region_id)

    def wants(self, event: LiveEvent) -> str | None:
        """The text of ``event`` to send when it matches a subscription and may reach this subscriber, else None.

        ``topics.text_for`` is the one decision (issue 14): the org rule, or the patrols' visibility policy.
        """
        return text_for(event, self.audience) if not self.topics.isdisjoint(event.topics) else None

    def push(self, text: str) -> bool:
        """Queue one message; a full queue closes the connection as too slow (it resumes later)."""
        if self.close_code is not None:
            return False
        if len(self.queue) >= self.max_queue:
            self.request_close(protocol.TOO_SLOW, "send queue full")
            return False
        self.queue.append(text)
        self._ready.set()
        return True

    def offer(self, seq: int, text: str) -> None:
        """A live event the hub matched to this connection (skipped when already covered by replay)."""
        if seq > self.cursor:
            self.cursor = seq
            self.push(text)

    def request_close(self, code: int, reason: str) -> None:
        """Ask the endpoint to close this socket with ``code`` (the first request wins)."""
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
            self.closed.set()
            self._room.set()

    async def wait_for_room(self) -> None:
        """Wait until the queue is at most half full (replay fills it in steps of at most half)."""
        half = self.max_queue // 2
        while len(self.queue) > half and self.close_code is None:
            self._room.clear()
            await self._room.wait()

    async def run_sender(self, send: Callable[[str], Awaitable[None]]) -> None:
        """Send queued messages in order, one at a time; records when a send blocks (stall detection)."""
        queue, half, clock = self.queue, self.max_queue // 2, time.monotonic
        while True:
            if not queue:
                self._ready.clear()
                await self._ready.wait()
                continue
            text = queue.popleft()
            if len(queue) <= half:
                self._room.set()
            self.sending_since = clock()
            await send(text)
            self.sending_since = None
            self.sent += 1

    def stalled_for(self, now: float) -> float:
        """Seconds the current send has been blocked (0 when not sending)."""
        since = self.sending_since
        return 0.0 if since is None else now - since
