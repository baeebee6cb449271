"""Rendering an activity log as a PDF (ReportLab, with a font that has Greek glyphs)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from iolaos.errors import ServiceUnavailable

FONT = "IolaosSans"
LABELS = {
    "el": {"title": "ICS 214 — Ημερολόγιο δραστηριοτήτων", "unit": "Μονάδα", "period": "Επιχειρησιακή περίοδος",
           "personnel": "Προσωπικό", "log": "Αξιοσημείωτες δραστηριότητες", "time": "Ώρα", "who": "Ποιος",
           "what": "Δραστηριότητα", "prepared": "Συντάχθηκε από", "none": "Καμία δραστηριότητα"},
    "en": {"title": "ICS 214 — Activity Log", "unit": "Unit", "period": "Operational period",
           "personnel": "Personnel", "log": "Notable activities", "time": "Time", "who": "Who",
           "what": "Activity", "prepared": "Prepared by", "none": "No activity"},
}


def _register_font(path: Path) -> None:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    if not path.exists():
        raise ServiceUnavailable(f"PDF font {path} is missing (install fonts-dejavu-core or set IOLAOS_PDF_FONT)",
                                 code="pdf_font_missing")
    pdfmetrics.registerFont(TTFont(FONT, str(path)))


def render_activity_log(log: dict[str, Any], font_path: Path) -> bytes:
    """The activity log as an A4 PDF."""
    _register_font(font_path)
    words = LABELS[log["language"]]
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=11)
    title = ParagraphStyle("title", parent=body, fontSize=15, leading=19, spaceAfter=6)
    heading = ParagraphStyle("heading", parent=body, fontSize=11, leading=14, spaceBefore=8, spaceAfter=4)

    def para(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(str(text)), style)

    period = log["operational_period"]
    story: list[Any] = [
        para(words["title"], title),
        para(f"{words['unit']}: {log['unit']['name']}"),
        para(f"{words['period']}: {period['from']} — {period['to']} (Europe/Athens)"),
        para(words["personnel"], heading),
        _table([[para(p["name"]), para(p["role"])] for p in log["personnel"]] or [[para("—"), para("")]],
               [110 * mm, 60 * mm]),
        para(words["log"], heading),
    ]
    rows = [[para(words["time"]), para(words["who"]), para(words["what"])]]
    rows += [[para(a["at"].replace("T", " ")), para(a["who"]), para(a["activity"])] for a in log["activities"]]
    if len(rows) == 1:
        rows.append([para(""), para(""), para(words["none"])])
    story.append(_table(rows, [32 * mm, 45 * mm, 103 * mm], header=True))
    prepared = log["prepared_by"]
    story += [Spacer(1, 6 * mm), para(f"{words['prepared']}: {prepared['name']} ({prepared['role']})")]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                      bottomMargin=15 * mm, title=words["title"]).build(story)
    return out.getvalue()


def _table(rows: list[list[Any]], widths: list[float], header: bool = False) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [("GRID", (0, 0), (-1, -1), 0.3, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")))
    table.setStyle(TableStyle(style))
    return table
