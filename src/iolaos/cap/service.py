"""Which zones and incidents call for a public warning, as CAP messages and an Atom feed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlmodel import Session

from iolaos.cap import message
from iolaos.errors import NotFound
from iolaos.incidents.models import Incident
from iolaos.kit.time import utcnow
from iolaos.risk import service as risk
from iolaos.zones import service as zones
from iolaos.zones.models import Zone

WARNING_KINDS = ("wildfire", "smoke")
WARNING_SEVERITIES = ("high", "critical")
OVER = ("resolved", "closed")
ALERT_CATEGORIES = (4, 5)


@dataclass(frozen=True)
class Entry:
    """One feed entry: a CAP message and what the feed says about it."""

    identifier: str
    title_el: str
    title_en: str
    updated: str
    path: str
    xml: str


def calls_for_warning(incident: Incident) -> bool:
    """Open wildfires and smoke of high or critical severity are public warnings; nothing else is."""
    return incident.kind in WARNING_KINDS and incident.severity in WARNING_SEVERITIES and incident.status not in OVER


def _risk_data(zone: Zone, category: int, day: date, issued_at: object) -> message.RiskAlert:
    sent = issued_at if issued_at is not None else utcnow()
    return message.RiskAlert(zone.code, zone.name_el, zone.name_en, zone.geom, category, day, sent)  # type: ignore[arg-type]


def risk_alert(session: Session, code: str, day: date) -> str:
    """The CAP message for one zone on a day; 404 unless its category in force is 4 or 5."""
    zone = zones.get_zone(session, code)
    category = risk.effective(session, day).get(zone.id)
    if category not in ALERT_CATEGORIES:
        raise NotFound(f"no fire-risk warning for zone {code!r} on {day.isoformat()}", code="no_warning")
    tree = risk.zone_tree(session)
    own = risk.levels_on(session, day)
    issued = next((own[z].issued_at for z in [zone.id, *tree.ancestors(zone.id)] if z in own), None)
    return message.risk_message(_risk_data(zone, category, day, issued))


def _place(session: Session, incident: Incident) -> tuple[str, str]:
    zone = session.get(Zone, incident.zone_id) if incident.zone_id is not None else None
    return (zone.name_el, zone.name_en) if zone is not None else ("", "")


def _incident_data(session: Session, incident: Incident) -> message.IncidentAlert:
    place_el, place_en = _place(session, incident)
    return message.IncidentAlert(incident.id or 0, incident.kind, incident.severity, incident.point,  # type: ignore[arg-type]
                                 place_el, place_en, incident.updated_at, incident.description)


def incident_alert(session: Session, incident_id: int) -> str:
    """The CAP message of an incident that calls for a public warning; 404 for every other incident."""
    incident = session.get(Incident, incident_id)
    if incident is None or not calls_for_warning(incident):
        raise NotFound("no public warning for this incident", code="no_warning")
    return message.incident_message(_incident_data(session, incident))


def entries(session: Session, day: date) -> list[Entry]:
    """Every current warning: zones whose own category on ``day`` is 4–5, and open public-warning incidents."""
    found = []
    levels = {z: r for z, r in risk.levels_on(session, day).items() if r.category in ALERT_CATEGORIES}
    for zone in session.scalars(select(Zone).where(Zone.id.in_(levels)).order_by(Zone.code)) if levels else []:
        row = levels[zone.id]
        data = _risk_data(zone, row.category, day, row.issued_at)
        event = {lang: message.event_text(f"risk.{row.category}", lang) for lang in message.CAP_LANGUAGES}
        found.append(Entry(message.risk_identifier(data), f"{event['el-GR']}: {zone.name_el}",
                           f"{event['en-US']}: {zone.name_en}", message.cap_time(data.sent),
                           f"risk/{zone.code}?date={day.isoformat()}", message.risk_message(data)))
    query = select(Incident).where(Incident.kind.in_(WARNING_KINDS), Incident.severity.in_(WARNING_SEVERITIES),
                                   Incident.status.not_in(OVER)).order_by(Incident.id)
    for incident in session.scalars(query):
        data = _incident_data(session, incident)
        event = {lang: message.event_text(f"incident.{incident.kind}", lang) for lang in message.CAP_LANGUAGES}
        found.append(Entry(message.incident_identifier(data), f"{event['el-GR']}: {data.place_el}".rstrip(": "),
                           f"{event['en-US']}: {data.place_en}".rstrip(": "), message.cap_time(data.sent),
                           f"incidents/{incident.id}", message.incident_message(data)))
    return found
