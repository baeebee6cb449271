"""Notifications: the outbox, deliveries and their attempts, users' channels and push subscriptions.

Revision ID: 0012
Revises: 0013
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from iolaos.kit.time import UtcDateTime

revision = "0012"
down_revision = "0013"
branch_labels = None
depends_on = None


def _fk(name: str, table: str) -> sa.Column:
    return sa.Column(name, sa.Integer, sa.ForeignKey(f"{table}.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("audit_seq", sa.Integer, nullable=False),
        sa.Column("rule", sa.String(40), nullable=False),
        _fk("user_id", "app_user"),
        _fk("organisation_id", "organisation"),
        sa.Column("life_safety", sa.Boolean, nullable=False),
        sa.Column("subject_type", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.String(80), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("url", sa.String(200), nullable=False),
        sa.Column("suppressed", sa.String(40), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("audit_seq", "rule", "user_id"),
    )
    for col in ("audit_seq", "user_id", "organisation_id", "created_at"):
        op.create_index(f"ix_notification_{col}", "notification", [col])
    op.create_table(
        "notification_delivery",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("notification_id", "notification"),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(80), nullable=True),
        sa.Column("lease_until", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("notification_id", "channel"),
    )
    op.create_index("ix_notification_delivery_notification_id", "notification_delivery", ["notification_id"])
    op.create_index("ix_notification_delivery_due", "notification_delivery", ["status", "next_attempt_at"])
    op.create_table(
        "notification_attempt",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("delivery_id", "notification_delivery"),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("worker", sa.String(80), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("detail", sa.String(500), nullable=True),
        sa.UniqueConstraint("delivery_id", "number"),
    )
    op.create_index("ix_notification_attempt_delivery_id", "notification_attempt", ["delivery_id"])
    op.create_table(
        "notification_preference",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False,
                  unique=True),
        sa.Column("channels", sa.String(40), nullable=False),
        sa.Column("quiet_start", sa.Integer, nullable=True),
        sa.Column("quiet_end", sa.Integer, nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "push_subscription",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("user_id", "app_user"),
        sa.Column("endpoint", sa.Text, nullable=False, unique=True),
        sa.Column("p256dh", sa.String(200), nullable=False),
        sa.Column("auth", sa.String(100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_push_subscription_user_id", "push_subscription", ["user_id"])


def downgrade() -> None:
    for table in ("push_subscription", "notification_preference", "notification_attempt", "notification_delivery",
                  "notification"):
        op.drop_table(table)
