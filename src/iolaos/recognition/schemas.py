"""Wire shapes of contribution statements (built only from the audit journal)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class PatrolService(BaseModel):
    """One check-out from a patrol, as journalled (``patrol.check_out``)."""

    seq: int = Field(description="the audit record it comes from")
    checked_out_at: datetime
    patrol_id: int
    shift_date: date | None = Field(description="the patrol's day (Europe/Athens)")
    risk_category: int | None
    high_risk: bool = Field(description="risk category 4 or 5")
    hours: float


class ConfirmedSighting(BaseModel):
    """An incident reported by the volunteer (or the organisation) that the Fire Service confirmed."""

    incident_id: int
    kind: str | None
    reported_at: datetime
    report_seq: int
    reported_by_user_id: int | None
    confirmed_at: datetime
    confirmation_seq: int
    confirmed_status: str = Field(description="acknowledged, dispatched, contained or resolved")
    confirmed_by_organisation_id: int


class Totals(BaseModel):
    """What the statement adds up."""

    hours_on_patrol: float
    patrols: int = Field(description="distinct patrols checked out of")
    high_risk_days: int = Field(description="distinct patrol days at risk category 4 or more")
    high_risk_dates: list[date]
    sightings_reported: int
    sightings_confirmed: int = Field(description="confirmed by the Fire Service")


class Source(BaseModel):
    """Where the figures come from: the journal up to this record."""

    journal_seq: int
    journal_hash: str
    records_used: int


class VolunteerStatement(BaseModel):
    """One volunteer's contribution over a period."""

    volunteer_id: int
    volunteer_name: str
    organisation_id: int
    organisation_name_el: str
    organisation_name_en: str
    since: datetime | None
    until: datetime
    totals: Totals
    patrols: list[PatrolService]
    sightings: list[ConfirmedSighting]
    source: Source
    generated_at: datetime


class VolunteerLine(BaseModel):
    """One volunteer's figures in an organisation's statement."""

    volunteer_id: int
    volunteer_name: str
    hours_on_patrol: float
    patrols: int
    high_risk_days: int
    sightings_reported: int
    sightings_confirmed: int


class OrganisationStatement(BaseModel):
    """An organisation's contribution over a period: totals and one line per contributing volunteer."""

    organisation_id: int
    organisation_kind: str
    organisation_name_el: str
    organisation_name_en: str
    since: datetime | None
    until: datetime
    totals: Totals
    volunteers: list[VolunteerLine]
    only_own_line: bool = Field(description="true when the caller may see only their own line (volunteers)")
    sightings: list[ConfirmedSighting]
    source: Source
    generated_at: datetime
