"""Wire shapes of organisations."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from iolaos.auth.schemas import PRINTABLE, unset
from iolaos.organisations.models import ACTION_CATEGORIES, ORG_KINDS

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200, pattern=PRINTABLE)]
ZoneCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=PRINTABLE)]
OrgKind = Literal[ORG_KINDS]  # type: ignore[valid-type]
Category = Literal[ACTION_CATEGORIES]  # type: ignore[valid-type]
REGISTRY_PATTERN = r"^[0-9]{1,6}$"
RegistryNumber = Annotated[str, StringConstraints(pattern=REGISTRY_PATTERN)]


class OrganisationCreate(BaseModel):
    """A new organisation below the caller's own (or below ``parent_id`` inside their tree)."""

    model_config = ConfigDict(extra="forbid")

    kind: OrgKind
    name_el: Name
    name_en: Name
    parent_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    region_code: ZoneCode | None = Field(default=None, description="code of the region it works in, e.g. GR-I")
    registry_number: RegistryNumber | None = Field(default=None, description="volunteer organisations: 1–6 digits")
    action_categories: list[Category] = Field(default_factory=list, max_length=2)
    zone_codes: list[ZoneCode] = Field(default_factory=list, max_length=500, description="jurisdiction")


class OrganisationUpdate(BaseModel):
    """Editable fields; absent fields are left as they are."""

    model_config = ConfigDict(extra="forbid")

    name_el: Name = unset()
    name_en: Name = unset()
    registry_number: RegistryNumber | None = Field(default=None, description="volunteer organisations: 1–6 digits")
    action_categories: list[Category] = unset(max_length=2)
    active: bool = unset()
    radio_channels: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300, pattern=PRINTABLE)] = \
        unset(description="radio channels for the ICS-204, e.g. 'VHF 5 (patrols), VHF 7 (command)'")


class Jurisdiction(BaseModel):
    """The zones an organisation covers."""

    model_config = ConfigDict(extra="forbid")

    zone_codes: list[ZoneCode] = Field(max_length=500)


class OrganisationOut(BaseModel):
    """An organisation as served."""

    id: int
    kind: str
    name_el: str
    name_en: str
    parent_id: int | None
    region_code: str | None
    registry_number: str | None
    action_categories: list[str]
    active: bool
    zone_codes: list[str]
    radio_channels: str = ""
