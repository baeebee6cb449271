"""Drive deploy/local-cluster.sh from tests: two API instances behind nginx on free loopback ports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests.realtime.live import free_port, recv

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "local-cluster.sh"


class Cluster:
    """One run of the cluster script with its own state folder and ports."""

    def __init__(self, folder: Path, database_url: str, redis_url: str, **settings: object) -> None:
        self.folder = folder
        self.port = free_port()
        self.api_ports = [free_port(), free_port()]
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("IOLAOS_")},
                    "IOLAOS_CLUSTER_DIR": str(folder), "IOLAOS_CLUSTER_DATABASE_URL": database_url,
                    "IOLAOS_CLUSTER_REDIS_URL": redis_url, "IOLAOS_CLUSTER_PORT": str(self.port),
                    "IOLAOS_CLUSTER_API_PORTS": " ".join(map(str, self.api_ports)), "IOLAOS_CLUSTER_SEED": "0",
                    **{f"IOLAOS_{k.upper()}": str(v) for k, v in settings.items()}}
        self.url = ""

    def api_url(self, i: int) -> str:
        """Base URL of instance ``i`` (0 or 1), bypassing the proxy."""
        return f"http://127.0.0.1:{self.api_ports[i]}"

    def pid(self, i: int) -> int:
        """Process id of instance ``i``."""
        return int((self.folder / f"api{i + 1}.pid").read_text())

    def start(self) -> Cluster:
        """Run ``local-cluster.sh start``; returns once the proxy answers /readyz."""
        if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
            pytest.skip("nginx not installed (.ci/run installs it)")
        done = subprocess.run([str(SCRIPT), "start"], env=self.env, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr[-3000:]
        self.url = done.stdout.strip().splitlines()[-1]
        assert self.url == f"http://127.0.0.1:{self.port}"
        return self

    def stop(self) -> None:
        """Run ``local-cluster.sh stop``."""
        subprocess.run([str(SCRIPT), "stop"], env=self.env, capture_output=True, timeout=60)

    def log(self, i: int) -> str:
        """The end of instance ``i``'s log."""
        path = self.folder / f"api{i + 1}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-30:]) if path.exists() else ""


def ws_url(base: str) -> str:
    """The /ws URL of an HTTP base URL."""
    return base.replace("http://", "ws://") + "/ws"


async def subscribe(base: str, token: str, topics: list[str], after: int | None = None,
                    epoch: str | None = None) -> tuple[Any, dict[str, Any]]:
    """Open /ws at ``base``, authenticate and subscribe; returns (socket, welcome)."""
    ws = await websockets.connect(ws_url(base), open_timeout=10)
    await ws.send(json.dumps({"type": "auth", "token": token}))
    welcome = await recv(ws, 10)
    assert welcome["type"] == "welcome", welcome
    request: dict[str, Any] = {"type": "subscribe", "topics": topics}
    if after is not None:
        request |= {"after": after, "epoch": epoch}
    await ws.send(json.dumps(request))
    subscribed = await recv(ws, 10)
    assert subscribed["type"] == "subscribed" and not subscribed["denied"], subscribed
    return ws, welcome
