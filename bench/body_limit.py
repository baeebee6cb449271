"""Memory of a server under oversized bodies: four clients in parallel each send a 50 MB JSON body without a
token, ten rounds; prints the server's RSS before and after and each answer's status and time.

    python bench/body_limit.py            # figures go in docs/benchmarks.md ("Oversized bodies")

The server is ``iolaos serve`` (the launcher's options: no Server header, no trusted proxies) over a fresh
SQLite database in a temporary folder, on a free loopback port. Clients send the full 50 MB as a real client
would, whatever the server answers, so the server must not buffer it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SIZE = 50 * 1024 * 1024
PARALLEL, ROUNDS = 4, 10


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _send(port: int, results: list) -> None:
    began = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"POST /api/v1/incidents HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                     + f"Content-Length: {SIZE}\r\n\r\n".encode())
        chunk, sent, status = b" " * 65536, 0, None
        try:
            while sent < SIZE:
                sock.sendall(chunk)
                sent += len(chunk)
                if status is None:
                    sock.setblocking(False)
                    with contextlib.suppress(BlockingIOError):  # nothing answered yet
                        status = sock.recv(64)[:12].decode()
                    sock.setblocking(True)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed after answering: it never reads the rest
        if status is None:
            sock.settimeout(5)
            status = sock.recv(64)[:12].decode()
    results.append((status, time.perf_counter() - began, sent))


def main() -> None:
    """Start a server, send the oversized bodies, print the figures."""
    tmp = Path(tempfile.mkdtemp(prefix="iolaos-bench-"))
    env = dict(os.environ, IOLAOS_DATABASE_URL=f"sqlite:///{tmp / 'bench.db'}", IOLAOS_LOG_LEVEL="warning",
               IOLAOS_FIELD_SWEEP_SECONDS="0")
    iolaos = Path(sys.executable).with_name("iolaos")
    subprocess.run([str(iolaos), "db", "upgrade"], env=env, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen([str(iolaos), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(1)
        before = _rss_mb(server.pid)
        results: list = []
        peak = before
        for _ in range(ROUNDS):
            threads = [threading.Thread(target=_send, args=(port, results)) for _ in range(PARALLEL)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            peak = max(peak, _rss_mb(server.pid))
        after = _rss_mb(server.pid)
        statuses = sorted({r[0] for r in results})
        times = sorted(r[1] for r in results)
        print(f"{len(results)} requests of {SIZE // 2**20} MB ({PARALLEL} in parallel × {ROUNDS}): statuses {statuses}")
        print(f"answer time: median {times[len(times) // 2] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms")
        print(f"server RSS: before {before:.0f} MB, peak {peak:.0f} MB, after {after:.0f} MB "
              f"(growth {after - before:+.1f} MB)")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
