"""Volunteer tables."""

from __future__ import annotations

from datetime import date, datetime

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Column, Date, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from iolaos.kit.geotype import GeometryType
from iolaos.kit.time import UtcDateTime, utcnow

VOLUNTEER_STATUSES = ("available", "on_patrol", "off_duty", "unavailable")


class Volunteer(SQLModel, table=True):
    """A person in exactly one volunteer organisation."""

    __tablename__ = "volunteer"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(
        sa_column=Column(Integer, ForeignKey("organisation.id", ondelete="RESTRICT"), nullable=False, index=True)
    )
    user_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="SET NULL"), unique=True)
    )
    national_id: str | None = Field(default=None, max_length=40, unique=True)
    full_name: str = Field(max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    home_base: BaseGeometry | None = Field(default=None, sa_column=Column(GeometryType("Point"), nullable=True))
    status: str = Field(default="available", max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))

    model_config = {"arbitrary_types_allowed": True}


class VolunteerSkill(SQLModel, table=True):
    """A skill or certification, possibly with an expiry date."""

    __tablename__ = "volunteer_skill"
    __table_args__ = (UniqueConstraint("volunteer_id", "skill"),)

    id: int | None = Field(default=None, primary_key=True)
    volunteer_id: int = Field(
        sa_column=Column(Integer, ForeignKey("volunteer.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    skill: str = Field(max_length=40)
    valid_until: date | None = Field(default=None, sa_column=Column(Date, nullable=True))


class Availability(SQLModel, table=True):
    """A window in which a volunteer can be assigned."""

    __tablename__ = "volunteer_availability"

    id: int | None = Field(default=None, primary_key=True)
    volunteer_id: int = Field(
        sa_column=Column(Integer, ForeignKey("volunteer.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    starts_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    ends_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
