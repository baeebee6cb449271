"""Strict input types shared by every feature: aware datetimes in a sane range, days, numbers without booleans.

Why one module: an outside review found 21 distinct server errors from extreme or naive timestamps
(year 1 with +14:00 overflows on conversion to UTC; year 9999 overflows when a day is added; a naive
value compared with an aware column raises). Every datetime input, in a body or a query, goes through
``Instant``; every calendar day through ``Day``; so the checks happen once, before any arithmetic.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field, Strict

# The service deals with operations of this century; nothing it stores or asks about lies outside it.
EARLIEST_YEAR = 2000
LATEST_YEAR = 2099
RANGE_TEXT = f"between the years {EARLIEST_YEAR} and {LATEST_YEAR}"


def check_instant(value: datetime) -> datetime:
    """An aware datetime within the sane range, converted to UTC; ValueError otherwise.

    The year is checked on the value as given, before any conversion, because converting year 1 at +14:00
    (or year 9999 at -14:00) to UTC overflows.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a timezone offset is required (e.g. 2026-07-14T10:00:00Z or +03:00)")
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"datetimes must lie {RANGE_TEXT}")
    return value.astimezone(UTC)


def check_day(value: date) -> date:
    """A calendar day within the sane range; ValueError otherwise."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"days must lie {RANGE_TEXT}")
    return value


# An aware instant (naive → 422), years 2000–2099, normalised to UTC. Use for every datetime input.
Instant = Annotated[AwareDatetime, AfterValidator(check_instant)]
# A calendar day, years 2000–2099. Use for every date input.
Day = Annotated[date, AfterValidator(check_day)]
# JSON numbers only: ``true``/``false`` and numeric strings are refused (pydantic's lax mode takes them).
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Integer = Annotated[int, Strict()]
Longitude = Annotated[float, Strict(), Field(ge=-180, le=180)]
Latitude = Annotated[float, Strict(), Field(ge=-90, le=90)]
