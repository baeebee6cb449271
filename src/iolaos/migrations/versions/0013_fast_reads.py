"""Fast reads: incidents' notified organisations as a join table; GiST indexes on positions and routes.

Revision ID: 0013
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0008"
branch_labels = None
depends_on = None


def _is_pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "incident_notified",
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incident.id", ondelete="CASCADE"), nullable=False),
        sa.Column("organisation_id", sa.Integer, sa.ForeignKey("organisation.id", ondelete="RESTRICT"),
                  nullable=False),
        sa.PrimaryKeyConstraint("incident_id", "organisation_id"),
    )
    op.create_index("ix_incident_notified_organisation_id", "incident_notified", ["organisation_id"])
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, notified_organisation_ids FROM incident "
                                "WHERE notified_organisation_ids <> ''")).all()
    pairs = {(incident_id, int(org)) for incident_id, text in rows for org in text.split(",") if org.strip()}
    if pairs:
        conn.execute(sa.text("INSERT INTO incident_notified (incident_id, organisation_id) VALUES (:i, :o)"),
                     [{"i": i, "o": o} for i, o in sorted(pairs)])
    # SQLite ≥ 3.35 drops a plain column in place (no table rebuild, which would drop the triggers and
    # foreign keys pointing at incident).
    op.execute("ALTER TABLE incident DROP COLUMN notified_organisation_ids")
    if _is_pg():
        # Spatial filters of the OGC tracks and exports (bbox) run in SQL on these.
        op.create_index("ix_position_report_point", "position_report", ["point"], postgresql_using="gist")
        op.create_index("ix_patrol_route", "patrol", ["route"], postgresql_using="gist")


def downgrade() -> None:
    if _is_pg():
        op.drop_index("ix_patrol_route", "patrol")
        op.drop_index("ix_position_report_point", "position_report")
    op.add_column("incident", sa.Column("notified_organisation_ids", sa.String(400), nullable=False,
                                        server_default=""))
    conn = op.get_bind()
    found: dict[int, list[int]] = {}
    for incident_id, org in conn.execute(sa.text("SELECT incident_id, organisation_id FROM incident_notified "
                                                 "ORDER BY incident_id, organisation_id")):
        found.setdefault(incident_id, []).append(org)
    for incident_id, orgs in found.items():
        conn.execute(sa.text("UPDATE incident SET notified_organisation_ids = :v WHERE id = :i"),
                     {"v": ",".join(str(o) for o in orgs), "i": incident_id})
    op.drop_table("incident_notified")
