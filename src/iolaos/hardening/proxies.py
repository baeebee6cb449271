"""Which peers may name the client in X-Forwarded-For (the ``trusted_proxies`` setting)."""

from __future__ import annotations

from iolaos.config import Settings


def trusted_hosts(settings: Settings) -> list[str]:
    """Addresses or networks of trusted reverse proxies; empty means the peer is always the client."""
    return [item.strip() for item in settings.trusted_proxies.split(",") if item.strip()]
