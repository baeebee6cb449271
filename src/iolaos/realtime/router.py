"""``/ws`` (live events) and the REST helpers around it: single-use tickets and the hub's status.

The protocol is documented for client authors in ``docs/realtime.md``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request, WebSocket
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.datastructures import Headers

from iolaos.auth.deps import PrincipalDep, oauth2_scheme
from iolaos.errors import ServiceUnavailable
from iolaos.realtime import protocol, transport
from iolaos.realtime.connection import Connection
from iolaos.realtime.hub import Hub

log = logging.getLogger("iolaos.realtime")
router = APIRouter(tags=["realtime"])
_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}


class TicketOut(BaseModel):
    """A single-use ticket for opening ``/ws`` (``/ws?ticket=…`` or the first ``auth`` message)."""

    ticket: str
    expires_in: float


@router.post("/api/v1/realtime/ticket", response_model=TicketOut, summary="A single-use ticket for /ws")
async def issue_ticket(request: Request, principal: PrincipalDep,
                       token: Annotated[str | None, Depends(oauth2_scheme)]) -> TicketOut:
    """A short-lived ticket standing for your token, so browsers never put the token in a URL."""
    hub: Hub = request.app.state.hub
    try:
        ticket = await hub.tickets.issue(token or "")
    except Exception as exc:
        raise ServiceUnavailable("ticket store unavailable; authenticate with the first message",
                                 code="ticket_store_unavailable") from exc
    return TicketOut(ticket=ticket, expires_in=hub.tickets.ttl)


@router.get("/api/v1/realtime/status", summary="Live-update hub of this process")
async def realtime_status(request: Request, principal: PrincipalDep) -> dict[str, Any]:
    """Fan-out backend, journal position and connection counts of the instance answering."""
    return request.app.state.hub.status()


def origin_allowed(headers: Headers, allowed_setting: str) -> bool:
    """Non-browser clients (no Origin), the configured origins, or an Origin whose host is the Host header."""
    origin = headers.get("origin")
    if origin is None:
        return True
    allowed = {o.strip().rstrip("/").lower() for o in allowed_setting.split(",") if o.strip()}
    if "*" in allowed or origin.rstrip("/").lower() in allowed:
        return True
    try:
        parts = urlsplit(origin)
        host = urlsplit("//" + headers.get("host", ""))
        origin_port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
        host_port = host.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return False
    return bool(parts.hostname) and parts.hostname == host.hostname and origin_port == host_port


class _Gone(Exception):
    """The client went away."""


class _Refuse(Exception):
    """Close the socket with a code and reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


async def _receive_json(ws: WebSocket) -> dict[str, Any]:
    """The next client message as a JSON object (4000 when it is not one)."""
    message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        raise _Gone()
    text = message.get("text")
    if text is None:
        raise _Refuse(protocol.BAD_MESSAGE, "send JSON text frames")
    if len(text) > protocol.MAX_CLIENT_MESSAGE:
        raise _Refuse(protocol.BAD_MESSAGE, "message too large")
    try:
        value = json.loads(text)
    except ValueError:
        raise _Refuse(protocol.BAD_MESSAGE, "invalid JSON") from None
    if not isinstance(value, dict):
        raise _Refuse(protocol.BAD_MESSAGE, "a message is a JSON object")
    return value


@router.websocket("/ws")
async def websocket_endpoint(ws: WebSocket) -> None:
    """Authenticate, subscribe, replay ``seq > after`` and stream live events (docs/realtime.md)."""
    hub: Hub = ws.app.state.hub
    if not origin_allowed(ws.headers, hub.settings.realtime_allowed_origins):
        await ws.close(code=protocol.FORBIDDEN_ORIGIN)  # before accept: the client sees HTTP 403
        return
    await ws.accept()
    transport.cap_send_buffer(ws, hub.settings.realtime_socket_send_buffer)
    conn: Connection | None = None
    try:
        principal, audience, token, batch = await _authenticate(ws, hub)
        conn = hub.attach(principal, token, audience)
        conn.batch_frames = batch
        conn.push(_welcome(hub, conn))
        await _serve(ws, hub, conn)
    except _Refuse as refusal:
        await _close(ws, refusal.code, refusal.reason)
    except (_Gone, asyncio.CancelledError):
        pass
    finally:
        if conn is not None:
            hub.detach(conn)


