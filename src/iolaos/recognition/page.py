"""Printable contribution statements: one self-contained HTML page, Greek or English, times in Europe/Athens."""

from __future__ import annotations

from collections.abc import Set
from datetime import date, datetime
from html import escape
from zoneinfo import ZoneInfo

from iolaos import i18n
from iolaos.recognition.schemas import ConfirmedSighting, OrganisationStatement, Totals, VolunteerStatement

ATHENS = ZoneInfo("Europe/Athens")

WORD_KEYS = ("volunteer_title", "organisation_title", "volunteer", "organisation", "period", "from_start", "to",
             "hours", "patrols", "high_risk_days", "reported", "confirmed", "summary", "patrol_list", "people",
             "sightings", "day", "patrol", "risk", "checked_out", "name", "incident", "kind", "reported_at",
             "confirmed_at", "status", "none", "own_line", "source", "generated", "print")


def _words(lang: str) -> dict[str, str]:
    """The statement's texts, from the message catalogue (src/iolaos/i18n, keys recognition.*)."""
    return {key: i18n.t(f"recognition.{key}", lang) for key in WORD_KEYS}


STYLE = """
body{font-family:"DejaVu Sans",Arial,sans-serif;color:#111;margin:2rem auto;max-width:46rem;line-height:1.4}
h1{font-size:1.4rem;margin:0 0 .3rem}h2{font-size:1.05rem;margin:1.4rem 0 .4rem;border-bottom:1px solid #999}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border:1px solid #bbb;padding:.25rem .45rem;
text-align:left;vertical-align:top}td.n{text-align:right}.meta{margin:.1rem 0}.note,.source{font-size:.8rem;
color:#444}button{margin-top:1rem}@page{size:A4;margin:18mm}@media print{button{display:none}body{margin:0}}
"""


def _at(value: datetime | None) -> str:
    return value.astimezone(ATHENS).strftime("%d/%m/%Y %H:%M") if value is not None else ""


def _day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value is not None else ""


def _num(value: float, lang: str) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".") if value else "0"
    return text.replace(".", ",") if lang == "el" else text


def _table(headers: list[str], rows: list[list[str]], numeric: Set[int] = frozenset(), empty: str = "") -> str:
    if not rows:
        return f"<p class='note'>{escape(empty)}</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    head = f"<thead><tr>{head}</tr></thead>" if any(headers) else ""
    body = "".join("<tr>" + "".join(f"<td{' class=n' if i in numeric else ''}>{escape(c)}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table>{head}<tbody>{body}</tbody></table>"


def _summary(t: Totals, w: dict[str, str], lang: str) -> str:
    days = ", ".join(_day(d) for d in t.high_risk_dates)
    rows = [[w["hours"], _num(t.hours_on_patrol, lang)], [w["patrols"], str(t.patrols)],
            [w["high_risk_days"], f"{t.high_risk_days}" + (f" ({days})" if days else "")],
            [w["reported"], str(t.sightings_reported)], [w["confirmed"], str(t.sightings_confirmed)]]
    return f"<h2>{escape(w['summary'])}</h2>" + _table(["", ""], rows, {1})


def _sightings(items: list[ConfirmedSighting], w: dict[str, str], lang: int) -> str:
    code = "el" if lang == 0 else "en"
    rows = [[f"#{s.incident_id}", i18n.label("incident_kind", s.kind or "", code), _at(s.reported_at),
             i18n.label("incident_status", s.confirmed_status, code), _at(s.confirmed_at)] for s in items]
    return f"<h2>{escape(w['sightings'])}</h2>" + _table(
        [w["incident"], w["kind"], w["reported_at"], w["status"], w["confirmed_at"]], rows, empty=w["none"])


def _page(title: str, lang: str, meta: list[tuple[str, str]], sections: list[str], w: dict[str, str],
          source: str) -> str:
    lines = "".join(f"<p class='meta'><strong>{escape(k)}:</strong> {escape(v)}</p>" for k, v in meta)
    return (f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{lines}{''.join(sections)}"
            f"<p class='source'>{escape(source)}</p>"
            f"<button type='button' onclick='window.print()'>{escape(w['print'])}</button></body></html>")


def _period(since: datetime | None, until: datetime, w: dict[str, str]) -> str:
    return f"{_at(since) if since else w['from_start']} {w['to']} {_at(until)}"


def volunteer_page(statement: VolunteerStatement, lang: str) -> str:
    """A volunteer's statement as a printable page."""
    w, i = _words(lang), 0 if lang == "el" else 1
    org = statement.organisation_name_el if lang == "el" else statement.organisation_name_en
    patrols = [[_day(p.shift_date), f"#{p.patrol_id}", str(p.risk_category or "–"), _num(p.hours, lang),
                _at(p.checked_out_at)] for p in statement.patrols]
    sections = [_summary(statement.totals, w, lang), f"<h2>{escape(w['patrol_list'])}</h2>" + _table(
        [w["day"], w["patrol"], w["risk"], w["hours"], w["checked_out"]], patrols, {3}, w["none"]),
        _sightings(statement.sightings, w, i)]
    meta = [(w["volunteer"], statement.volunteer_name), (w["organisation"], org),
            (w["period"], _period(statement.since, statement.until, w)), (w["generated"], _at(statement.generated_at))]
    source = w["source"].format(seq=statement.source.journal_seq, hash=statement.source.journal_hash[:12],
                                used=statement.source.records_used)
    return _page(w["volunteer_title"], lang, meta, sections, w, source)


def organisation_page(statement: OrganisationStatement, lang: str) -> str:
    """An organisation's statement as a printable page."""
    w, i = _words(lang), 0 if lang == "el" else 1
    org = statement.organisation_name_el if lang == "el" else statement.organisation_name_en
    people = [[v.volunteer_name, _num(v.hours_on_patrol, lang), str(v.patrols), str(v.high_risk_days),
               str(v.sightings_confirmed)] for v in statement.volunteers]
    table = _table([w["name"], w["hours"], w["patrols"], w["high_risk_days"], w["confirmed"]], people,
                   {1, 2, 3, 4}, w["none"])
    note = f"<p class='note'>{escape(w['own_line'])}</p>" if statement.only_own_line else ""
    sections = [_summary(statement.totals, w, lang), f"<h2>{escape(w['people'])}</h2>{note}{table}",
                _sightings(statement.sightings, w, i)]
    meta = [(w["organisation"], org), (w["period"], _period(statement.since, statement.until, w)),
            (w["generated"], _at(statement.generated_at))]
    source = w["source"].format(seq=statement.source.journal_seq, hash=statement.source.journal_hash[:12],
                                used=statement.source.records_used)
    return _page(w["organisation_title"], lang, meta, sections, w, source)
