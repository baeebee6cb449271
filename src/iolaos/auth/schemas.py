"""Wire shapes of sign-in and accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from iolaos.auth.models import ROLES

Role = Literal[ROLES]  # type: ignore[valid-type]
Username = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=3, max_length=64,
                                            pattern=r"^[a-z0-9][a-z0-9._-]*$")]
FullName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40, pattern=r"^\+?[0-9 ()-]{5,39}$")]
Password = Annotated[str, StringConstraints(min_length=12, max_length=256)]


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

    full_name: FullName | None = None
    email: Email | None = None
    phone: Phone | None = None
    role: Role | None = None
    is_active: bool | None = None


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


class MeOut(UserOut):
    """The signed-in caller, with what their role may do."""

    organisation_kind: str
    permissions: dict[str, str]
