"""Short-lived, single-use tickets for opening ``/ws`` without putting a bearer token in a URL.

``POST /api/v1/realtime/ticket`` (with the bearer token) issues one; ``/ws?ticket=…`` or the first message
``{"type": "auth", "ticket": …}`` redeems it once. The ticket stands for the token it was issued with, so
the socket is re-validated against that token like any other. Tickets live in Redis when a broker URL is
configured (any instance can redeem them), else in this process (redeem on the instance that issued it, or
authenticate with the token in the first message).

Redis is a convenience here, not a dependency: while it is unreachable, the Redis store issues tickets of its
own process instead (marked ``<instance>.<secret>``), so a client can still open a socket. Such a ticket works on
the instance that issued it; another instance answers "try again later" (1013), never "unknown ticket" (4001),
so the client retries instead of signing out.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
import time

from iolaos.config import Settings

log = logging.getLogger("iolaos.realtime")
_KEY = "iolaos:ws-ticket:"
_MAX_MEMORY_TICKETS = 10_000
# After a failed Redis call, issue local tickets for this long before trying Redis again: with Redis frozen
# rather than down, every try would cost the full socket timeout.
_REDIS_RETRY_SECONDS = 2.0
_LOCAL_MARK = "."  # never in a token_urlsafe() secret, so it tells a local fallback ticket from a Redis one


class TicketElsewhere(Exception):
    """A fallback ticket issued by another instance while Redis was down: only that instance can redeem it."""


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode("utf-8")).hexdigest()


class TicketStore:
    """Issue and redeem tickets; the base class keeps them in this process."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._tickets: dict[str, tuple[str, float]] = {}

    async def issue(self, token: str) -> str:
        """A new ticket for ``token``, valid once within ``ttl`` seconds."""
        now = time.monotonic()
        if len(self._tickets) >= _MAX_MEMORY_TICKETS:
            self._tickets = {k: v for k, v in self._tickets.items() if v[1] > now}
            if len(self._tickets) >= _MAX_MEMORY_TICKETS:
                self._tickets.pop(next(iter(self._tickets)))
        ticket = secrets.token_urlsafe(32)
        self._tickets[_digest(ticket)] = (token, now + self.ttl)
        return ticket

    async def redeem(self, ticket: str) -> str | None:
        """The token behind ``ticket`` and forget the ticket; None when unknown, used or expired."""
        found = self._tickets.pop(_digest(ticket), None)
        if found is None or found[1] < time.monotonic():
            return None
        return found[0]

    async def close(self) -> None:
        """Release resources."""


class RedisTicketStore(TicketStore):
    """Tickets in Redis (``SET … EX`` to issue, ``GETDEL`` to redeem), shared by every instance.

    While Redis is unreachable it falls back to tickets of this process (see the module docstring).
    """

    def __init__(self, ttl: float, url: str) -> None:
        super().__init__(ttl)
        from redis import asyncio as aioredis

        self._client = aioredis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=1.0)
        self.instance = secrets.token_hex(4)  # names this process in its fallback tickets
        self._redis_again_at = 0.0
        self._last_warning = 0.0

    async def issue(self, token: str) -> str:
        """A new ticket stored in Redis with its expiry; a ticket of this process while Redis is unreachable."""
        if time.monotonic() >= self._redis_again_at:
            ticket = secrets.token_urlsafe(32)
            try:
                await self._client.set(_KEY + _digest(ticket), token, ex=max(1, round(self.ttl)))
                return ticket
            except Exception as exc:  # any failure of the client (connection, timeout, protocol): fall back
                self._redis_again_at = time.monotonic() + _REDIS_RETRY_SECONDS
                self._warn(exc)
        return self.instance + _LOCAL_MARK + await super().issue(token)

    async def redeem(self, ticket: str) -> str | None:
        """Take the ticket out of Redis atomically (a second redeem finds nothing), or out of this process.

        Raises when Redis is unreachable or the ticket is another instance's fallback ticket: the caller
        answers "try again later", because the ticket may well be valid.
        """
        instance, local, secret = ticket.partition(_LOCAL_MARK)
        if local:
            if instance != self.instance:
                raise TicketElsewhere("ticket issued by another instance while Redis was unreachable")
            return await super().redeem(secret)
        value = await self._client.getdel(_KEY + _digest(ticket))
        if value is None:
            return None
        return value.decode("utf-8") if isinstance(value, bytes) else str(value)

    def _warn(self, exc: Exception) -> None:
        """Log the fallback at most every 10 s."""
        now = time.monotonic()
        if now - self._last_warning >= 10:
            self._last_warning = now
            log.warning("ticket store: Redis unreachable (%s: %s); issuing tickets valid on this instance only",
                        type(exc).__name__, exc)

    async def close(self) -> None:
        """Close the Redis client."""
        with contextlib.suppress(Exception):
            await self._client.aclose()


def make_ticket_store(settings: Settings) -> TicketStore:
    """Redis-backed when a broker URL is configured, else in-process."""
    if settings.broker_url:
        return RedisTicketStore(settings.realtime_ticket_ttl, settings.broker_url)
    return TicketStore(settings.realtime_ticket_ttl)
