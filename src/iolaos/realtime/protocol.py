"""Wire format of ``/ws``: close codes and the JSON messages the server sends (docs/realtime.md)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from iolaos.kit.time import iso

# Close codes (RFC 6455 private range 4000–4999, plus the standard ones the server uses).
GOING_AWAY = 1001          # this process is shutting down: reconnect (to any instance) and resume
INTERNAL_ERROR = 1011      # unexpected server error: reconnect with backoff and resume
TRY_AGAIN_LATER = 1013     # database or ticket store unreachable: reconnect with backoff and resume
BAD_MESSAGE = 4000         # malformed or unexpected message; do not retry the same message
UNAUTHENTICATED = 4001     # no/invalid auth, or the token was revoked/expired or the account disabled
FORBIDDEN_ORIGIN = 4003    # Origin not allowed (sent before the handshake completes: clients see HTTP 403)
TOO_SLOW = 4008            # the client fell behind (send queue full or a send stalled): reconnect and resume
CLOSE_REASONS = {
    GOING_AWAY: "server shutting down",
    BAD_MESSAGE: "bad message",
    UNAUTHENTICATED: "unauthenticated",
    FORBIDDEN_ORIGIN: "origin not allowed",
    TOO_SLOW: "too slow: resume with after=<last seq>",
}
MAX_CLIENT_MESSAGE = 64 * 1024


def dumps(message: dict[str, Any]) -> str:
    """Compact JSON for one message."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def event_message(seq: int, occurred_at: datetime, kind: str, topics: tuple[str, ...], payload: str) -> str:
    """An event as sent to clients, built once per event and shared by every connection.

    Same fields as ``journal.service.event_to_wire`` plus ``"type": "event"``; ``payload`` is the stored
    canonical JSON text, spliced in without decoding it.
    """
    return (f'{{"type":"event","seq":{seq},"kind":{_compact(kind)},"at":"{iso(occurred_at)}",'
            f'"topics":{_compact(list(topics))},"payload":{payload}}}')


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def error(code: str, detail: str) -> str:
    """A non-fatal error about one client message."""
    return dumps({"type": "error", "error": code, "detail": detail})


def reset(reason: str, epoch: str, seq: int) -> str:
    """Tell the client to refetch its state over REST; the stream continues live after ``seq``."""
    return dumps({"type": "reset", "reason": reason, "epoch": epoch, "seq": seq})


def ping(seq: int | None, at: str) -> str:
    """A heartbeat; ``seq`` is a safe resume point (everything relevant up to it has been sent)."""
    return dumps({"type": "ping", "seq": seq, "at": at})
