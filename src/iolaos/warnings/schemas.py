"""Wire shapes of public warnings (input forbids unknown fields)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

Hazard = Literal["wildfire", "wildfire_smoke", "fire_risk"]
ResponseType = Literal["Evacuate", "Shelter", "Avoid", "Prepare", "Monitor"]
Urgency = Literal["Immediate", "Expected", "Future"]
Severity = Literal["Extreme", "Severe", "Moderate", "Minor"]
Certainty = Literal["Observed", "Likely", "Possible"]
PublicText = Annotated[str, Field(max_length=1000)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ZonesArea(_In):
    """Chosen zones (municipality YPES codes or region codes)."""

    kind: Literal["zones"]
    zone_codes: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(min_length=1, max_length=60)


class PolygonArea(_In):
    """A drawn polygon (GeoJSON, lon/lat)."""

    kind: Literal["polygon"]
    geometry: dict[str, Any]


class CircleArea(_In):
    """A point and a radius in kilometres."""

    kind: Literal["circle"]
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    radius_km: float = Field(gt=0, le=50)


Area = Annotated[ZonesArea | PolygonArea | CircleArea, Field(discriminator="kind")]


class WarningContent(_In):
    """What a warning says; urgency/severity/certainty and the instructions default from the hazard template."""

    hazard: Hazard
    response_type: ResponseType
    urgency: Urgency | None = None
    severity: Severity | None = None
    certainty: Certainty | None = None
    instruction_el: PublicText | None = None
    instruction_en: PublicText | None = None
    description_el: Annotated[str, Field(max_length=2000)] = ""
    description_en: Annotated[str, Field(max_length=2000)] = ""
    area: Area
    expires: AwareDatetime


class WarningDraft(WarningContent):
    """A new warning, drafted from an incident the caller's organisation leads or from the risk map."""

    source: Literal["incident", "risk_map"]
    incident_id: int | None = Field(default=None, ge=1, le=2**31 - 1)

    @model_validator(mode="after")
    def _incident_given(self) -> WarningDraft:
        if (self.source == "incident") != (self.incident_id is not None):
            raise ValueError("incident_id is required with source=incident and only then")
        return self


class RevisionIn(_In):
    """The revision the caller saw (approve or publish exactly that)."""

    revision: int = Field(ge=1, le=2**31 - 1)


class CancelIn(_In):
    """Why the warning ends (journalled, never public)."""

    reason: str = Field(min_length=1, max_length=500)


class GeocodeOut(BaseModel):
    """A public geocode."""

    value_name: str
    value: str


class AreaOut(BaseModel):
    """The area as stored: kind, chosen zones, descriptions, geocodes and an outline for maps."""

    kind: str
    zone_codes: list[str]
    radius_km: float | None
    centre: tuple[float, float] | None
    desc_el: str
    desc_en: str
    geocodes: list[GeocodeOut]
    geometry: dict[str, Any]


class MessageOut(BaseModel):
    """One CAP message sent for the warning."""

    identifier: str
    sender: str
    sent: datetime
    msg_type: str
    status: str
    expires: datetime
    revision: int
    references: list[str]
    headline_el: str
    headline_en: str
    url: str
    published_by_user_id: int


class WarningOut(BaseModel):
    """A warning with its lifecycle state and every message sent for it."""

    id: int
    organisation_id: int
    source: str
    incident_id: int | None
    status: str
    state: str
    hazard: str
    response_type: str
    urgency: str
    severity: str
    certainty: str
    instruction_el: str
    instruction_en: str
    description_el: str
    description_en: str
    area: AreaOut
    expires: datetime
    revision: int
    approved_revision: int | None
    approved_by_user_id: int | None
    published_revision: int | None
    pending_changes: bool
    needs_approval: bool
    allowed_actions: list[str]
    created_by_user_id: int
    edited_by_user_id: int
    created_at: datetime
    updated_at: datetime
    messages: list[MessageOut]


class PreviewOut(BaseModel):
    """What publishing now would send: the message type, the CAP text and the area for the map."""

    msg_type: str
    revision: int
    xml: str
    area: dict[str, Any]
