"""Patrols and assignments.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from iolaos.kit.geotype import GeometryType
from iolaos.kit.time import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _fk(name: str, table: str, nullable: bool = True, ondelete: str = "RESTRICT") -> sa.Column:
    return sa.Column(name, sa.Integer, sa.ForeignKey(f"{table}.id", ondelete=ondelete), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "patrol",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("zone_id", "zone", nullable=False),
        _fk("organisation_id", "organisation"),
        sa.Column("shift_start", UtcDateTime(), nullable=False),
        sa.Column("shift_end", UtcDateTime(), nullable=False),
        sa.Column("crew_size", sa.Integer, nullable=False),
        sa.Column("required_skills", sa.String(400), nullable=False),
        sa.Column("capability", sa.String(20), nullable=False),
        sa.Column("risk_category", sa.Integer, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("field_status", sa.String(20), nullable=False),
        _fk("leader_volunteer_id", "volunteer", ondelete="SET NULL"),
        sa.Column("route", GeometryType("LineString"), nullable=True),
        sa.Column("plan_key", sa.String(80), nullable=True),
        sa.Column("created_by_user_id", sa.Integer, nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    for col in ("zone_id", "organisation_id", "status", "leader_volunteer_id", "plan_key"):
        op.create_index(f"ix_patrol_{col}", "patrol", [col])
    op.create_index("ix_patrol_zone_shift", "patrol", ["zone_id", "shift_start"])
    op.create_table(
        "assignment",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("patrol_id", "patrol", nullable=False, ondelete="CASCADE"),
        _fk("volunteer_id", "volunteer", nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("proposed_by", sa.String(40), nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("decline_reason", sa.String(500), nullable=True),
        sa.Column("checked_in_at", UtcDateTime(), nullable=True),
        sa.Column("checked_out_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("patrol_id", "volunteer_id"),
    )
    for col in ("patrol_id", "volunteer_id", "status"):
        op.create_index(f"ix_assignment_{col}", "assignment", [col])


def downgrade() -> None:
    op.drop_table("assignment")
    op.drop_table("patrol")
