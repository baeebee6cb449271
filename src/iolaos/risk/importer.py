"""Read and check risk-level lines (file or API batch): every bad line is listed, nothing is stored."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from iolaos.errors import InvalidInput
from iolaos.kit.strict import check_day

FIELDS = {"zone_code": ("zone_code", "zone", "code"), "date": ("date", "day"), "category": ("category", "level")}


@dataclass(frozen=True)
class Line:
    """One line as read, before checking."""

    number: int
    zone_code: str
    date: str
    category: Any
    note: str | None = None


@dataclass(frozen=True)
class Checked:
    """One line that passed every check."""

    number: int
    zone_id: int
    zone_code: str
    day: date
    category: int
    note: str | None


def read_file(path: Path) -> list[Line]:
    """Lines of a CSV (header: zone_code,date,category), JSON (list, or {"levels": […]}) or GeoJSON file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {path.name}: {exc}", code="unreadable_file") from exc
    if path.suffix.lower() == ".json" or text.lstrip().startswith(("[", "{")):
        return _json_lines(text)
    return _csv_lines(text)


def _pick(row: dict[str, Any], name: str) -> Any:
    for alias in FIELDS[name]:
        if alias in row and row[alias] not in (None, ""):
            return row[alias]
    return None


def _csv_lines(text: str) -> list[Line]:
    reader = csv.DictReader(io.StringIO(text))
    header = {h.strip().lower() for h in reader.fieldnames or []}
    missing = [name for name, aliases in FIELDS.items() if not header & set(aliases)]
    if missing:
        raise InvalidInput({"message": "the header must name zone_code, date and category", "missing": missing},
                           code="invalid_risk_file")
    lines = []
    for row in reader:
        clean = {(k or "").strip().lower(): (v or "").strip() if isinstance(v, str) else v for k, v in row.items()}
        lines.append(Line(reader.line_num, str(_pick(clean, "zone_code") or ""), str(_pick(clean, "date") or ""),
                          _pick(clean, "category"), clean.get("note") or None))
    return lines


def _json_lines(text: str) -> list[Line]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"not valid JSON: {exc}", code="invalid_risk_file") from exc
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        # A GeoJSON risk map: one feature per zone, the attributes in its properties (geometry is not needed).
        features = data.get("features")
        items = [(f.get("properties") or {}) if isinstance(f, dict) else {} for f in features] \
            if isinstance(features, list) else None
    else:
        items = data.get("levels") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise InvalidInput("expected a list of {zone_code, date, category} objects", code="invalid_risk_file")
    lines = []
    for number, item in enumerate(items, start=1):
        row = item if isinstance(item, dict) else {}
        lines.append(Line(number, str(_pick(row, "zone_code") or ""), str(_pick(row, "date") or ""),
                          _pick(row, "category"), row.get("note")))
    return lines


def check(lines: list[Line], zone_ids: dict[str, int], *, unit: str = "line") -> list[Checked]:
    """Every line checked; raises 422 listing each bad one (unknown zone, category outside 1–5, bad date)."""
    if not lines:
        raise InvalidInput("no risk levels given", code="invalid_risk_file")
    good: list[Checked] = []
    bad: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}  # (zone code, date) → the first line that gave it
    for line in lines:
        problems = _problems(line, zone_ids)
        key = (line.zone_code, line.date)
        if not problems and key in seen:
            problems.append(f"same zone and date as {unit} {seen[key]}")
        seen.setdefault(key, line.number)
        if problems:
            bad.append({unit: line.number, "zone_code": line.zone_code, "date": line.date,
                        "category": line.category, "problems": problems})
        else:
            good.append(Checked(line.number, zone_ids[line.zone_code], line.zone_code,
                                date.fromisoformat(line.date), int(line.category), line.note))
    if bad:
        raise InvalidInput({"message": f"{len(bad)} of {len(lines)} {unit}s are invalid; nothing was stored",
                            "errors": bad}, code="invalid_risk_levels")
    return good


def _problems(line: Line, zone_ids: dict[str, int]) -> list[str]:
    problems = []
    if line.zone_code not in zone_ids:
        problems.append(f"unknown zone code {line.zone_code!r}" if line.zone_code else "no zone code")
    try:
        day = date.fromisoformat(line.date)
        if len(line.date) != 10:
            raise ValueError
    except ValueError:
        problems.append(f"bad date {line.date!r} (expected YYYY-MM-DD)")
    else:
        try:
            check_day(day)
        except ValueError as exc:  # years 1 and 9999 parse, but no fire season lies there
            problems.append(f"date {line.date}: {exc}")
    category = line.category
    if isinstance(category, str) and category.strip().lstrip("-").isdigit():
        category = int(category)
    if isinstance(category, bool) or not isinstance(category, int) or not 1 <= category <= 5:
        problems.append("no category" if line.category in (None, "") else
                        f"category {line.category} is not a whole number from 1 to 5")
    return problems
