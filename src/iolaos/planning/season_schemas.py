"""Wire shapes of the season report: totals, municipalities with equity, the zone × day heatmap, the baseline."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class HoursOut(BaseModel):
    """Person-hours over a period (weighted: × the category's risk weight)."""

    need_hours: float
    weighted_need: float
    planned_hours: float
    staffed_hours: float
    patrolled_hours: float
    shortfall_hours: float = Field(description="need hours not staffed")
    weighted_shortfall: float


class MunicipalityOut(HoursOut):
    """A municipality's season (its sectors rolled up into it)."""

    code: str
    name_el: str
    name_en: str
    region_code: str | None
    category: int | None = Field(description="the highest category of the period")
    days: int = Field(description="days with crew places required")
    ratio: float = Field(description="staffed / need hours, at most 1")
    share: float = Field(description="share of the area's risk-weighted shortfall")


class HeatZone(BaseModel):
    """A row of the heatmap."""

    code: str
    name_el: str
    name_en: str
    region_code: str | None


class HeatmapOut(BaseModel):
    """Zone × day: the share of need hours not staffed (null: nothing required) and the category."""

    days: list[date]
    zones: list[HeatZone]
    unmet: list[list[float | None]] = Field(description="per zone row, per day: 0 covered … 1 nothing staffed")
    category: list[list[int | None]]
    source: list[str] = Field(description="per zone row, one character per day: o the zone's own category, "
                              "i inherited from an ancestor, . none")


class SeasonOut(BaseModel):
    """A season (or any range up to one) at a glance."""

    start: date
    end: date
    region_code: str | None
    totals: HoursOut
    zone_days: int = Field(description="zone-days with crew places required")
    gini: float = Field(description="Gini coefficient of the risk-weighted shortfall over municipalities with need "
                        "(0: spread evenly; towards 1: concentrated in few)")
    lorenz: list[tuple[float, float]] = Field(description="(share of municipalities, share of shortfall), ascending")
    worst: list[MunicipalityOut] = Field(description="the worst-served municipalities, most shortfall first")
    municipalities: list[MunicipalityOut]
    heatmap: HeatmapOut
    seconds: float


class BaselineDay(BaseModel):
    """One day's under-covered high-risk zones re-planned by the planner and by the greedy baseline."""

    date: date
    zone_codes: list[str]
    places: int = Field(description="open crew places in those zones")
    planner_filled: int
    greedy_filled: int
    planner_coverage: int = Field(description="risk-weighted filled places")
    greedy_coverage: int


class BaselineOut(BaseModel):
    """The planner against the greedy baseline on under-covered high-risk zone-days (nothing is written)."""

    start: date
    end: date
    region_code: str | None
    days: list[BaselineDay]
    days_not_compared: int = Field(description="days with such zone-days beyond IOLAOS_COVERAGE_BASELINE_DAYS")
    places: int
    planner_filled: int
    greedy_filled: int
    planner_coverage: int
    greedy_coverage: int