async def _authenticate(ws: WebSocket, hub: Hub) -> tuple[Any, Any, str, bool]:
    """``?ticket=…`` or a first message ``{"type": "auth", "token"|"ticket": …}`` within the timeout.

    The last value says whether the client accepts several messages per frame (``"frames": "batch"`` in the auth
    message, or ``?frames=batch``; docs/realtime.md).
    """
    ticket = ws.query_params.get("ticket")
    batch = ws.query_params.get("frames") == "batch"
    token: Any = None
    if ticket is None:
        try:
            first = await asyncio.wait_for(_receive_json(ws), timeout=hub.settings.realtime_auth_timeout)
        except TimeoutError:
            raise _Refuse(protocol.UNAUTHENTICATED, "no auth message in time") from None
        if first.get("type") != "auth":
            raise _Refuse(protocol.UNAUTHENTICATED, "the first message must be auth")
        token, ticket = first.get("token"), first.get("ticket")
        batch = batch or first.get("frames") == "batch"
    try:
        if ticket is not None:
            token = await hub.tickets.redeem(ticket) if isinstance(ticket, str) and len(ticket) < 200 else None
            if token is None:
                raise _Refuse(protocol.UNAUTHENTICATED, "unknown, used or expired ticket")
        if not isinstance(token, str) or not 0 < len(token) <= 512:
            raise _Refuse(protocol.UNAUTHENTICATED, "send a bearer token or a ticket")
        found = await hub.authenticate(token)
    except _Refuse:
        raise
    except Exception as exc:  # ticket store or database unreachable: not the client's fault
        log.warning("websocket authentication failed: %s: %s", type(exc).__name__, exc)
        raise _Refuse(protocol.TRY_AGAIN_LATER, "authentication unavailable; try again later") from None
    if found is None:
        raise _Refuse(protocol.UNAUTHENTICATED, "invalid or expired token, or account disabled")
    return found[0], found[1], token, batch


def _welcome(hub: Hub, conn: Connection) -> str:
    p, s = conn.principal, hub.settings
    return protocol.dumps({
        "type": "welcome", "user_id": p.user_id, "username": p.username, "role": p.role,
        "organisation_id": p.organisation_id, "epoch": hub.epoch, "seq": hub.hwm,
        "heartbeat": s.realtime_heartbeat_interval, "max_replay": s.realtime_max_replay,
        "send_queue": s.realtime_send_queue, "max_topics": s.realtime_max_topics,
    })


async def _serve(ws: WebSocket, hub: Hub, conn: Connection) -> None:
    """Run the sender and the receiver until either ends or the hub asks to close the socket."""
    sender = asyncio.create_task(conn.run_sender(ws.send_text))
    receiver = asyncio.create_task(_receive_loop(ws, hub, conn))
    closing = asyncio.create_task(conn.closed.wait())
    try:
        await asyncio.wait({sender, receiver, closing}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sender, receiver, closing):
            task.cancel()
        await asyncio.gather(sender, receiver, closing, return_exceptions=True)
    failed = receiver.exception() if receiver.done() and not receiver.cancelled() else None
    gone = isinstance(failed, _Gone)
    if failed is not None and not gone:
        log.error("websocket %d failed", conn.id, exc_info=failed)
        conn.request_close(protocol.INTERNAL_ERROR, "internal error")
    if sender.done() and not sender.cancelled() and sender.exception() is not None:
        gone = True  # a send failed: the client is gone
    if conn.close_code is not None and not gone:
        await _close(ws, conn.close_code, conn.close_reason)


async def _receive_loop(ws: WebSocket, hub: Hub, conn: Connection) -> None:
    """Handle client messages in order until the client leaves or breaks the protocol."""
    try:
        while True:
            await _handle(await _receive_json(ws), hub, conn)
    except _Refuse as refusal:
        conn.request_close(refusal.code, refusal.reason)
    except TimeoutError:
        conn.request_close(protocol.TRY_AGAIN_LATER, "journal unavailable; try again later")
    except (DBAPIError, PoolTimeout) as exc:  # the database is down or restarting: not a server bug
        log.warning("websocket %d: database unavailable (%s); asking the client to come back", conn.id,
                    type(exc).__name__)
        conn.request_close(protocol.TRY_AGAIN_LATER, "database unavailable; try again later")


async def _handle(message: dict[str, Any], hub: Hub, conn: Connection) -> None:
    """One client message (see docs/realtime.md)."""
    kind = message.get("type")
    if kind == "subscribe" or kind == "unsubscribe":
        names = message.get("topics")
        if not isinstance(names, list) or not all(isinstance(t, str) for t in names) or \
                len(names) > hub.settings.realtime_max_topics:
            conn.push(protocol.error("bad_message", "topics must be a list of strings"))
            return
        if kind == "unsubscribe":
            hub.unsubscribe(conn, names)
            return
        after, epoch = message.get("after"), message.get("epoch")
        if after is not None and (isinstance(after, bool) or not isinstance(after, int) or after < 0):
            conn.push(protocol.error("bad_message", "after must be a seq (an integer ≥ 0)"))
            return
        if epoch is not None and not (isinstance(epoch, str) and len(epoch) <= 64):
            conn.push(protocol.error("bad_message", "epoch must be the string from welcome or reset"))
            return
        if after is not None and conn.cursor >= 0:
            conn.push(protocol.error("bad_message", "after is honoured on the first subscribe only"))
        await hub.subscribe(conn, names, after, epoch)
    elif kind == "ping":
        conn.push('{"type":"pong"}')
    elif kind == "pong":
        return
    elif kind == "auth":
        conn.push(protocol.error("bad_message", "already authenticated"))
    else:
        conn.push(protocol.error("unknown_type", f"unknown message type {str(kind)[:40]!r}"))


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    """Close with ``code``; a client that does not read cannot receive it, so then drop the connection."""
    try:
        await asyncio.wait_for(ws.close(code=code, reason=reason[:120]), timeout=1.0)
    except Exception:
        transport.abort(ws)
