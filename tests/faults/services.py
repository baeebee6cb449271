"""Backing services of the fault tests' own, which the tests may stop and start: never the machine's.

``OwnPostgres`` is a private PostgreSQL cluster (initdb in a temporary folder, a spare loopback port) filled from
the test template with pg_dump/pg_restore, so restarting it touches nobody else's databases. ``OwnRedis`` lives
in tests/realtime/test_redis_outage.py and is re-exported here for the fault tests.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.realtime.live import free_port
from tests.realtime.test_redis_outage import OwnRedis

__all__ = ["OwnPostgres", "OwnRedis", "libpq_url"]

PG_BIN = Path(os.environ.get("IOLAOS_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


def libpq_url(sqlalchemy_url: str) -> str:
    """``postgresql+psycopg://…`` → ``postgresql://…`` for pg_dump and psql."""
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


class OwnPostgres:
    """A PostgreSQL server of this test only; stop/start/restart act on it alone (by its data folder)."""

    def __init__(self) -> None:
        if not (PG_BIN / "initdb").exists():
            pytest.skip(f"PostgreSQL server binaries not found in {PG_BIN} (IOLAOS_TEST_PG_BIN)")
        self.port = free_port()
        # Not under pytest's tmp_path: the postgres OS user must be able to reach the folder.
        self.folder = Path(tempfile.mkdtemp(prefix="iolaos-own-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        # PostgreSQL refuses to run as root: run its programs as the postgres OS user then.
        self._as: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def url(self, database: str) -> str:
        """SQLAlchemy URL of ``database`` on this server."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"{' '.join(args[:2])} failed:\n{done.stdout[-1500:]}\n{done.stderr[-1500:]}"
        return done

    def _ctl(self, *args: str) -> None:
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c full_page_writes=off -c max_connections=100")
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30",
                  "-o", options, *args)

    def init(self) -> OwnPostgres:
        """initdb (trust authentication on loopback) and start."""
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
                  "-E", "UTF8")
        self.start()
        return self

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._ctl("start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: roll back open transactions and disconnect clients)."""
        self._ctl("-m", mode, "stop")

    def restart(self, mode: str = "fast") -> None:
        """``pg_ctl restart``."""
        self._ctl("-m", mode, "restart")

    def copy_database(self, source_url: str, name: str) -> str:
        """Create ``name`` here as a copy of ``source_url`` (another server); returns its SQLAlchemy URL."""
        self._run(str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-qc",
                  f'CREATE DATABASE "{name}"')
        dump = subprocess.Popen([str(PG_BIN / "pg_dump"), "-Fc", libpq_url(source_url)], stdout=subprocess.PIPE)
        restore = subprocess.run([str(PG_BIN / "pg_restore"), "--no-owner", "--exit-on-error", "-h", "127.0.0.1",
                                  "-p", str(self.port), "-U", "postgres", "-d", name], stdin=dump.stdout,
                                 capture_output=True, text=True, timeout=120)
        assert dump.stdout is not None
        dump.stdout.close()
        assert dump.wait(timeout=60) == 0, "pg_dump of the template failed"
        assert restore.returncode == 0, f"pg_restore failed: {restore.stderr[-2000:]}"
        return self.url(name)

    def tail(self, lines: int = 30) -> str:
        """The end of the server's log."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""

    def destroy(self) -> None:
        """Stop the server (immediately) and delete its folder; safe to call twice or after a failed start."""
        if (self.data / "postmaster.pid").exists():
            subprocess.run([*self._as, str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w",
                            "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)

