"""Reaching below ASGI for two things it cannot express: capping a socket's kernel send buffer and aborting.

A client that stops reading is only noticed once everything in between is full: the kernel's send buffer
(autotuned up to 4 MB on Linux), the server's transport buffer, then our bounded queue. Capping the kernel
buffer per socket keeps that detection quick and the memory a frozen client can pin small; aborting drops a
connection whose peer will never read the close frame. Both need the server's transport, which ASGI does not
expose: where the ASGI ``send`` callable belongs to a protocol object holding one (uvicorn), we use it;
elsewhere these are no-ops and the server's own behaviour applies.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from starlette.websockets import WebSocket


def transport_of(ws: WebSocket) -> Any | None:
    """The asyncio transport behind a websocket, found through the ASGI ``send`` callable; None if hidden."""
    seen: set[int] = set()
    stack: list[Any] = [getattr(ws, "_send", None)]
    while stack and len(seen) < 16:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        transport = getattr(getattr(item, "__self__", None), "transport", None)
        if transport is not None and hasattr(transport, "abort"):
            return transport
        for cell in getattr(item, "__closure__", None) or ():
            with contextlib.suppress(ValueError):
                if callable(cell.cell_contents):
                    stack.append(cell.cell_contents)
    return None


def cap_send_buffer(ws: WebSocket, size: int) -> None:
    """Fix the socket's kernel send buffer at ``size`` bytes (0: leave the OS default and its autotuning)."""
    if size <= 0:
        return
    transport = transport_of(ws)
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is not None:
        with contextlib.suppress(OSError, AttributeError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)


def abort(ws: WebSocket) -> None:
    """Drop the TCP connection at once (no close handshake): for peers that stopped reading."""
    transport = transport_of(ws)
    if transport is not None:
        with contextlib.suppress(Exception):
            transport.abort()
