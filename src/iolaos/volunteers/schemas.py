"""Wire shapes of volunteers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from iolaos.auth.schemas import Email, FullName, Phone, unset
from iolaos.kit.strict import Day, Instant, Latitude, Longitude
from iolaos.volunteers.models import VOLUNTEER_STATUSES

Status = Literal[VOLUNTEER_STATUSES]  # type: ignore[valid-type]
WINDOW_YEARS = (2000, 2099)
SkillCode = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z0-9_]{2,40}$")]
NationalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=40,
                                              pattern=r"^[A-Za-z0-9-]+$")]


class Point(BaseModel):
    """A GeoJSON Point (lon, lat)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Point"] = "Point"
    coordinates: tuple[Longitude, Latitude]


class Skill(BaseModel):
    """A skill or certification; ``valid_until`` empty means it does not expire."""

    model_config = ConfigDict(extra="forbid")

    skill: SkillCode
    valid_until: Day | None = None


class Window(BaseModel):
    """An availability window (timezone-aware, ends after it starts, at most 14 days, years 2000–2099)."""

    model_config = ConfigDict(extra="forbid")

    starts_at: Instant
    ends_at: Instant

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        # Checked first: converting a datetime near year 1 or 9999 to UTC would overflow.
        if not all(WINDOW_YEARS[0] <= t.year <= WINDOW_YEARS[1] for t in (self.starts_at, self.ends_at)):
            raise ValueError(f"availability windows lie between the years {WINDOW_YEARS[0]} and {WINDOW_YEARS[1]}")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if (self.ends_at - self.starts_at).days > 14:
            raise ValueError("an availability window may last at most 14 days")
        return self


class VolunteerCreate(BaseModel):
    """A volunteer of the caller's own organisation."""

    model_config = ConfigDict(extra="forbid")

    full_name: FullName
    national_id: NationalId | None = None
    phone: Phone | None = None
    email: Email | None = None
    home_base: Point | None = None
    status: Status = "available"
    user_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="link to the volunteer's account")
    skills: list[Skill] = Field(default_factory=list, max_length=50)
    availability: list[Window] = Field(default_factory=list, max_length=200)


class VolunteerUpdate(BaseModel):
    """Editable fields; absent fields are left as they are."""

    model_config = ConfigDict(extra="forbid")

    full_name: FullName = unset()
    phone: Phone | None = None
    email: Email | None = None
    home_base: Point | None = None
    status: Status = unset()


class SkillList(BaseModel):
    """The complete list of a volunteer's skills (replaces the old one)."""

    model_config = ConfigDict(extra="forbid")

    skills: list[Skill] = Field(max_length=50)


class WindowList(BaseModel):
    """The complete list of a volunteer's availability windows (replaces the old one)."""

    model_config = ConfigDict(extra="forbid")

    availability: list[Window] = Field(max_length=200)


class VolunteerOut(BaseModel):
    """A volunteer as the caller may see them: contact data only with the volunteer.contact permission."""

    id: int
    organisation_id: int
    full_name: str
    status: str
    user_id: int | None
    skills: list[Skill]
    availability: list[Window]
    contact_visible: bool
    phone: str | None = None
    email: str | None = None
    home_base: Point | None = None
    updated_at: datetime
