"""CAP 1.2 messages built from plain data (no database), in Greek and English."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from iolaos import i18n
from iolaos.cap.geometry import around, cap_circle, cap_polygons

NS = "urn:oasis:names:tc:emergency:cap:1.2"
SENDER = "cap@iolaos.gr"
ATHENS = ZoneInfo("Europe/Athens")
INCIDENT_RADIUS_KM = 5.0
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._:-]")
CAP_LANGUAGES = {"el-GR": "el", "en-US": "en"}  # CAP <language> → the message catalogue's language
RISK_SEVERITY = {4: "Severe", 5: "Extreme"}


def _text(key: str, cap_lang: str) -> str:
    """A CAP text from the message catalogue (src/iolaos/i18n)."""
    return i18n.t(f"cap.{key}", CAP_LANGUAGES[cap_lang])


def event_text(what: str, cap_lang: str) -> str:
    """The CAP <event> of ``risk.<category>`` or ``incident.<kind>`` (a kind without its own text: wildfire)."""
    kind = what.split(".", 1)[1]
    if what.startswith("incident.") and kind not in ("wildfire", "smoke"):
        what = "incident.wildfire"
    return _text(f"{what}.event", cap_lang)


SEVERITY = {"high": "Severe", "critical": "Extreme"}


@dataclass(frozen=True)
class RiskAlert:
    """A zone at fire-risk category 4 or 5 on a day."""

    zone_code: str
    name_el: str
    name_en: str
    geometry: BaseGeometry
    category: int
    day: date
    sent: datetime


@dataclass(frozen=True)
class IncidentAlert:
    """An incident that calls for a public warning."""

    incident_id: int
    kind: str
    severity: str
    point: Point
    place_el: str
    place_en: str
    sent: datetime
    description: str = ""


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
    return _ID_UNSAFE.sub("_", "iolaos-" + "-".join(str(p) for p in parts))


def _sub(parent: ET.Element, tag: str, text: object | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NS}}}{tag}")
    if text is not None:
        element.text = xml_text(text)
    return element


def _alert(ident: str, sent: datetime, note: str) -> ET.Element:
    alert = ET.Element(f"{{{NS}}}alert")
    for tag, text in (("identifier", ident), ("sender", SENDER), ("sent", cap_time(sent)), ("status", "Actual"),
                      ("msgType", "Alert"), ("scope", "Public"), ("note", note)):
        _sub(alert, tag, text)
    return alert


def _info_head(alert: ET.Element, lang: str, event: str, response: str, urgency: str, severity: str,
               certainty: str) -> ET.Element:
    info = _sub(alert, "info")
    for tag, text in (("language", lang), ("category", "Fire"), ("event", event), ("responseType", response),
                      ("urgency", urgency), ("severity", severity), ("certainty", certainty)):
        _sub(info, tag, text)
    return info


def _area(info: ET.Element, desc: str, polygons: list[str], circle: str | None, code: str | None) -> None:
    area = _sub(info, "area")
    _sub(area, "areaDesc", desc or "—")
    for polygon in polygons:
        _sub(area, "polygon", polygon)
    if circle:
        _sub(area, "circle", circle)
    if code:
        geocode = _sub(area, "geocode")
        _sub(geocode, "valueName", "IOLAOS-ZONE")
        _sub(geocode, "value", code)


def _serialise(alert: ET.Element) -> str:
    ET.register_namespace("", NS)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(alert, encoding="unicode")


def risk_identifier(data: RiskAlert) -> str:
    """The identifier of a risk alert: one per zone, day and category."""
    return identifier("risk", data.day.isoformat(), data.zone_code, f"c{data.category}")


def risk_message(data: RiskAlert) -> str:
    """A CAP alert for a zone at fire-risk category 4 or 5, in Greek and English."""
    if data.category not in RISK_SEVERITY:
        raise ValueError("fire-risk alerts are for categories 4 and 5")
    alert = _alert(risk_identifier(data), data.sent, f"fire-risk category {data.category}")
    onset = datetime.combine(data.day, time.min, tzinfo=ATHENS)
    today = data.sent.astimezone(ATHENS).date()
    urgency = "Future" if data.day > today else "Expected"
    polygons = cap_polygons(data.geometry)
    for lang, name in (("el-GR", data.name_el), ("en-US", data.name_en)):
        event, severity = event_text(f"risk.{data.category}", lang), RISK_SEVERITY[data.category]
        info = _info_head(alert, lang, event, "Prepare", urgency, severity, "Likely")
        for tag, text in (("effective", cap_time(data.sent)), ("onset", cap_time(onset)),
                          ("expires", cap_time(onset + timedelta(days=1))), ("senderName", _text("sender_name", lang)),
                          ("headline", f"{event}: {name} ({data.day.isoformat()})"),
                          ("instruction", _text("risk.instruction", lang))):
            _sub(info, tag, text)
        parameter = _sub(info, "parameter")
        _sub(parameter, "valueName", "fire_risk_category")
        _sub(parameter, "value", data.category)
        _area(info, name, polygons, None, data.zone_code)
    return _serialise(alert)


def incident_identifier(data: IncidentAlert) -> str:
    """The identifier of an incident alert: one per incident and severity."""
    return identifier("incident", data.incident_id, data.severity)


def incident_message(data: IncidentAlert) -> str:
    """A CAP alert for an incident calling for a public warning, in Greek and English."""
    alert = _alert(incident_identifier(data), data.sent, f"incident {data.incident_id}")
    polygons = cap_polygons(around(data.point, INCIDENT_RADIUS_KM))
    circle = cap_circle(data.point, INCIDENT_RADIUS_KM)
    for lang, place in (("el-GR", data.place_el), ("en-US", data.place_en)):
        event = event_text(f"incident.{data.kind}", lang)
        info = _info_head(alert, lang, event, "Monitor" if data.severity == "high" else "Prepare", "Immediate",
                          SEVERITY.get(data.severity, "Severe"), "Observed")
        for tag, text in (("effective", cap_time(data.sent)), ("senderName", _text("sender_name", lang)),
                          ("headline", f"{event}: {place}" if place else event),
                          ("description", data.description or None),
                          ("instruction", _text("incident.instruction", lang))):
            if text is not None:
                _sub(info, tag, text)
        _area(info, place, polygons, circle, None)
    return _serialise(alert)
