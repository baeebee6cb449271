"""Acceptance 5: a socket that never reads, beside a healthy client.

The healthy client keeps ≥ 90 % of its baseline rate, the stalled one is closed within 10 s, and the
server's memory stays bounded.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import threading
import time

from tests.realtime.conftest import People
from tests.realtime.live import Journal, LiveServer, connect, recv, recv_until

RATE, BATCH, PAD = 250, 25, "x" * 2000  # events/s written, per commit, ~2 KB payload


def _frame(text: str) -> bytes:
    """A masked client text frame."""
    data, mask = text.encode(), os.urandom(4)
    header = struct.pack("!BBH", 0x81, 0x80 | 126, len(data)) if len(data) >= 126 else struct.pack(
        "!BB", 0x81, 0x80 | len(data))
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def _stalled_socket(server: LiveServer, token: str, topic: str) -> socket.socket:
    """Handshake, authenticate and subscribe, then never read a byte of websocket data.

    Only the HTTP handshake response is read: RFC 6455 (4.1) has the client wait for it before sending frames.
    """
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)  # byte by byte: not one byte of websocket data is consumed
    assert response.startswith(b"HTTP/1.1 101"), response
    sock.sendall(_frame(json.dumps({"type": "auth", "token": token})))
    sock.sendall(_frame(json.dumps({"type": "subscribe", "topics": [topic]})))
    return sock


def _writer(journal: Journal, topic: str, stop: threading.Event) -> None:
    """A steady stream of RATE events/s in commits of BATCH."""
    next_at = time.monotonic()
    while not stop.is_set():
        journal.record([topic], {"pad": PAD}, count=BATCH)
        next_at += BATCH / RATE
        time.sleep(max(next_at - time.monotonic(), 0))


def _closed_by_server(sock: socket.socket) -> bool:
    """Reading now finds the end of the stream (or a reset): the server dropped the connection."""
    sock.settimeout(3)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def test_a_stalled_socket_is_closed_and_does_not_slow_a_healthy_one(rt_server: LiveServer, rt_journal: Journal,
                                                                   people: People):
    token = people.token("leader.penteli")
    topic = f"org:{people.me('leader.penteli')['organisation_id']}"
    arrivals: list[float] = []
    stop = threading.Event()
    thread = threading.Thread(target=_writer, args=(rt_journal, topic, stop), daemon=True)

    async def run() -> dict[str, float]:
        ws, _, _ = await connect(rt_server, token, [topic], compression=None)
        await recv_until(ws, lambda m: m["type"] == "live")

        async def listen() -> None:
            while True:
                if (await recv(ws, 10))["type"] == "event":
                    arrivals.append(time.monotonic())

        listener = asyncio.create_task(listen())
        thread.start()
        await asyncio.sleep(1)  # warm-up
        marks = {"base_from": time.monotonic()}
        await asyncio.sleep(3)
        marks["base_to"] = marks["stall_from"] = time.monotonic()
        before = await asyncio.to_thread(rt_server.status, token)
        marks["connections"], marks["rss_before"] = before["connections"], rt_server.rss_kb()
        sock = _stalled_socket(rt_server, token, topic)
        marks["rss_max"] = marks["queued_max"] = 0
        while time.monotonic() - marks["stall_from"] < 12:
            status = await asyncio.to_thread(rt_server.status, token)
            marks["rss_max"] = max(marks["rss_max"], rt_server.rss_kb())
            marks["queued_max"] = max(marks["queued_max"], status["queued"])
            if status["connections"] > marks["connections"]:
                marks["seen"] = 1
            elif "seen" in marks and "closed_after" not in marks:
                marks["closed_after"] = time.monotonic() - marks["stall_from"]
            if "closed_after" in marks and time.monotonic() - marks["stall_from"] >= 6:
                break
            await asyncio.sleep(0.25)
        marks["stall_to"] = time.monotonic()
        marks["server_dropped_it"] = float(await asyncio.to_thread(_closed_by_server, sock))
        sock.close()
        stop.set()
        listener.cancel()
        await ws.close()
        return marks

    try:
        marks = asyncio.run(run())
    finally:
        stop.set()
        thread.join(timeout=10)

    def rate(start: float, end: float) -> float:
        return sum(1 for t in arrivals if start <= t < end) / (end - start)

    baseline, during = rate(marks["base_from"], marks["base_to"]), rate(marks["stall_from"], marks["stall_to"])
    figures = {k: round(v, 1) for k, v in marks.items()} | {"baseline": round(baseline), "during": round(during)}
    print(f"\nbackpressure: {figures}")
    assert "seen" in marks and marks.get("closed_after", 99) <= 10, figures
    assert marks["server_dropped_it"], figures
    assert during >= 0.9 * baseline, figures
    assert marks["queued_max"] <= 2 * 1000, figures
    assert marks["rss_max"] - marks["rss_before"] < 50_000, figures
