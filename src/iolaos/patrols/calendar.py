"""The patrol's local day: risk levels and plans are per Europe/Athens day."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from iolaos.kit.time import as_utc
from iolaos.patrols.models import Patrol

ATHENS = ZoneInfo("Europe/Athens")


def shift_date(patrol: Patrol) -> date:
    """The Europe/Athens date of the patrol's shift start."""
    return as_utc(patrol.shift_start).astimezone(ATHENS).date()
