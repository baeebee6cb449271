"""Demo data: tomorrow's fire-risk map for Attica and Evia, so that `plans/preview` has work to show.

Call from the demo after the actors are seeded (``iolaos demo``)::

    from iolaos.risk import demo as risk_demo
    with session_scope(engine) as session:
        risk_demo.seed_tomorrow(session)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from iolaos.auth.actor import system_actor
from iolaos.risk import importer, service
from iolaos.risk.schemas import ChangeOut

# zone code → category: eastern Attica and northern Evia at 4, Penteli at 5, the rest of both regions at 3.
TOMORROW = {"GR-I": 3, "GR-H": 2, "9220": 4, "9217": 4, "9232": 4, "9176": 5, "9153": 4, "9150": 4, "9155": 3}


def seed_tomorrow(session: Session) -> ChangeOut:
    """Publish tomorrow's demo map (journalled like any import); running it again changes nothing."""
    day = (datetime.now(ZoneInfo("Europe/Athens")) + timedelta(days=1)).date().isoformat()
    lines = [importer.Line(n, code, day, category) for n, (code, category) in enumerate(TOMORROW.items(), start=1)]
    return service.import_lines(session, actor=system_actor("demo"), lines=lines, source="demo")
