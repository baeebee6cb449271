"""Foundation: PostGIS, zones, the journal (chain head, audit records, events).

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

from iolaos.kit.geotype import GeometryType
from iolaos.kit.time import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_PG_FORBID = """
CREATE OR REPLACE FUNCTION iolaos_forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
"""


def _is_pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _is_pg():
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    _create_zone()
    _create_journal()
    _protect_audit()


def _create_zone() -> None:
    op.create_table(
        "zone",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name_el", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("zone.id", ondelete="RESTRICT"), nullable=True),
        sa.Column("area_km2", sa.Float, nullable=True),
        sa.Column("geom", GeometryType("MultiPolygon"), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("code"),
    )
    op.create_index("ix_zone_kind", "zone", ["kind"])
    op.create_index("ix_zone_parent_id", "zone", ["parent_id"])
    if _is_pg():
        op.create_index("ix_zone_geom", "zone", ["geom"], postgresql_using="gist")


def _create_journal() -> None:
    head = op.create_table(
        "journal_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("audit_seq", sa.Integer, nullable=False),
        sa.Column("audit_hash", sa.String(64), nullable=False),
        sa.Column("event_seq", sa.Integer, nullable=False),
        sa.Column("epoch", sa.String(36), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "audit_seq": 0, "audit_hash": "0" * 64, "event_seq": 0,
                           "epoch": str(uuid.uuid4())}])
    op.create_table(
        "audit_record",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("actor_user_id", sa.Integer, nullable=True),
        sa.Column("actor_organisation_id", sa.Integer, nullable=True),
        sa.Column("actor_role", sa.String(32), nullable=False),
        sa.Column("actor_name", sa.String(200), nullable=False),
        sa.Column("action", sa.String(80), nullable=False),
        sa.Column("subject_type", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.String(80), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_record_subject", "audit_record", ["subject_type", "subject_id"])
    op.create_index("ix_audit_record_occurred_at", "audit_record", ["occurred_at"])
    op.create_index("ix_audit_record_action", "audit_record", ["action"])
    op.create_index("ix_audit_record_actor_user_id", "audit_record", ["actor_user_id"])
    op.create_index("ix_audit_record_actor_organisation_id", "audit_record", ["actor_organisation_id"])
    op.create_table(
        "event",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("audit_seq", sa.Integer, nullable=True),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("kind", sa.String(80), nullable=False),
        sa.Column("topics", sa.String(2000), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    )


def _protect_audit() -> None:
    """Audit records are append-only by construction, on both backends."""
    if _is_pg():
        op.execute(_PG_FORBID)
        op.execute("CREATE TRIGGER audit_record_no_row_change BEFORE UPDATE OR DELETE ON audit_record "
                   "FOR EACH ROW EXECUTE FUNCTION iolaos_forbid_change()")
        op.execute("CREATE TRIGGER audit_record_no_truncate BEFORE TRUNCATE ON audit_record "
                   "FOR EACH STATEMENT EXECUTE FUNCTION iolaos_forbid_change()")
        op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON audit_record FROM PUBLIC")
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER audit_record_no_{verb.lower()} BEFORE {verb} ON audit_record "
                   "BEGIN SELECT RAISE(ABORT, 'audit_record is append-only'); END")


def downgrade() -> None:
    if _is_pg():
        op.execute("DROP TRIGGER IF EXISTS audit_record_no_row_change ON audit_record")
        op.execute("DROP TRIGGER IF EXISTS audit_record_no_truncate ON audit_record")
    op.drop_table("event")
    op.drop_table("audit_record")
    op.drop_table("journal_head")
    op.drop_table("zone")
