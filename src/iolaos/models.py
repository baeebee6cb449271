"""Imports every feature's tables so that metadata is complete (Alembic, tests)."""

from __future__ import annotations


def import_all_models() -> None:
    """Register all tables on the shared metadata."""
    from iolaos.auth import models as _auth  # noqa: F401
    from iolaos.field import models as _field  # noqa: F401
    from iolaos.idempotency import models as _idempotency  # noqa: F401
    from iolaos.incidents import models as _incidents  # noqa: F401
    from iolaos.journal import models as _journal  # noqa: F401
    from iolaos.notifications import models as _notifications  # noqa: F401
    from iolaos.organisations import models as _organisations  # noqa: F401
    from iolaos.patrols import models as _patrols  # noqa: F401
    from iolaos.planning import models as _planning  # noqa: F401
    from iolaos.responsibility import models as _responsibility  # noqa: F401
    from iolaos.risk import models as _risk  # noqa: F401
    from iolaos.volunteers import models as _volunteers  # noqa: F401
    from iolaos.warnings import models as _warnings  # noqa: F401
    from iolaos.zones import models as _zones  # noqa: F401
