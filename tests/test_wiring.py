"""Hooks are wired by the entry points, never by importing a module (issue 21).

Each check runs in a fresh interpreter: this test process itself is wired by tests/conftest.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# Imports every module of the package (what a test run or a tool may do), then looks at each hook before and after
# building apps: nothing may be installed by the imports, and two apps install each hook exactly once.
SCRIPT = textwrap.dedent("""
    import json, pkgutil, importlib
    import iolaos
    for info in pkgutil.walk_packages(iolaos.__path__, "iolaos."):
        if not info.name.startswith("iolaos.migrations"):  # Alembic's env.py runs migrations when imported
            importlib.import_module(info.name)

    from sqlalchemy.orm import Session as OrmSession
    from sqlmodel import Session
    from iolaos import db
    from iolaos.app import create_app
    from iolaos.config import Settings
    from iolaos.journal import service as journal, volatile
    from iolaos.responsibility import subjects
    from iolaos.notifications import service as notifications
    from iolaos.auth import cache as principal_cache

    def listeners(name):  # every listener of this event on any Session class (SQLAlchemy keeps them per class)
        return len({id(fn) for fns in getattr(OrmSession.dispatch, name)._clslevel.values() for fn in fns})

    def state():
        return {"session_hooks": db.session_hooks_installed(), "volatile": volatile.installed(),
                "subjects": subjects.known_types(), "principal_cache": principal_cache.installed(),
                "record_hooks": journal._record_hooks.count(notifications.on_record),
                "wake_listeners": len(journal.wake_listeners()),
                "listeners": {n: listeners(n) for n in ("before_commit", "after_commit", "after_rollback")}}

    before = state()
    settings = Settings(database_url="sqlite://")
    create_app(settings)
    once = state()
    create_app(settings)
    twice = state()
    print(json.dumps({"before": before, "once": once, "twice": twice}))
""")


def _run() -> dict:
    import json

    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_installs_nothing_and_create_app_installs_each_hook_once() -> None:
    seen = _run()
    before, once, twice = seen["before"], seen["once"], seen["twice"]
    assert before["session_hooks"] is False and before["volatile"] is False and before["principal_cache"] is False
    assert before["subjects"] == [] and before["record_hooks"] == 0 and before["wake_listeners"] == 0
    assert before["listeners"] == {"before_commit": 0, "after_commit": 0, "after_rollback": 0}, "import-time listener"

    assert once["session_hooks"] is True and once["volatile"] is True and once["principal_cache"] is True
    assert once["subjects"] == ["incident", "patrol"] and once["record_hooks"] == 1
    assert once["listeners"] == {"before_commit": 1, "after_commit": 1, "after_rollback": 2}
    assert once["wake_listeners"] == 0  # the hub registers itself when the app starts, not when it is built

    assert twice == once  # a second app adds nothing
