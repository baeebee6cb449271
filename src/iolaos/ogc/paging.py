"""Query parameters of OGC API – Features items: datetime intervals, paging links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from iolaos.errors import InvalidInput
from iolaos.kit.strict import RANGE_TEXT, check_day, check_instant

GEOJSON = "application/geo+json"
JSON = "application/json"


@dataclass(frozen=True)
class Interval:
    """A closed time interval; None at either end means open."""

    start: datetime | None
    end: datetime | None

    def overlaps(self, lo: datetime, hi: datetime) -> bool:
        """True when [lo, hi] meets this interval."""
        return (self.start is None or hi >= self.start) and (self.end is None or lo <= self.end)


def _instant(text: str, *, end: bool) -> datetime | None:
    """One end of an RFC 3339 interval: a date-time, a date (whole day) or '..'/'' (open)."""
    if text in ("", ".."):
        return None
    try:
        if "T" not in text and len(text) == 10:
            day = check_day(date.fromisoformat(text))
            return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)
        value = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"datetime {text!r} is not RFC 3339 (e.g. 2026-07-14T10:00:00Z or 2026-07-14) "
                           f"{RANGE_TEXT}", code="invalid_datetime") from exc
    try:  # RFC 3339 requires the offset: a naive instant is ambiguous, so it is refused like everywhere else
        return check_instant(value)
    except ValueError as exc:
        raise InvalidInput(f"datetime {text!r}: {exc}", code="invalid_datetime") from exc


def parse_datetime(text: str | None) -> Interval | None:
    """The OGC ``datetime`` parameter: an instant, ``start/end``, ``../end`` or ``start/..``."""
    if text is None:
        return None
    parts = text.split("/")
    if len(parts) == 1:
        return Interval(_instant(parts[0], end=False), _instant(parts[0], end=True))
    if len(parts) != 2 or parts == ["..", ".."] or not any(parts):
        raise InvalidInput("datetime must be an instant or an interval start/end", code="invalid_datetime")
    interval = Interval(_instant(parts[0], end=False), _instant(parts[1], end=True))
    if interval.start and interval.end and interval.start > interval.end:
        raise InvalidInput("datetime interval ends before it starts", code="invalid_datetime")
    return interval


def page_links(request: Request, *, offset: int, limit: int, returned: int, matched: int) -> list[dict[str, Any]]:
    """self/alternate links and next/prev links of an items page (other query parameters kept)."""
    base = str(request.url.replace(query=""))
    params = {k: v for k, v in request.query_params.items() if k not in ("offset", "limit", "f")}

    def href(at: int, fmt: str = "json") -> str:
        return base + "?" + urlencode({**params, "limit": limit, "offset": at, "f": fmt})

    links = [{"href": href(offset), "rel": "self", "type": GEOJSON, "title": "this page"},
             {"href": base.rsplit("/items", 1)[0], "rel": "collection", "type": JSON, "title": "the collection"}]
    if offset + returned < matched:
        links.append({"href": href(offset + limit), "rel": "next", "type": GEOJSON, "title": "next page"})
    if offset > 0:
        links.append({"href": href(max(0, offset - limit)), "rel": "prev", "type": GEOJSON, "title": "previous page"})
    return links


def feature_collection(request: Request, features: list[dict[str, Any]], *, offset: int, limit: int,
                       matched: int, now: datetime) -> dict[str, Any]:
    """A GeoJSON FeatureCollection with the OGC paging members."""
    return {
        "type": "FeatureCollection", "features": features,
        "numberMatched": matched, "numberReturned": len(features),
        "timeStamp": now.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "links": page_links(request, offset=offset, limit=limit, returned=len(features), matched=matched),
    }
