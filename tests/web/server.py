"""A real uvicorn server in a thread, and the Chromium settings, shared by the browser tests and the screenshots."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import uvicorn

from iolaos.app import create_app
from iolaos.config import Settings

CHROMIUM = Path(os.environ.get("IOLAOS_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


class Server:
    """uvicorn in a thread on a free loopback port, serving create_app(settings)."""

    def __init__(self, settings: Settings) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=self.port,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> Server:
        """Start and wait until it accepts connections."""
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.server.started, "the server did not start"
        return self

    def stop(self) -> None:
        """Ask the server to exit and wait for it."""
        self.server.should_exit = True
        self.thread.join(10)


def sign_in(page, username: str, password: str) -> None:
    """Sign in through the page's form and wait until live updates are connected."""
    page.fill("#signin-user", username)
    page.fill("#signin-pass", password)
    page.click("form.signin button[type=submit]")
    page.wait_for_selector('#conn[data-state="live"]', timeout=15_000)
