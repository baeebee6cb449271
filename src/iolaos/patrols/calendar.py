"""The patrol's local day: risk levels and plans are per Europe/Athens day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from iolaos.errors import InvalidInput
from iolaos.kit.time import as_utc
from iolaos.patrols.models import Patrol

ATHENS = ZoneInfo("Europe/Athens")


def shift_date(patrol: Patrol) -> date:
    """The Europe/Athens date of the patrol's shift start."""
    return as_utc(patrol.shift_start).astimezone(ATHENS).date()


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def check_day(day: date) -> date:
    """422 for dates outside the years planning makes sense for (2000–2099)."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInput(f"date {day.isoformat()} is outside {FIRST_DAY.year}–{LAST_DAY.year}", code="invalid_date")
    return day


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """Local midnight to local midnight of ``day``, in UTC (the planner's days and skill validity alike)."""
    check_day(day)
    start = datetime.combine(day, time(0), ATHENS)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)
