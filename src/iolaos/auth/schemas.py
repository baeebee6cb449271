"""Wire shapes of sign-in and accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from iolaos.auth.models import ROLES

Role = Literal[ROLES]  # type: ignore[valid-type]
# Text that is stored: no control characters (PostgreSQL refuses NUL in text, and none belong in a name).
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
Username = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=3, max_length=64,
                                            pattern=r"^[a-z0-9][a-z0-9._-]*$")]
FullName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200, pattern=PRINTABLE)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200,
                                         pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40, pattern=r"^\+?[0-9 ()-]{5,39}$")]
Password = Annotated[str, StringConstraints(min_length=12, max_length=256)]


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def unset(**kwargs: Any) -> Any:
    """A field of a partial update that may be left out but not sent as null (it can never be empty)."""
    return Field(default=None, json_schema_extra=_no_default, **kwargs)


class TokenOut(BaseModel):
    """An OAuth2 bearer token."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime


class UserCreate(BaseModel):
    """A new account; its organisation is the one in the URL, checked against your scope."""

    model_config = ConfigDict(extra="forbid")

    username: Username
    full_name: FullName
    role: Role
    password: Password
    email: Email | None = None
    phone: Phone | None = None


class UserUpdate(BaseModel):
    """Editable account fields; absent fields are left as they are."""

    model_config = ConfigDict(extra="forbid")

    full_name: FullName = unset()
    email: Email | None = None
    phone: Phone | None = None
    role: Role = unset()
    is_active: bool = unset()


class PasswordChange(BaseModel):
    """Change your own password (signs out your other sessions)."""

    model_config = ConfigDict(extra="forbid")

    current_password: Annotated[str, StringConstraints(max_length=256)]
    new_password: Password


class UserOut(BaseModel):
    """An account as served (never its password hash)."""

    id: int
    username: str
    full_name: str
    role: str
    organisation_id: int
    is_active: bool
    email: str | None = None
    phone: str | None = None


class RevokedOut(BaseModel):
    """How many sign-ins were revoked."""

    revoked: int


class MeOut(UserOut):
    """The signed-in caller, with what their role may do."""

    organisation_kind: str
    permissions: dict[str, str]
