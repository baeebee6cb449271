"""Wire shapes of field operations."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class CrewIn(BaseModel):
    """Crew members to check in or out."""

    model_config = ConfigDict(extra="forbid")

    volunteer_ids: list[Id] = Field(min_length=1, max_length=20)


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
    at: AwareDatetime
    lon: Annotated[float, Field(ge=-180, le=180)]
    lat: Annotated[float, Field(ge=-90, le=90)]
    accuracy_m: Annotated[float, Field(ge=0, le=100_000)] | None = None


class PositionBatch(BaseModel):
    """What a phone buffered while offline, sent in one request."""

    model_config = ConfigDict(extra="forbid")

    reports: list[PositionIn] = Field(min_length=1, max_length=500)


class Rejected(BaseModel):
    """A refused position and why."""

    index: int
    patrol_id: int
    reason: str


class BatchResult(BaseModel):
    """How many positions were stored and which were refused."""

    accepted: int
    rejected: list[Rejected]


class LinkIn(BaseModel):
    """A patrol to link to an incident."""

    model_config = ConfigDict(extra="forbid")

    patrol_id: Id
