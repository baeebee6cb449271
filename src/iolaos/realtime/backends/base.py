"""The small interface every wake-up backend implements."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager

log = logging.getLogger("iolaos.realtime")

WakeCallback = Callable[[int], None]
"""Called on the hub's event loop with the newest seq a backend heard of (0: "something may exist")."""


class Backend(abc.ABC):
    """Carries wake-ups ("event seq N is committed") between processes; never the events themselves.

    ``publish`` is called from whichever thread committed the event and must never block it; delivery is
    best effort (the hub also polls the table). ``on_wake`` is always called on the hub's event loop.
    """

    name = "base"
    channel = ""
    lost = "connection lost"  # what _problem logs when a subscription fails

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_wake: WakeCallback | None = None
        self.connected = False
        self._last_problem = 0.0

    async def start(self, on_wake: WakeCallback) -> None:
        """Begin listening for wake-ups; returns at once (connecting happens in the background)."""
        self._loop = asyncio.get_running_loop()
        self._on_wake = on_wake
        await self._start()

    @abc.abstractmethod
    async def _start(self) -> None:
        """Backend-specific start."""

    def publish(self, seq: int) -> None:
        """Tell the other processes that ``seq`` is committed (thread-safe, never blocks, may be lost)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
            loop.call_soon_threadsafe(self._publish_soon, seq)

    @abc.abstractmethod
    def _publish_soon(self, seq: int) -> None:
        """Runs on the event loop: send ``seq`` (coalescing is welcome)."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Stop listening and release connections."""

    def _wake(self, seq: int) -> None:
        """Deliver a wake-up to the hub (on the event loop)."""
        if self._on_wake is not None:
            self._on_wake(seq)

    def _subscribe(self) -> AbstractAsyncContextManager[AsyncIterator[int]]:
        """Connect and subscribe; yields the seqs heard (raising when the connection fails), closes on exit."""
        raise NotImplementedError(f"{self.name} backend does not listen on a connection")

    async def _listen(self) -> None:
        """Subscribe and forward wake-ups; on any failure wait a little (0.1 s, doubling to 2 s) and subscribe
        again. The one reconnect loop of the backends that listen on a connection (Redis, PostgreSQL)."""
        delay = 0.1
        while True:
            try:
                async with self._subscribe() as seqs:
                    if not self.connected:
                        log.info("%s fan-out: listening on %s", self.name, self.channel)
                    self.connected, delay = True, 0.1
                    self._wake(0)  # wake-ups may have been missed while disconnected: read now
                    async for seq in seqs:
                        self._wake(seq)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._problem(self.lost, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    def _problem(self, what: str, exc: BaseException) -> None:
        """Log a connection problem at most every 10 s (the hub keeps working by polling)."""
        self.connected = False
        now = time.monotonic()
        if now - self._last_problem >= 10:
            self._last_problem = now
            log.warning("%s fan-out: %s (%s: %s); events still flow by polling", self.name, what,
                        type(exc).__name__, exc)


class Publisher:
    """Coalesces wake-ups: only the newest seq not yet sent is kept, sent by one task."""

    def __init__(self, send: Callable[[int], Awaitable[None]]) -> None:
        self._send = send
        self._pending = 0
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the sending task (on the running loop)."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="iolaos-fanout-publish")

    def offer(self, seq: int) -> None:
        """Queue ``seq`` for sending (keeps only the largest)."""
        if seq > self._pending:
            self._pending = seq
            self._event.set()

    async def _run(self) -> None:
        while True:
            await self._event.wait()
            self._event.clear()
            seq, self._pending = self._pending, 0
            if seq:
                await self._send(seq)

    async def stop(self) -> None:
        """Stop the sending task."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
