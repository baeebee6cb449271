"""Field operations: position reports, safety alerts, incident–patrol links.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from iolaos.kit.geotype import GeometryType
from iolaos.kit.time import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _fk(name: str, table: str) -> sa.Column:
    return sa.Column(name, sa.Integer, sa.ForeignKey(f"{table}.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "position_report",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("patrol_id", "patrol"),
        _fk("volunteer_id", "volunteer"),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("point", GeometryType("Point"), nullable=False),
        sa.Column("accuracy_m", sa.Float, nullable=True),
    )
    for col in ("patrol_id", "volunteer_id", "at"):
        op.create_index(f"ix_position_report_{col}", "position_report", [col])
    op.create_index("ix_position_report_patrol_at", "position_report", ["patrol_id", "at"])
    op.create_table(
        "safety_alert",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("patrol_id", "patrol"),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("open_key", sa.String(4), nullable=True),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("raised_at", UtcDateTime(), nullable=False),
        sa.Column("acknowledged_by_user_id", sa.Integer, nullable=True),
        sa.Column("acknowledged_at", UtcDateTime(), nullable=True),
        sa.UniqueConstraint("patrol_id", "kind", "open_key"),
    )
    op.create_index("ix_safety_alert_patrol_id", "safety_alert", ["patrol_id"])
    op.create_index("ix_safety_alert_status", "safety_alert", ["status"])
    op.create_table(
        "incident_patrol",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("incident_id", "incident"),
        _fk("patrol_id", "patrol"),
        sa.Column("linked_by_user_id", sa.Integer, nullable=True),
        sa.Column("linked_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("incident_id", "patrol_id"),
    )
    op.create_index("ix_incident_patrol_incident_id", "incident_patrol", ["incident_id"])
    op.create_index("ix_incident_patrol_patrol_id", "incident_patrol", ["patrol_id"])


def downgrade() -> None:
    op.drop_table("incident_patrol")
    op.drop_table("safety_alert")
    op.drop_table("position_report")
