"""Public warnings under authority and the CAP messages sent for them.

Revision ID: 0009
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from iolaos.kit.geotype import GeometryType
from iolaos.kit.time import UtcDateTime

revision = "0009"
down_revision = "0012"  # the lead relinks the chain at merge time
branch_labels = None
depends_on = None


def _fk(name: str, table: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer, sa.ForeignKey(f"{table}.id", ondelete="RESTRICT"), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "public_warning",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("organisation_id", "organisation"),
        sa.Column("source", sa.String(20), nullable=False),
        _fk("incident_id", "incident", nullable=True),
        _fk("region_id", "zone", nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("hazard", sa.String(30), nullable=False),
        sa.Column("response_type", sa.String(20), nullable=False),
        sa.Column("urgency", sa.String(20), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("certainty", sa.String(20), nullable=False),
        sa.Column("instruction_el", sa.String(1000), nullable=False),
        sa.Column("instruction_en", sa.String(1000), nullable=False),
        sa.Column("description_el", sa.String(2000), nullable=False),
        sa.Column("description_en", sa.String(2000), nullable=False),
        sa.Column("area_kind", sa.String(10), nullable=False),
        sa.Column("zone_codes", sa.String(2000), nullable=False),
        sa.Column("radius_km", sa.Float, nullable=True),
        sa.Column("area", GeometryType("Geometry"), nullable=False),
        sa.Column("area_desc_el", sa.String(500), nullable=False),
        sa.Column("area_desc_en", sa.String(500), nullable=False),
        sa.Column("geocodes", sa.Text, nullable=False),
        sa.Column("expires", UtcDateTime(), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        _fk("edited_by_user_id", "app_user"),
        sa.Column("approved_revision", sa.Integer, nullable=True),
        _fk("approved_by_user_id", "app_user", nullable=True),
        sa.Column("published_revision", sa.Integer, nullable=True),
        _fk("created_by_user_id", "app_user"),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=True),
    )
    for col in ("organisation_id", "incident_id", "region_id", "status", "edited_by_user_id", "approved_by_user_id",
                "created_by_user_id"):
        op.create_index(f"ix_public_warning_{col}", "public_warning", [col])
    op.create_table(
        "public_warning_message",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("warning_id", "public_warning"),
        sa.Column("identifier", sa.String(120), nullable=False),
        sa.Column("sender", sa.String(200), nullable=False),
        sa.Column("sent", UtcDateTime(), nullable=False),
        sa.Column("msg_type", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("expires", UtcDateTime(), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("references", sa.Text, nullable=False),
        sa.Column("headline_el", sa.String(300), nullable=False),
        sa.Column("headline_en", sa.String(300), nullable=False),
        sa.Column("xml", sa.Text, nullable=False),
        _fk("published_by_user_id", "app_user"),
        sa.UniqueConstraint("identifier"),
    )
    for col in ("warning_id", "sent", "published_by_user_id"):
        op.create_index(f"ix_public_warning_message_{col}", "public_warning_message", [col])


def downgrade() -> None:
    op.drop_table("public_warning_message")
    op.drop_table("public_warning")
