"""Wire shapes of field operations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, StringConstraints

from iolaos import i18n
from iolaos.kit.strict import Instant, Latitude, Longitude

Id = Annotated[int, Strict(), Field(ge=1, le=2**31 - 1)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class CrewIn(BaseModel):
    """Crew members to check in or out."""

    model_config = ConfigDict(extra="forbid")

    volunteer_ids: list[Id] = Field(min_length=1, max_length=20)


class StartIn(BaseModel):
    """Optional: a dispatcher starts a patrol short-handed or without a required skill, saying why."""

    model_config = ConfigDict(extra="forbid")

    override_reason: str | None = Field(default=None, min_length=3, max_length=500,
                                        description="journalled with the rules it overrides (docs/patrols.md)")


class FieldStatusIn(BaseModel):
    """The crew's situation."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["on_patrol", "returning", "needs_help"]


class NoteIn(BaseModel):
    """A short note (SOS, acknowledgement)."""

    model_config = ConfigDict(extra="forbid")

    note: Note = ""


class PositionIn(BaseModel):
    """One position a phone recorded."""

    model_config = ConfigDict(extra="forbid")

    patrol_id: Id
    at: Instant
    lon: Longitude
    lat: Latitude
    accuracy_m: Annotated[float, Strict(), Field(ge=0, le=100_000)] | None = None


class PositionBatch(BaseModel):
    """What a phone buffered while offline, sent in one request."""

    model_config = ConfigDict(extra="forbid")

    reports: list[PositionIn] = Field(min_length=1, max_length=500)


class Rejected(BaseModel):
    """A refused position and why."""

    index: int
    patrol_id: int
    reason: Annotated[str, AfterValidator(lambda text: i18n.detail(text) or text)] = Field(
        description="in the request's language")
    code: str = Field(description="not_a_volunteer, not_on_duty or outside_active_window")


class BatchResult(BaseModel):
    """How many positions were stored and which were refused."""

    accepted: int
    rejected: list[Rejected]


class LinkIn(BaseModel):
    """A patrol to link to an incident."""

    model_config = ConfigDict(extra="forbid")

    patrol_id: Id


class SosOut(BaseModel):
    """Whether an SOS opened a new alert (a repeated press while one is open changes nothing)."""

    raised: bool
    alert_id: int | None


class AlertOut(BaseModel):
    """A safety alert as served and pushed live."""

    id: int
    patrol_id: int
    zone_id: int
    kind: Literal["out_of_zone", "lost_contact", "sos"]
    status: Literal["open", "acknowledged"]
    details: dict[str, Any]
    raised_at: datetime
    acknowledged_by_user_id: int | None
    acknowledged_at: datetime | None


class PositionOut(BaseModel):
    """One stored position of a crew member."""

    patrol_id: int
    volunteer_id: int
    at: datetime
    lon: float
    lat: float
    accuracy_m: float | None


class NearPatrolOut(BaseModel):
    """An active patrol near an incident: by its last position, else by its zone's edge."""

    patrol_id: int
    distance_km: float | None = Field(description="to 10 m, for callers who may locate the patrol; else null")
    distance_band: str = Field(description="<1 km, 1–5 km, 5–10 km or >10 km (all a caller without the right to "
                                           "locate the patrol is told)")
    by: Literal["position", "zone"]
    field_status: str


class LinkOut(BaseModel):
    """The patrols linked to an incident after linking one."""

    incident_id: int
    patrol_ids: list[int]
