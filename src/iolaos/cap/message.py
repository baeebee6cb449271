"""CAP 1.2 messages built from plain data (no database), in Greek and English."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from iolaos.cap.geometry import around, cap_circle, cap_polygons

NS = "urn:oasis:names:tc:emergency:cap:1.2"
SENDER = "cap@iolaos.gr"
SENDER_NAME = {"el-GR": "IOLAOS — Πολιτική Προστασία", "en-US": "IOLAOS — Civil Protection"}
ATHENS = ZoneInfo("Europe/Athens")
INCIDENT_RADIUS_KM = 5.0
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._:-]")

RISK_WORDS = {
    4: {"el-GR": ("Πολύ υψηλός κίνδυνος πυρκαγιάς", "Severe"), "en-US": ("Very high fire risk", "Severe")},
    5: {"el-GR": ("Κατάσταση συναγερμού για πυρκαγιά", "Extreme"), "en-US": ("Fire risk alarm", "Extreme")},
}
RISK_INSTRUCTION = {
    "el-GR": "Αποφύγετε κάθε εργασία που μπορεί να προκαλέσει πυρκαγιά. Αναφέρετε αμέσως καπνό ή φωτιά στο 112.",
    "en-US": "Avoid any activity that could start a fire. Report smoke or fire to 112 at once.",
}
INCIDENT_EVENT = {"wildfire": {"el-GR": "Δασική πυρκαγιά", "en-US": "Wildfire"},
                  "smoke": {"el-GR": "Καπνός", "en-US": "Smoke"}}
INCIDENT_INSTRUCTION = {
    "el-GR": "Ακολουθήστε τις οδηγίες των αρχών και του 112. Μην πλησιάζετε την περιοχή.",
    "en-US": "Follow the instructions of the authorities and of 112. Keep away from the area.",
}
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
    from_zone_code: str | None = None  # set when the category is inherited from an ancestor zone


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
    if data.category not in RISK_WORDS:
        raise ValueError("fire-risk alerts are for categories 4 and 5")
    alert = _alert(risk_identifier(data), data.sent, f"fire-risk category {data.category}")
    onset = datetime.combine(data.day, time.min, tzinfo=ATHENS)
    today = data.sent.astimezone(ATHENS).date()
    urgency = "Future" if data.day > today else "Expected"
    polygons = cap_polygons(data.geometry)
    for lang, name in (("el-GR", data.name_el), ("en-US", data.name_en)):
        event, severity = RISK_WORDS[data.category][lang]
        info = _info_head(alert, lang, event, "Prepare", urgency, severity, "Likely")
        for tag, text in (("effective", cap_time(data.sent)), ("onset", cap_time(onset)),
                          ("expires", cap_time(onset + timedelta(days=1))), ("senderName", SENDER_NAME[lang]),
                          ("headline", f"{event}: {name} ({data.day.isoformat()})"),
                          ("instruction", RISK_INSTRUCTION[lang])):
            _sub(info, tag, text)
        parameter = _sub(info, "parameter")
        _sub(parameter, "valueName", "fire_risk_category")
        _sub(parameter, "value", data.category)
        origin = _sub(info, "parameter")  # own entry or inherited, as every other answer about risk says
        _sub(origin, "valueName", "fire_risk_category_source")
        inherited = data.from_zone_code not in (None, data.zone_code)
        _sub(origin, "value", f"inherited:{data.from_zone_code}" if inherited else "own")
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
        event = INCIDENT_EVENT.get(data.kind, INCIDENT_EVENT["wildfire"])[lang]
        info = _info_head(alert, lang, event, "Monitor" if data.severity == "high" else "Prepare", "Immediate",
                          SEVERITY.get(data.severity, "Severe"), "Observed")
        for tag, text in (("effective", cap_time(data.sent)), ("senderName", SENDER_NAME[lang]),
                          ("headline", f"{event}: {place}" if place else event),
                          ("description", data.description or None), ("instruction", INCIDENT_INSTRUCTION[lang])):
            if text is not None:
                _sub(info, tag, text)
        _area(info, place, polygons, circle, None)
    return _serialise(alert)
