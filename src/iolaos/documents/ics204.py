"""ICS-204-style assignment list: the patrols of an operational period, with crews, zones and times."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
from sqlmodel import Session

from iolaos.auth.principal import Principal
from iolaos.planning import workflow
from iolaos.review.pdf import FONT, _register_font, _table

ATHENS = ZoneInfo("Europe/Athens")
MAX_PATROLS = 500
WORDS = {
    "el": {"title": "ICS 204 — Κατάσταση αναθέσεων", "period": "Επιχειρησιακή περίοδος", "zone": "Περιοχή",
           "shift": "Βάρδια", "status": "Κατάσταση", "crew": "Πλήρωμα", "risk": "Κίνδυνος", "none": "Καμία περιπολία",
           "prepared": "Συντάχθηκε από", "open": "κενές θέσεις"},
    "en": {"title": "ICS 204 — Assignment List", "period": "Operational period", "zone": "Zone", "shift": "Shift",
           "status": "Status", "crew": "Crew", "risk": "Risk", "none": "No patrols", "prepared": "Prepared by",
           "open": "open places"},
}


def assignment_list(session: Session, principal: Principal, *, day: date, lang: str) -> dict[str, Any]:
    """The day's patrols the caller may see, as ICS-204 rows (times in Europe/Athens)."""
    patrols = workflow.list_visible(session, principal, day=day, status=None, limit=MAX_PATROLS, offset=0)
    rows = []
    for out in workflow.to_out(session, principal, patrols):
        crew = [f"{c.volunteer_name or c.volunteer_id} ({c.status})" for c in out.crew
                if c.status not in ("declined", "cancelled")]
        rows.append({
            "patrol_id": out.patrol_id, "zone": out.zone_name_el if lang == "el" else out.zone_name_en,
            "zone_code": out.zone_code, "risk_category": out.risk_category, "status": out.status,
            "shift": f"{_hm(out.shift_start)}–{_hm(out.shift_end)}", "crew": crew,
            "open_places": len(out.open_places),
        })
    return {"form": "ICS 204", "operational_period": day.isoformat(), "language": lang, "assignments": rows,
            "prepared_by": {"name": principal.full_name, "role": principal.role}}


def _hm(moment) -> str:
    return moment.astimezone(ATHENS).strftime("%d/%m %H:%M")


def render(doc: dict[str, Any], font_path: Path) -> bytes:
    """The assignment list as a landscape A4 PDF."""
    _register_font(font_path)
    words = WORDS[doc["language"]]
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=11)
    title = ParagraphStyle("title", parent=body, fontSize=15, leading=19, spaceAfter=6)

    def para(text: Any, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(str(text)), style)

    header = [para(words[k]) for k in ("zone", "shift", "risk", "status", "crew")]
    rows = [header] + [[para(f"{a['zone']} ({a['zone_code']})"), para(a["shift"]), para(a["risk_category"] or "–"),
                        para(a["status"]),
                        para(", ".join(a["crew"]) + (f" — {a['open_places']} {words['open']}"
                                                      if a["open_places"] else ""))]
                       for a in doc["assignments"]]
    if len(rows) == 1:
        rows.append([para(words["none"]), para(""), para(""), para(""), para("")])
    prepared = doc["prepared_by"]
    story = [para(words["title"], title), para(f"{words['period']}: {doc['operational_period']} (Europe/Athens)"),
             Spacer(1, 4 * mm), _table(rows, [70 * mm, 38 * mm, 18 * mm, 25 * mm, 116 * mm], header=True),
             Spacer(1, 6 * mm), para(f"{words['prepared']}: {prepared['name']} ({prepared['role']})")]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
                      bottomMargin=12 * mm, title=words["title"]).build(story)
    return out.getvalue()
