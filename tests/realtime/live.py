"""Helpers for the live-update tests: uvicorn in a subprocess, websocket clients and direct journal writes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import websockets
from sqlalchemy import text
from sqlalchemy.engine import Engine

from iolaos.auth.actor import system_actor
from iolaos.config import Settings
from iolaos.db import make_engine, session_scope
from iolaos.journal import service as journal

Message = dict[str, Any]


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """``uvicorn --factory iolaos.app:create_app`` in its own process, configured by ``IOLAOS_*`` variables."""

    def __init__(self, settings: Settings, **env: object) -> None:
        self.port = free_port()
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("IOLAOS_")},
                    "IOLAOS_DATABASE_URL": settings.database_url,
                    **{f"IOLAOS_{k.upper()}": str(v) for k, v in env.items() if v is not None}}
        self.log = Path(tempfile.mkstemp(prefix="iolaos-live-", suffix=".log")[1])
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The HTTP base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """The websocket URL."""
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> LiveServer:
        """Start the process (returns at once; see ``wait_ready``)."""
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--factory", "iolaos.app:create_app", "--host", "127.0.0.1",
                 "--port", str(self.port), "--log-level", "warning"],
                env=self.env, stdout=out, stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, timeout: float = 40) -> LiveServer:
        """Wait until ``/healthz`` answers and the hub has read the journal head."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.tail()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not ready in {timeout}s:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        """The end of the server's log."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def rss_kb(self) -> int:
        """Resident memory of the server process."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def status(self, token: str) -> Message:
        """``GET /api/v1/realtime/status``."""
        resp = httpx.get(self.url + "/api/v1/realtime/status", headers=bearer(token), timeout=5)
        resp.raise_for_status()
        return resp.json()


def start_servers(*servers: LiveServer) -> None:
    """Start several servers in parallel and wait for all of them."""
    for server in servers:
        server.start()
    for server in servers:
        server.wait_ready()


def bearer(token: str) -> dict[str, str]:
    """Authorization header."""
    return {"Authorization": f"Bearer {token}"}


def sign_in(base_url: str, username: str, password: str) -> str:
    """A bearer token for an account, once it works.

    The request's session commits after the response is sent (FastAPI's default scope for dependencies with
    ``yield``), so a token can reach the client a moment before it is committed: wait until it is usable.
    """
    resp = httpx.post(base_url + "/api/v1/auth/token", data={"username": username, "password": password}, timeout=10)
    assert resp.status_code == 200, resp.text
    token = resp.json()["access_token"]
    until(lambda: httpx.get(base_url + "/api/v1/auth/me", headers=bearer(token), timeout=5).status_code == 200)
    return token


def until(condition: Callable[[], bool], timeout: float = 5, what: str = "condition") -> None:
    """Wait until ``condition()`` holds (REST changes commit just after their response)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def get(base_url: str, token: str, path: str) -> Any:
    """GET a JSON resource."""
    resp = httpx.get(base_url + path, headers=bearer(token), timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()


def patch_volunteer(client: httpx.Client, base_url: str, token: str, volunteer_id: int, status: str) -> None:
    """A change that journals an event with topics org:<its org>, volunteer:<id>."""
    resp = client.patch(f"{base_url}/api/v1/volunteers/{volunteer_id}", headers=bearer(token),
                        json={"status": status}, timeout=10)
    assert resp.status_code == 200, resp.text


async def recv(ws: Any, timeout: float = 5) -> Message:
    """The next message as JSON."""
    return json.loads(await asyncio.wait_for(ws.recv(), timeout=timeout))


async def recv_until(ws: Any, want: Callable[[Message], bool], timeout: float = 5) -> tuple[Message, list[Message]]:
    """Read until a message matches; returns it and everything read before it."""
    seen: list[Message] = []
    deadline = time.monotonic() + timeout
    while True:
        message = await recv(ws, max(deadline - time.monotonic(), 0.01))
        if want(message):
            return message, seen
        seen.append(message)


async def connect(server: LiveServer, token: str, topics: list[str] | None = None, *, after: int | None = None,
                  epoch: str | None = None, **kwargs: Any) -> tuple[Any, Message, Message | None]:
    """Open ``/ws``, authenticate, and subscribe when ``topics`` is given: (socket, welcome, subscribed)."""
    ws = await websockets.connect(server.ws_url, open_timeout=10, **kwargs)
    await ws.send(json.dumps({"type": "auth", "token": token}))
    welcome = await recv(ws)
    assert welcome["type"] == "welcome", welcome
    subscribed = None
    if topics is not None:
        request: Message = {"type": "subscribe", "topics": topics}
        if after is not None:
            request["after"] = after
        if epoch is not None:
            request["epoch"] = epoch
        await ws.send(json.dumps(request))
        subscribed = await recv(ws)
        assert subscribed["type"] == "subscribed", subscribed
    return ws, welcome, subscribed


def events(messages: list[Message]) -> list[Message]:
    """Only the event messages."""
    return [m for m in messages if m["type"] == "event"]


class Journal:
    """Direct access to the test database: head, event seqs, and events written like any service does."""

    def __init__(self, settings: Settings) -> None:
        self.engine: Engine = make_engine(settings)

    def head(self) -> tuple[int, str]:
        """(last event seq, epoch)."""
        with self.engine.connect() as conn:
            seq, epoch = conn.execute(text("SELECT event_seq, epoch FROM journal_head WHERE id = 1")).one()
        return int(seq), str(epoch)

    def seqs(self, topic: str, after: int, upto: int | None = None) -> list[int]:
        """Seqs of stored events carrying ``topic``, in order."""
        query = "SELECT seq FROM event WHERE seq > :after AND topics LIKE :pattern"
        params: dict[str, Any] = {"after": after, "pattern": f"% {topic} %"}
        if upto is not None:
            query += " AND seq <= :upto"
            params["upto"] = upto
        with self.engine.connect() as conn:
            return [row[0] for row in conn.execute(text(query + " ORDER BY seq"), params)]

    def wait_seqs(self, topic: str, after: int, count: int) -> list[int]:
        """``seqs`` once ``count`` events are committed (REST writes commit just after their response)."""
        until(lambda: len(self.seqs(topic, after)) >= count, what=f"{count} events on {topic}")
        return self.seqs(topic, after)

    def record(self, topics: list[str], payload: dict[str, Any] | None = None, *, count: int = 1) -> int:
        """Commit ``count`` events with these topics in one transaction; returns the last seq."""
        with session_scope(self.engine) as session:
            for _ in range(count):
                journal.record(session, actor=system_actor("tests"), action="test.event", subject_type="test",
                               subject_id="0", topics=topics, payload=payload or {})
        return self.head()[0]

    def dispose(self) -> None:
        """Close the engine."""
        self.engine.dispose()
