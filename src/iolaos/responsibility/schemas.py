"""Wire shapes of responsibility: holdings, chains and handovers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from iolaos.i18n import coded

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class HandoverIn(BaseModel):
    """Hand responsibility to another person, with a reason."""

    model_config = ConfigDict(extra="forbid")

    to_user_id: int = Field(ge=1, le=2**31 - 1)
    reason: Reason


class HoldingOut(BaseModel):
    """One period of responsibility."""

    holder_user_id: int | None
    holder_name: str | None
    holder_organisation_id: int
    holder_organisation_name: str
    since: datetime
    until: datetime | None
    granted_by_user_id: int | None
    reason: Annotated[str, AfterValidator(lambda text: coded.render(text) or text)] = Field(
        description="in the request's language when the service wrote it; as typed when a person did")
    audit_seq: int


class ResponsibilityOut(BaseModel):
    """Who holds a subject now, and the whole chain."""

    subject_type: str
    subject_id: int
    current: HoldingOut | None
    chain: list[HoldingOut]


class CandidateOut(BaseModel):
    """A person the caller may hand a subject to."""

    user_id: int
    full_name: str
    role: str
    organisation_id: int
    organisation_name: str = Field(description="in the request's language")
