"""CAP 1.2 messages built from plain data (no database): the element order of the OASIS schema, CAP's time form.

The lifecycle (identifiers, references, who may publish) belongs to ``iolaos.warnings``; this module only
writes what it is given.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATHENS = ZoneInfo("Europe/Athens")
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._:-]")


@dataclass(frozen=True)
class Area:
    """One ``<area>``: its description in the info's language, shapes in CAP's text form, public geocodes."""

    desc: str
    polygons: tuple[str, ...] = ()
    circles: tuple[str, ...] = ()
    geocodes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Info:
    """One ``<info>`` block, all in one language."""

    language: str
    category: str
    event: str
    response_type: str
    urgency: str
    severity: str
    certainty: str
    effective: datetime
    expires: datetime
    sender_name: str
    headline: str
    instruction: str
    area: Area
    description: str = ""


@dataclass(frozen=True)
class Reference:
    """An earlier message, as CAP's ``references`` names it: sender, identifier, sent."""

    sender: str
    identifier: str
    sent: datetime

    def text(self) -> str:
        """``sender,identifier,sent``."""
        return f"{self.sender},{self.identifier},{cap_time(self.sent)}"


@dataclass(frozen=True)
class Alert:
    """A whole CAP ``<alert>``."""

    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    infos: tuple[Info, ...]
    note: str = ""
    references: tuple[Reference, ...] = field(default=())


def cap_time(value: datetime) -> str:
    """CAP date-time: seconds precision, a numeric offset (Europe/Athens), never ``Z``."""
    local = value.astimezone(ATHENS).replace(microsecond=0)
    offset = local.utcoffset() or timedelta(0)
    if offset.total_seconds() % 60:  # historical local mean time: say it in UTC instead
        local = value.astimezone(UTC).replace(microsecond=0)
    text = local.isoformat()
    return text if text[-6] in "+-" else text + "+00:00"


def xml_text(value: object) -> str:
    """Text safe for XML 1.0 (characters XML forbids are dropped)."""
    return _NOT_XML.sub("", str(value))


def identifier(*parts: object) -> str:
    """A CAP identifier: no spaces, commas or markup characters."""
    return _ID_UNSAFE.sub("_", "-".join(str(p) for p in parts))


def _sub(parent: ET.Element, tag: str, text: object | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NS}}}{tag}")
    if text is not None:
        element.text = xml_text(text)
    return element


def _info(alert: ET.Element, data: Info) -> None:
    info = _sub(alert, "info")
    for tag, text in (("language", data.language), ("category", data.category), ("event", data.event),
                      ("responseType", data.response_type), ("urgency", data.urgency), ("severity", data.severity),
                      ("certainty", data.certainty), ("effective", cap_time(data.effective)),
                      ("expires", cap_time(data.expires)), ("senderName", data.sender_name),
                      ("headline", data.headline), ("description", data.description or None),
                      ("instruction", data.instruction)):
        if text is not None:
            _sub(info, tag, text)
    area = _sub(info, "area")
    _sub(area, "areaDesc", data.area.desc or "—")
    for polygon in data.area.polygons:
        _sub(area, "polygon", polygon)
    for circle in data.area.circles:
        _sub(area, "circle", circle)
    for name, value in data.area.geocodes:
        geocode = _sub(area, "geocode")
        _sub(geocode, "valueName", name)
        _sub(geocode, "value", value)


def render(data: Alert) -> str:
    """The alert as CAP 1.2 XML text (UTF-8 declaration, default namespace)."""
    alert = ET.Element(f"{{{NS}}}alert")
    for tag, text in (("identifier", data.identifier), ("sender", data.sender), ("sent", cap_time(data.sent)),
                      ("status", data.status), ("msgType", data.msg_type), ("scope", "Public"),
                      ("note", data.note or None),
                      ("references", " ".join(r.text() for r in data.references) or None)):
        if text is not None:
            _sub(alert, tag, text)
    for info in data.infos:
        _info(alert, info)
    ET.indent(alert)  # people read these too; CAP has no mixed content, so indentation changes no value
    ET.register_namespace("", NS)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(alert, encoding="unicode")
