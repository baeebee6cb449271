"""The Atom feed of current CAP warnings (one entry per message, linking to its CAP XML)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

from iolaos.cap.message import cap_time, xml_text
from iolaos.cap.service import Entry

ATOM = "http://www.w3.org/2005/Atom"
CAP_TYPE = "application/cap+xml"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        element.text = xml_text(text)
    return element


def atom(entries: list[Entry], *, base: str, self_url: str, now: datetime) -> str:
    """An Atom 1.0 feed; each entry links to its CAP message (``base`` + entry path)."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _sub(feed, "id", self_url)
    _sub(feed, "title", "IOLAOS — Προειδοποιήσεις / Warnings (CAP 1.2)")
    _sub(feed, "updated", max((e.updated for e in entries), default=cap_time(now)))
    author = _sub(feed, "author")
    _sub(author, "name", "IOLAOS")
    _sub(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    for item in entries:
        entry = _sub(feed, "entry")
        _sub(entry, "id", f"urn:cap:{item.identifier}")
        _sub(entry, "title", f"{item.title_el} / {item.title_en}")
        _sub(entry, "updated", item.updated)
        _sub(entry, "link", rel="alternate", href=f"{base}/{item.path}", type=CAP_TYPE)
        _sub(entry, "summary", item.title_en)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(feed, encoding="unicode")
