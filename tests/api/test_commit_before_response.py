"""A success answer means the change is committed: the next request (any connection) sees it."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import uvicorn
from sqlalchemy import event
from sqlmodel import Session

from iolaos.app import create_app


def _slow_server_commits(session) -> None:
    """Make every commit in the server's threads slow, so a commit racing the response would lose."""
    if threading.current_thread() is not threading.main_thread():
        time.sleep(0.2)


def test_tokens_and_writes_are_visible_as_soon_as_answered(db, demo_passwords):

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(db), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    event.listen(Session, "before_commit", _slow_server_commits)
    try:
        with httpx.Client(base_url=url, timeout=20) as http:
            for _ in range(5):
                token = http.post("/api/v1/auth/token", data={"username": "leader.limni",
                                                              "password": demo_passwords["leader.limni"]})
                headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
                assert http.get("/api/v1/auth/me", headers=headers).status_code == 200
                made = http.post("/api/v1/incidents", headers=headers,
                                 json={"kind": "smoke", "point": {"type": "Point", "coordinates": [23.45, 38.8]}})
                assert http.get(f"/api/v1/incidents/{made.json()['id']}", headers=headers).status_code == 200
    finally:
        event.remove(Session, "before_commit", _slow_server_commits)
        server.should_exit = True
        thread.join(10)
