"""One websocket subscriber: who it is, what it follows, where it stands, and its bounded send queue."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from iolaos.auth.principal import Principal
from iolaos.realtime import protocol
from iolaos.realtime.topics import Audience, text_for

if TYPE_CHECKING:
    from iolaos.realtime.store import LiveEvent

_ids = itertools.count(1)
_EVENT_HEAD = '{"type":"event",'
FRAME_MESSAGES = 64        # at most this many messages in one frame (clients that asked for batched frames)
FRAME_BYTES = 64 * 1024    # and about this many bytes


class _Slot:
    """A queued position that a newer one of the same patrol crew member may still replace."""

    __slots__ = ("seq", "superseded", "text")

    def __init__(self, seq: int, text: str, superseded: tuple[int, ...]) -> None:
        self.seq = seq
        self.text: str | None = text  # None once replaced (the sender skips it)
        self.superseded = superseded


def _mark_coalesced(text: str, superseded: tuple[int, ...]) -> str:
    """The event with ``"coalesced": [seqs it replaces]`` after its type (events start with ``_EVENT_HEAD``)."""
    return f'{_EVENT_HEAD}"coalesced":[{",".join(map(str, superseded))}],{text[len(_EVENT_HEAD):]}'


class Connection:
    """State of one socket. Only the hub's event loop touches it, so no locks are needed.

    ``cursor`` is the seq up to which every event has been considered for this connection: each relevant
    one is in the queue (or sent) and the others were skipped. Events are queued in seq order only.
    """

    def __init__(self, principal: Principal, token: str, audience: Audience, *, max_queue: int,
                 coalesce_after: int | None = None) -> None:
        self.id = next(_ids)
        self.principal = principal
        self.token = token
        self.audience = audience
        self.topics: set[str] = set()
        self.cursor = -1          # -1 until the first subscribe
        self.replay_until = 0     # a resume replays at least up to here (the database head when it began)
        self.live = False         # receiving events from the hub (else: not subscribed yet, or replaying)
        self.replay: asyncio.Task[None] | None = None
        self.queue: deque[str | _Slot] = deque()
        self.max_queue = max_queue
        # Coalescing (docs/realtime.md): once this many messages wait, a new position replaces the queued one of
        # the same patrol crew member instead of queueing behind it; None: never.
        self.coalesce_after = coalesce_after if coalesce_after is not None else max(max_queue // 8, 4)
        self._pending: dict[Any, _Slot] = {}  # coalescing key → its queued, not yet sent position
        self._dead = 0                         # replaced slots still in the queue (skipped by the sender)
        self.batch_frames = False              # the client accepts several messages per frame
        self.coalesced = 0
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
        if len(self.queue) - self._dead >= self.max_queue:
            self.request_close(protocol.TOO_SLOW, "send queue full")
            return False
        self.queue.append(text)
        self._ready.set()
        return True

    def offer(self, seq: int, text: str, key: Any = None) -> None:
        """A live event the hub matched to this connection (skipped when already covered by replay).

        ``key`` names what a newer event of the same kind supersedes (a position: its patrol and crew member).
        While the queue is backed up, such an event replaces the queued one with that key: the old one is dropped
        and the new one, queued in seq order at the end, lists the seqs it replaces in ``coalesced``.
        """
        if seq <= self.cursor:
            return
        self.cursor = seq
        if key is None:
            self.push(text)
            return
        old = self._pending.get(key)
        if old is not None and old.text is not None and len(self.queue) - self._dead >= self.coalesce_after:
            superseded = (*old.superseded, old.seq)
            old.text = None
            self._dead += 1
            self.coalesced += 1
            slot = _Slot(seq, _mark_coalesced(text, superseded), superseded)
        else:
            slot = _Slot(seq, text, ())
        if len(self.queue) - self._dead >= self.max_queue:
            self.request_close(protocol.TOO_SLOW, "send queue full")
            return
        if self.close_code is None:
            self._pending[key] = slot
            self.queue.append(slot)
            self._ready.set()

    def request_close(self, code: int, reason: str) -> None:
        """Ask the endpoint to close this socket with ``code`` (the first request wins)."""
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
            self.closed.set()
            self._room.set()

    async def wait_for_room(self) -> None:
        """Wait until the queue is at most half full (replay fills it in steps of at most half)."""
        half = self.max_queue // 2
        while len(self.queue) - self._dead > half and self.close_code is None:
            self._room.clear()
            await self._room.wait()

    def _take(self) -> str | None:
        """The next message to send, or several joined by newlines for a client that accepts batched frames."""
        queue = self.queue
        texts: list[str] = []
        size = 0
        while queue and len(texts) < (FRAME_MESSAGES if self.batch_frames else 1) and size < FRAME_BYTES:
            item = queue.popleft()
            if isinstance(item, _Slot):
                if item.text is None:
                    self._dead -= 1
                    continue
                text = item.text
                item.text = None  # sent: a newer position queues normally from now on
            else:
                text = item
            texts.append(text)
            size += len(text)
        if not texts:
            return None
        self.sent += len(texts)
        return texts[0] if len(texts) == 1 else "\n".join(texts)

    async def run_sender(self, send: Callable[[str], Awaitable[None]]) -> None:
        """Send queued messages in order, one frame at a time; records when a send blocks (stall detection)."""
        queue, half, clock = self.queue, self.max_queue // 2, time.monotonic
        while True:
            if not queue:
                self._ready.clear()
                await self._ready.wait()
                continue
            frame = self._take()
            if len(queue) - self._dead <= half:
                self._room.set()
            if frame is None:
                continue
            self.sending_since = clock()
            await send(frame)
            self.sending_since = None

    def stalled_for(self, now: float) -> float:
        """Seconds the current send has been blocked (0 when not sending)."""
        since = self.sending_since
        return 0.0 if since is None else now - since
