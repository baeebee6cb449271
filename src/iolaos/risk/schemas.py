"""Wire shapes of the risk map."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Loose = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]


class LevelIn(BaseModel):
    """One zone's category on one date; checked by the same rules as an imported file line."""

    model_config = ConfigDict(extra="forbid")

    zone_code: Loose
    date: Loose = Field(description="YYYY-MM-DD")
    category: int = Field(ge=-(2**31), le=2**31 - 1, description="1 green … 5 red")
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class LevelsIn(BaseModel):
    """A batch of risk levels: all are stored, or none (every bad item is listed)."""

    model_config = ConfigDict(extra="forbid")

    levels: list[LevelIn] = Field(min_length=1, max_length=5000)


class LevelOut(BaseModel):
    """A zone's published category on a date, with its colour."""

    zone_code: str
    zone_kind: str
    zone_name_el: str
    zone_name_en: str
    date: date
    category: int
    label_en: str
    label_el: str
    colour: str
    hex: str
    source: str
    issued_at: datetime
    inherited: bool = Field(default=False, description="true: the category is an ancestor zone's (e.g. the "
                            "region's), the zone has no entry of its own that day")
    from_zone_code: str | None = Field(default=None, description="the zone whose entry this is (the zone itself "
                                       "unless inherited)")


class ChangeOut(BaseModel):
    """What a batch changed."""

    created: int = Field(description="new rows (changed categories)")
    unchanged: int = Field(description="items equal to the category already in force")
    levels: list[LevelOut]
