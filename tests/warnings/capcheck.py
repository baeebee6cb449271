"""Outside checks of a CAP message: the OASIS XSD (xmlschema) and an independent parser from PyPI (cap-tools).

cap-tools (xsdata bindings generated from the CAP 1.2 schema) reads the message back; the fields it sees must
equal what we meant to send. capparselib was tried first: its metadata pins lxml==4.6.3, which has no wheel for
Python 3.11, so `pip install` of it fails (docs/warnings.md).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import xmlschema
from cap_tools import Alert
from xsdata.formats.dataclass.parsers import XmlParser

XSD = Path(__file__).resolve().parents[3] / "shared" / "schemas" / "cap-1.2" / "CAP-v1.2.xsd"


@cache
def schema() -> xmlschema.XMLSchema:
    """The OASIS CAP 1.2 schema, loaded once."""
    return xmlschema.XMLSchema(str(XSD))


def read(xml: str) -> Alert:
    """Validate against the XSD, then parse with cap-tools."""
    schema().validate(xml)
    return XmlParser().from_string(xml, Alert)


def polygon_pairs(text: str) -> list[tuple[float, float]]:
    """A CAP polygon's ``lat,lon`` pairs."""
    return [tuple(map(float, p.split(","))) for p in text.split(" ")]  # type: ignore[misc]


def geocodes(area) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """An area's geocodes as (valueName, value) text pairs."""
    return [(g.value_name.value, g.value.value) for g in area.geocodes]
