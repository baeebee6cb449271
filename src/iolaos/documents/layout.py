"""Shared layout of the ICS forms: numbered blocks as on FEMA's forms, a signature block, "page X of Y".

ReportLab with DejaVu Sans (Greek glyphs). Texts come from the message catalogue; this module only lays out.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Table, TableStyle

from iolaos import i18n
from iolaos.errors import ServiceUnavailable

FONT, BOLD = "IolaosSans", "IolaosSans-Bold"
GREY = colors.HexColor("#e6e6e6")


def register_fonts(path: Path) -> None:
    """The regular font (a setting) and its bold face beside it when present (else regular again)."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    if not path.exists():
        raise ServiceUnavailable(f"PDF font {path} is missing (install fonts-dejavu-core or set IOLAOS_PDF_FONT)",
                                 code="pdf_font_missing")
    pdfmetrics.registerFont(TTFont(FONT, str(path)))
    bold = path.with_name(path.stem + "-Bold" + path.suffix)
    pdfmetrics.registerFont(TTFont(BOLD, str(bold if bold.exists() else path)))


BODY = ParagraphStyle("body", fontName=FONT, fontSize=8.5, leading=10.5)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=7.5, leading=9)
LABEL = ParagraphStyle("label", parent=BODY, fontName=BOLD, fontSize=7.5, leading=9)
TITLE = ParagraphStyle("title", parent=BODY, fontName=BOLD, fontSize=11.5, leading=14)


def para(text: Any, style: ParagraphStyle = BODY) -> Paragraph:
    """Escaped text as a paragraph (line breaks kept)."""
    return Paragraph(escape("" if text is None else str(text)).replace("\n", "<br/>"), style)


def field(label: str, value: Any) -> list[Paragraph]:
    """A labelled cell: the block's label above its value, as on the paper form."""
    return [para(label, LABEL), para(value)]


def grid(rows: Sequence[Sequence[Any]], widths: Sequence[float], *, header: bool = False,
         title: str | None = None) -> Table:
    """A ruled table; ``title`` adds a grey block heading across it, ``header`` a grey first row that repeats."""
    data = [list(r) for r in rows]
    style = [("GRID", (0, 0), (-1, -1), 0.4, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP"),
             ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
             ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]
    repeat = 0
    if title is not None:
        data.insert(0, [para(title, LABEL)] + [""] * (len(widths) - 1))
        style += [("SPAN", (0, 0), (-1, 0)), ("BACKGROUND", (0, 0), (-1, 0), GREY)]
        repeat = 1
    if header:
        row = 1 if title is not None else 0
        data[row] = [para(c, LABEL) if isinstance(c, str) else c for c in data[row]]
        style.append(("BACKGROUND", (0, row), (-1, row), colors.HexColor("#f4f4f4")))
        repeat = row + 1
    table = Table(data, colWidths=list(widths), repeatRows=repeat)
    table.setStyle(TableStyle(style))
    return table


def signature(lang: str, prepared: dict[str, Any], width: float) -> KeepTogether:
    """Prepared by (name, ICS position, agency), date/time, and an empty signature line."""
    who = i18n.t("doc.prepared_line", lang, name=prepared["name"], position=prepared["position"],
                 agency=prepared["agency"])
    third = width / 3
    rows = [[field(i18n.t("doc.prepared", lang), who), field(i18n.t("doc.prepared_at", lang), prepared["at"]),
             field(i18n.t("doc.signature", lang), "\n\n")]]
    return KeepTogether([grid(rows, [third * 1.3, third * 0.7, third])])


def numbered_canvas(form: str, lang: str) -> Callable[..., Canvas]:
    """A canvas class that prints "<form> · page X of Y" at the foot of every page (two passes)."""

    class Numbered(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._saved: list[dict[str, Any]] = []

        def showPage(self) -> None:  # ReportLab names it so
            self._saved.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._saved)
            for number, state in enumerate(self._saved, start=1):
                self.__dict__.update(state)
                width, _ = self._pagesize
                self.setFont(FONT, 7.5)
                self.drawString(12 * mm, 7 * mm, f"{form} · IOLAOS")
                self.drawRightString(width - 12 * mm, 7 * mm,
                                     i18n.t("doc.page", lang, page=number, pages=total))
                super().showPage()
            super().save()

    return Numbered


def build(story: list[Any], *, pagesize: tuple[float, float], title: str, form: str, lang: str) -> bytes:
    """The story as a PDF with the form's footer on every page."""
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=pagesize, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=11 * mm,
                            bottomMargin=14 * mm, title=title, author="IOLAOS")
    doc.build(story, canvasmaker=numbered_canvas(form, lang))
    return out.getvalue()
