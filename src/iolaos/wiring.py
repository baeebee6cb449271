"""``wire()``: the process's hooks, installed explicitly by ``create_app()``, the CLI and the worker.

Nothing below is done at import: importing any module of the package registers no listener and no handler, so a
test can import everything and build apps without inheriting global state. Every step is idempotent (building
two apps, or running a command inside a test, installs each hook once).
"""

from __future__ import annotations

from iolaos import db
from iolaos.auth import cache as principal_cache
from iolaos.config import Settings
from iolaos.incidents import service as incidents
from iolaos.journal import volatile
from iolaos.models import import_all_models
from iolaos.notifications import service as notifications
from iolaos.planning import workflow


def wire(settings: Settings | None = None) -> None:
    """Install the hooks every unit of work relies on; with ``settings``, also the notification hook.

    - every table on the metadata (a relationship may name a model no imported module loaded yet);
    - Session ``after_commit``/``after_rollback``: callbacks queued with ``db.after_commit`` (the live wake-ups);
    - Session ``before_commit``/``after_rollback``: volatile live events written right before COMMIT;
    - incidents and patrols as subjects of responsibility (handovers, holders);
    - the journal's record hook that writes the notification outbox with the record that causes it;
    - Engine listeners that empty the principal cache when accounts, tokens or organisations change.

    The live hub registers its own wake-up listener when it starts and removes it when it stops (realtime/hub.py).
    """
    import_all_models()
    db.install_session_hooks()
    principal_cache.install()
    volatile.install()
    incidents.register_subject()
    workflow.register_subject()
    if settings is not None:
        notifications.install(settings)
