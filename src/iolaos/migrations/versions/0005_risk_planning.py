"""Fire-risk levels, coverage policy versions, plan runs and unfilled slots.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from iolaos.kit.time import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _fk(name: str, table: str, nullable: bool = True, ondelete: str = "RESTRICT") -> sa.Column:
    return sa.Column(name, sa.Integer, sa.ForeignKey(f"{table}.id", ondelete=ondelete), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "risk_level",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("zone_id", "zone", nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("category", sa.Integer, nullable=False),
        sa.Column("source", sa.String(120), nullable=False),
        sa.Column("note", sa.String(500), nullable=True),
        _fk("issued_by_user_id", "app_user"),
        _fk("issued_by_organisation_id", "organisation"),
        sa.Column("issued_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("category BETWEEN 1 AND 5", name="category_range"),
    )
    op.create_index("ix_risk_level_day", "risk_level", ["day"])
    op.create_index("ix_risk_level_zone_day", "risk_level", ["zone_id", "day", "id"])
    op.create_table(
        "coverage_policy",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("region_id", "zone"),
        sa.Column("category", sa.Integer, nullable=False),
        sa.Column("patrols_per_zone", sa.Integer, nullable=False),
        sa.Column("crew_size", sa.Integer, nullable=False),
        sa.Column("required_skills", sa.String(400), nullable=False),
        sa.Column("capability", sa.String(20), nullable=False),
        sa.Column("shifts", sa.String(200), nullable=False),
        sa.Column("updated_by_user_id", sa.Integer, nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_coverage_policy_region_category", "coverage_policy", ["region_id", "category", "id"])
    op.create_table(
        "plan_run",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan_key", sa.String(80), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        _fk("region_id", "zone"),
        sa.Column("committed_by_user_id", sa.Integer, nullable=True),
        sa.Column("committed_at", UtcDateTime(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.UniqueConstraint("plan_key"),
    )
    op.create_index("ix_plan_run_day", "plan_run", ["day"])
    op.create_table(
        "unfilled_slot",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("plan_run_id", "plan_run", nullable=False, ondelete="CASCADE"),
        _fk("patrol_id", "patrol", nullable=False, ondelete="CASCADE"),
        sa.Column("skill", sa.String(40), nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
    )
    op.create_index("ix_unfilled_slot_plan_run_id", "unfilled_slot", ["plan_run_id"])
    op.create_index("ix_unfilled_slot_patrol_id", "unfilled_slot", ["patrol_id"])


def downgrade() -> None:
    op.drop_table("unfilled_slot")
    op.drop_table("plan_run")
    op.drop_table("coverage_policy")
    op.drop_table("risk_level")
