"""One CSV writer for every export: cells that a spreadsheet would run as formulas are neutralised.

A cell beginning with ``=``, ``+``, ``-``, ``@``, tab or carriage return is read as a formula by Excel and
LibreOffice (OWASP "CSV injection"): an incident description ``=HYPERLINK(...)`` would become a live link in
the reviewer's spreadsheet. Such cells get a leading apostrophe, which spreadsheets show as text. Numbers
are left as they are (a negative longitude is a number, not a formula).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value``, with a leading apostrophe when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        return "'" + value
    return value


def lines(header: list[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """CSV text, header first, one chunk per row, every cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in _chain(header, rows):
        writer.writerow([safe_cell(cell) for cell in row])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        yield text


def _chain(header: list[str], rows: Iterable[Iterable[Any]]) -> Iterator[Iterable[Any]]:
    yield header
    yield from rows
