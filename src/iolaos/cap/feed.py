"""The public feed of current CAP messages: Atom 1.0 and a JSON index, both with a strong ETag.

The bodies depend only on the stored messages (never on the clock, except through which messages are current),
so an unchanged feed has an unchanged ETag and an aggregator polling with ``If-None-Match`` gets a 304.
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from iolaos.cap.message import cap_time, xml_text

ATOM = "http://www.w3.org/2005/Atom"
CAP_TYPE = "application/cap+xml"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # the feed's `updated` before anything was ever sent


@dataclass(frozen=True)
class Entry:
    """One current message and what the feed says about it."""

    identifier: str
    sender: str
    sent: datetime
    expires: datetime
    msg_type: str
    status: str
    state: str
    headline_el: str
    headline_en: str
    references: list[str]
    url: str


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        element.text = xml_text(text)
    return element


def atom(entries: list[Entry], *, base: str, self_url: str, updated: datetime | None) -> str:
    """An Atom 1.0 feed, one entry per current message, each linking to its CAP XML (``base`` + url)."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _sub(feed, "id", self_url)
    _sub(feed, "title", "IOLAOS — Προειδοποιήσεις / Warnings (CAP 1.2)")
    _sub(feed, "updated", cap_time(max((e.sent for e in entries), default=updated or EPOCH)))
    author = _sub(feed, "author")
    _sub(author, "name", "IOLAOS")
    _sub(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    for item in entries:
        entry = _sub(feed, "entry")
        _sub(entry, "id", f"urn:cap:{item.sender}:{item.identifier}")
        _sub(entry, "title", f"{item.headline_el} / {item.headline_en}")
        _sub(entry, "updated", cap_time(item.sent))
        _sub(entry, "link", rel="alternate", href=f"{base}{item.url}", type=CAP_TYPE)
        _sub(entry, "category", term=item.msg_type, label=f"{item.status} {item.msg_type} ({item.state})")
        _sub(entry, "summary", f"{item.headline_en} — {item.msg_type}, {item.state}, expires {cap_time(item.expires)}")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(feed, encoding="unicode")


def index(entries: list[Entry], *, base: str, updated: datetime | None) -> dict[str, Any]:
    """The same entries as JSON for clients that do not read Atom."""
    return {
        "updated": cap_time(max((e.sent for e in entries), default=updated or EPOCH)),
        "messages": [{"identifier": e.identifier, "sender": e.sender, "sent": cap_time(e.sent),
                      "expires": cap_time(e.expires), "msgType": e.msg_type, "status": e.status, "state": e.state,
                      "references": e.references, "headline": {"el": e.headline_el, "en": e.headline_en},
                      "url": f"{base}{e.url}"} for e in entries],
    }


def dumps(document: dict[str, Any]) -> str:
    """Stable JSON text (sorted keys), so equal content has an equal ETag."""
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def etag(body: str) -> str:
    """A strong ETag of a body."""
    return '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'


def not_modified(if_none_match: str | None, tag: str) -> bool:
    """True when ``If-None-Match`` names ``tag`` (or is ``*``), per RFC 9110 (weak comparison)."""
    if not if_none_match:
        return False
    candidates = {c.strip().removeprefix("W/") for c in if_none_match.split(",")}
    return "*" in candidates or tag in candidates
