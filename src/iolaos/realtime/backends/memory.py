"""In-process wake-ups: the embedded default (one process, or several apps inside one process)."""

from __future__ import annotations

import contextlib
import threading

from iolaos.realtime.backends.base import Backend

_instances: set[MemoryBackend] = set()
_lock = threading.Lock()


class MemoryBackend(Backend):
    """Wakes every other hub of this process; nothing crosses a process boundary."""

    name = "memory"

    async def _start(self) -> None:
        with _lock:
            _instances.add(self)
        self.connected = True

    def publish(self, seq: int) -> None:
        """Wake the other hubs of this process (thread-safe, never blocks)."""
        with _lock:
            others = [b for b in _instances if b is not self]
        for other in others:
            loop = other._loop
            if loop is None or loop.is_closed():
                continue
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(other._wake, seq)

    def _publish_soon(self, seq: int) -> None:  # pragma: no cover - publish() is overridden
        self.publish(seq)

    async def stop(self) -> None:
        """Leave the process-wide set of hubs."""
        with _lock:
            _instances.discard(self)
        self.connected = False
