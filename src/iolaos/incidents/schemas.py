"""Wire shapes of incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from iolaos.incidents.models import INCIDENT_KINDS, SEVERITIES, STATUSES
from iolaos.volunteers.schemas import Point

Kind = Literal[INCIDENT_KINDS]  # type: ignore[valid-type]
Severity = Literal[SEVERITIES]  # type: ignore[valid-type]
Status = Literal[STATUSES]  # type: ignore[valid-type]


class IncidentCreate(BaseModel):
    """A report: what, where (GeoJSON Point), how bad."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind
    point: Point
    severity: Severity = "medium"
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


class Transition(BaseModel):
    """Move an incident to another status."""

    model_config = ConfigDict(extra="forbid")

    status: Status
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""


class IncidentOut(BaseModel):
    """An incident as served."""

    id: int
    kind: str
    severity: str
    status: str
    description: str
    point: Point
    zone_code: str | None
    zone_name_el: str | None
    region_code: str | None
    lead_organisation_id: int
    lead_organisation_name: str | None = None
    notified_organisation_ids: list[int]
    notified_organisation_names: list[str] = Field(default_factory=list, description="beside the ids, same order")
    reported_by_user_id: int
    reporter_organisation_id: int
    reporter_organisation_name: str | None = None
    allowed_transitions: list[str]
    holder_user_id: int | None = None
    holder_organisation_id: int | None = None
    holder_organisation_name: str | None = Field(default=None, description="organisation names are in the "
                                                 "request's language")
    created_at: datetime
    updated_at: datetime
