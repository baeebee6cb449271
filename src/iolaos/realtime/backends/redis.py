"""Wake-ups over Redis pub/sub (``IOLAOS_BROKER_URL=redis://…``)."""

from __future__ import annotations

import asyncio
import contextlib

from redis import asyncio as aioredis

from iolaos.realtime.backends.base import Backend, Publisher, log

CHANNEL = "iolaos:events"


class RedisBackend(Backend):
    """Publishes each committed seq on a channel and listens on it; reconnects with backoff."""

    name = "redis"

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

    async def _listen(self) -> None:
        """Subscribe, forward wake-ups; on any failure wait a little and subscribe again."""
        delay = 0.1
        while True:
            client = aioredis.Redis.from_url(self.url, socket_connect_timeout=1.0, socket_timeout=5.0,
                                             health_check_interval=2)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                if not self.connected:
                    log.info("redis fan-out: listening on %s", self.channel)
                self.connected, delay = True, 0.1
                self._wake(0)  # wake-ups may have been missed while disconnected: read now
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self._wake(_seq(message.get("data")))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._problem("subscription lost", exc)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

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


def _seq(data: object) -> int:
    """The seq in a wake-up message (0 when unreadable: the hub then just reads what is new)."""
    try:
        return int(data)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0
