"""ICS-204 assignment lists render as PDFs that carry the zone names, crews and times."""

from __future__ import annotations

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pypdf
from sqlalchemy import select

from iolaos.db import session_scope
from iolaos.kit.time import utcnow
from iolaos.organisations.models import Organisation
from iolaos.patrols.models import Assignment, Patrol
from iolaos.volunteers.models import Volunteer
from iolaos.zones.models import Zone


def _patrol(engine):
    start = (utcnow() + timedelta(days=1)).replace(hour=5, minute=0, second=0, microsecond=0)
    with session_scope(engine) as session:
        org = session.scalar(select(Organisation).where(Organisation.name_en == "Limni Evia Forest Volunteers"))
        zone = session.scalar(select(Zone).where(Zone.code == "9153"))
        people = list(session.scalars(select(Volunteer).where(Volunteer.organisation_id == org.id)
                                      .order_by(Volunteer.id).limit(2)))
        patrol = Patrol(zone_id=zone.id, organisation_id=org.id, shift_start=start,
                        shift_end=start + timedelta(hours=8), crew_size=2, risk_category=4)
        session.add(patrol)
        session.flush()
        session.add_all([Assignment(patrol_id=patrol.id, volunteer_id=v.id, status="accepted") for v in people])
        return start, [v.full_name for v in people]


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_ics204_pdf_lists_the_days_patrols(client, engine, sign_in):
    start, names = _patrol(engine)
    headers = sign_in(client, "dispatcher.sterea")
    day = start.astimezone(ZoneInfo("Europe/Athens")).date().isoformat()
    doc = client.get("/api/v1/documents/ics204", headers=headers, params={"day": day}).json()
    assert len(doc["sheets"]) == 1 and len(doc["sheets"][0]["resources"]) == 1  # one division, one period
    sheet = doc["sheets"][0]
    assert sheet["division"] == "Δήμος Μαντουδίου - Λίμνης - Αγίας Άννας (9153)"
    assert sheet["communications"][0]["channel"].startswith("VHF")  # the organisation's radio channels
    greek = client.get("/api/v1/documents/ics204.pdf", headers=headers, params={"day": day, "lang": "el"})
    assert greek.status_code == 200 and greek.content.startswith(b"%PDF")
    text = _text(greek.content)
    assert "Φύλλο αναθέσεων" in " ".join(text.split()) and "Δήμος Μαντουδίου" in text
    assert all(name in text for name in names)
    assert start.astimezone(ZoneInfo("Europe/Athens")).strftime("%H:%M") in text
    english = _text(client.get("/api/v1/documents/ics204.pdf", headers=headers,
                               params={"day": day, "lang": "en"}).content)
    assert "Assignment List" in " ".join(english.split())


def test_ics204_shows_nothing_outside_scope(client, engine, sign_in):
    start, _ = _patrol(engine)
    day = start.astimezone(ZoneInfo("Europe/Athens")).date().isoformat()
    doc = client.get("/api/v1/documents/ics204", headers=sign_in(client, "dispatcher.attica"),
                     params={"day": day}).json()
    assert doc["sheets"] == []
    assert client.get("/api/v1/documents/ics204.pdf", params={"day": day}).status_code == 401
    assert client.get("/api/v1/documents/ics204", headers=sign_in(client, "dispatcher.attica"),
                      params={"day": "not-a-date"}).status_code == 422
