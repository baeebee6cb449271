"""The risk-level table: one row per change, never edited; the latest row per zone and date wins."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from iolaos.kit.time import UtcDateTime, utcnow

# category → (English label, Greek label, colour name, hex colour), as the Civil Protection map shows them.
CATEGORIES: dict[int, tuple[str, str, str, str]] = {
    1: ("low", "χαμηλός", "green", "#2e7d32"),
    2: ("medium", "μέσος", "blue", "#1565c0"),
    3: ("high", "υψηλός", "yellow", "#f9a825"),
    4: ("very high", "πολύ υψηλός", "orange", "#ef6c00"),
    5: ("alarm", "κατάσταση συναγερμού", "red", "#c62828"),
}


class RiskLevel(SQLModel, table=True):
    """From ``issued_at`` on, ``zone`` has fire-risk ``category`` on ``day`` (until a newer row)."""

    __tablename__ = "risk_level"
    __table_args__ = (
        Index("ix_risk_level_zone_day", "zone_id", "day", "id"),
        CheckConstraint("category BETWEEN 1 AND 5", name="category_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    zone_id: int = Field(sa_column=Column(Integer, ForeignKey("zone.id", ondelete="RESTRICT"), nullable=False))
    day: date = Field(sa_column=Column(Date, nullable=False, index=True))
    category: int = Field(ge=1, le=5)
    source: str = Field(max_length=120, description="'api' or 'import:<file name>'")
    note: str | None = Field(default=None, max_length=500)
    issued_by_user_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=True)
    )
    issued_by_organisation_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("organisation.id", ondelete="RESTRICT"), nullable=True)
    )
    issued_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
