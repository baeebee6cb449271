"""People: organisations and jurisdiction, accounts, tokens, sign-in failures, volunteers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from iolaos.kit.geotype import GeometryType
from iolaos.kit.time import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _stamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    ]


def upgrade() -> None:
    _organisations()
    _accounts()
    _volunteers()


def _organisations() -> None:
    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("name_el", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("organisation.id", ondelete="RESTRICT"), nullable=True),
        sa.Column("region_id", sa.Integer, sa.ForeignKey("zone.id", ondelete="RESTRICT"), nullable=True),
        sa.Column("registry_number", sa.String(40), nullable=True),
        sa.Column("action_categories", sa.String(20), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        *_stamps(),
        sa.UniqueConstraint("registry_number"),
    )
    for col in ("kind", "parent_id", "region_id"):
        op.create_index(f"ix_organisation_{col}", "organisation", [col])
    op.create_table(
        "organisation_zone",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("organisation_id", sa.Integer, sa.ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False),
        sa.Column("zone_id", sa.Integer, sa.ForeignKey("zone.id", ondelete="RESTRICT"), nullable=False),
        sa.UniqueConstraint("organisation_id", "zone_id"),
    )
    op.create_index("ix_organisation_zone_organisation_id", "organisation_zone", ["organisation_id"])
    op.create_index("ix_organisation_zone_zone_id", "organisation_zone", ["zone_id"])


def _accounts() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(200), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("organisation_id", sa.Integer, sa.ForeignKey("organisation.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("is_active", sa.Boolean, nullable=False),
        *_stamps(),
        sa.UniqueConstraint("username"),
    )
    op.create_index("ix_app_user_organisation_id", "app_user", ["organisation_id"])
    op.create_table(
        "auth_token",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_auth_token_user_id", "auth_token", ["user_id"])
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_key", sa.String(64), nullable=False),
        sa.Column("client_address", sa.String(64), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
    )
    for col in ("account_key", "client_address", "at"):
        op.create_index(f"ix_login_failure_{col}", "login_failure", [col])


def _volunteers() -> None:
    op.create_table(
        "volunteer",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("organisation_id", sa.Integer, sa.ForeignKey("organisation.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True),
        sa.Column("national_id", sa.String(40), nullable=True),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("email", sa.String(200), nullable=True),
        sa.Column("home_base", GeometryType("Point"), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        *_stamps(),
        sa.UniqueConstraint("user_id"),
        sa.UniqueConstraint("national_id"),
    )
    op.create_index("ix_volunteer_organisation_id", "volunteer", ["organisation_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_volunteer_home_base", "volunteer", ["home_base"], postgresql_using="gist")
    op.create_table(
        "volunteer_skill",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("volunteer_id", sa.Integer, sa.ForeignKey("volunteer.id", ondelete="CASCADE"), nullable=False),
        sa.Column("skill", sa.String(40), nullable=False),
        sa.Column("valid_until", sa.Date, nullable=True),
        sa.UniqueConstraint("volunteer_id", "skill"),
    )
    op.create_index("ix_volunteer_skill_volunteer_id", "volunteer_skill", ["volunteer_id"])
    op.create_table(
        "volunteer_availability",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("volunteer_id", sa.Integer, sa.ForeignKey("volunteer.id", ondelete="CASCADE"), nullable=False),
        sa.Column("starts_at", UtcDateTime(), nullable=False),
        sa.Column("ends_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_volunteer_availability_volunteer_id", "volunteer_availability", ["volunteer_id"])


def downgrade() -> None:
    for table in ("volunteer_availability", "volunteer_skill", "volunteer", "login_failure", "auth_token",
                  "app_user", "organisation_zone", "organisation"):
        op.drop_table(table)
