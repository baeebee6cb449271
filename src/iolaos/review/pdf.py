"""The ICS-214 activity log as a PDF (FEMA's blocks 1–8), laid out by the shared form layout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Spacer

from iolaos import i18n
from iolaos.documents import layout


def render_activity_log(log: dict[str, Any], font_path: Path) -> bytes:
    """The activity log as an A4 PDF with page X of Y and a signature block."""
    layout.register_fonts(font_path)
    lang, width = log["language"], A4[0] - 24 * mm
    t = lambda key, **kw: i18n.t(key, lang, **kw)  # noqa: E731
    g, p = layout.grid, layout.para
    period = log["operational_period"]
    head = g([[p(t("doc.ics214.title"), layout.TITLE), layout.field(t("doc.incident_name"), log["incident_name"]),
               layout.field(t("doc.op_period"), t("doc.period_value", start=period["from"], end=period["to"]))]],
             [width * 0.3, width * 0.3, width * 0.4])
    who = g([[layout.field(t("doc.name"), log["name"]), layout.field(t("doc.ics_position"), log["ics_position"]),
              layout.field(t("doc.home_agency"), log["home_agency"])]], [width * 0.35, width * 0.25, width * 0.4])
    people = [[p(x["name"]), p(x["position"]), p(x["agency"])] for x in log["personnel"]] or [[p("—"), p(""), p("")]]
    resources = g([[t("doc.col.name"), t("doc.col.position"), t("doc.col.agency")], *people],
                  [width * 0.35, width * 0.25, width * 0.4], header=True, title=t("doc.resources_assigned"))
    rows = [[p(a["at"], layout.SMALL), p(a["who"], layout.SMALL), p(a["activity"], layout.SMALL)]
            for a in log["activities"]] or [[p(""), p(""), p(t("doc.none_activity"))]]
    activities = g([[t("doc.col.time"), t("doc.col.name"), t("doc.col.activity")], *rows],
                   [width * 0.15, width * 0.25, width * 0.6], header=True, title=t("doc.activity_log"))
    gap = Spacer(1, 2 * mm)
    story = [head, who, gap, resources, gap, activities, gap, CondPageBreak(25 * mm),
             layout.signature(lang, log["prepared_by"], width)]
    return layout.build(story, pagesize=A4, title=t("doc.ics214.title"), form="ICS 214", lang=lang)

