"""Wake-ups over Redis pub/sub (``IOLAOS_BROKER_URL=redis://…``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from redis import asyncio as aioredis

from iolaos.realtime.backends.base import Backend, Publisher

CHANNEL = "iolaos:events"


class RedisBackend(Backend):
    """Publishes each committed seq on a channel and listens on it; reconnects with backoff."""

    name = "redis"
    lost = "subscription lost"

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        super().__init__()
        self.url = url
        self.channel = channel
        self._client: aioredis.Redis | None = None
        self._publisher = Publisher(self._send)
        self._listener: asyncio.Task[None] | None = None

    async def _start(self) -> None:
        # Short timeouts: a dead or frozen Redis must never hold up a publish for long.
        self._client = aioredis.Redis.from_url(self.url, socket_connect_timeout=1.0, socket_timeout=1.0)
        self._publisher.start()
        self._listener = asyncio.get_running_loop().create_task(self._listen(), name="iolaos-redis-listen")

    def _publish_soon(self, seq: int) -> None:
        self._publisher.offer(seq)

    async def _send(self, seq: int) -> None:
        assert self._client is not None
        try:
            await self._client.publish(self.channel, str(seq))
        except Exception as exc:  # Redis down: the other processes' polls cover the lost wake-up
            self._problem("publish failed", exc)

    @contextlib.asynccontextmanager
    async def _subscribe(self) -> AsyncIterator[AsyncIterator[int]]:
        """Subscribe on a client of its own (base.Backend._listen reconnects)."""
        client = aioredis.Redis.from_url(self.url, socket_connect_timeout=1.0, socket_timeout=5.0,
                                         health_check_interval=2)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.channel)
            yield _published(pubsub)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            with contextlib.suppress(Exception):
                await client.aclose()

    async def stop(self) -> None:
        """Stop listening and publishing; close the clients."""
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        await self._publisher.stop()
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.aclose()
        self.connected = False


async def _published(pubsub: Any) -> AsyncIterator[int]:
    """The seqs published on the subscribed channel, forever; raises when the connection fails."""
    while True:
        message = await pubsub.get_message(timeout=1.0)
        if message is not None and message.get("type") == "message":
            yield _seq(message.get("data"))


def _seq(data: object) -> int:
    """The seq in a wake-up message (0 when unreadable: the hub then just reads what is new)."""
    try:
        return int(data)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0
