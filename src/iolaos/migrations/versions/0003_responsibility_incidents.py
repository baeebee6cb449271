"""Responsibility (append-only) and incidents.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from iolaos.kit.geotype import GeometryType
from iolaos.kit.time import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _is_pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _fk(name: str, table: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer, sa.ForeignKey(f"{table}.id", ondelete="RESTRICT"), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "responsibility",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subject_type", sa.String(20), nullable=False),
        sa.Column("subject_id", sa.Integer, nullable=False),
        _fk("holder_user_id", "app_user", nullable=True),
        _fk("holder_organisation_id", "organisation"),
        sa.Column("since", UtcDateTime(), nullable=False),
        sa.Column("granted_by_user_id", sa.Integer, nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("audit_seq", sa.Integer, nullable=False),
    )
    op.create_index("ix_responsibility_subject", "responsibility", ["subject_type", "subject_id", "since"])
    _append_only("responsibility")
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("description", sa.String(2000), nullable=False),
        sa.Column("point", GeometryType("Point"), nullable=False),
        _fk("zone_id", "zone", nullable=True),
        _fk("region_id", "zone", nullable=True),
        _fk("lead_organisation_id", "organisation"),
        sa.Column("notified_organisation_ids", sa.String(400), nullable=False),
        _fk("reported_by_user_id", "app_user"),
        _fk("reporter_organisation_id", "organisation"),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    for col in ("status", "zone_id", "region_id", "lead_organisation_id", "reported_by_user_id",
                "reporter_organisation_id", "created_at"):
        op.create_index(f"ix_incident_{col}", "incident", [col])
    if _is_pg():
        op.create_index("ix_incident_point", "incident", ["point"], postgresql_using="gist")


def _append_only(table: str) -> None:
    """Rows of ``table`` are history: no UPDATE or DELETE (function from migration 0001 on PostgreSQL)."""
    if _is_pg():
        op.execute(f"CREATE TRIGGER {table}_no_row_change BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION iolaos_forbid_change()")
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                   f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def downgrade() -> None:
    op.drop_table("incident")
    if _is_pg():
        op.execute("DROP TRIGGER IF EXISTS responsibility_no_row_change ON responsibility")
    op.drop_table("responsibility")
