"""The notification outbox, each delivery's attempts, and each user's channels and push subscriptions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from iolaos.kit.time import UtcDateTime, utcnow

CHANNELS = ("push", "email", "sms")
# pending → sending → sent | pending (retry) | failed (gave up) ; skipped: nothing to send to (no address);
# unknown: the worker died while sending, so whether it arrived is not known and it is not sent again.
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "skipped", "unknown")


def _fk(table: str, ondelete: str = "CASCADE") -> Column:
    return Column(Integer, ForeignKey(f"{table}.id", ondelete=ondelete), nullable=False, index=True)


class Notification(SQLModel, table=True):
    """One notice to one person, written in the transaction of the audit record that caused it."""

    __tablename__ = "notification"
    __table_args__ = (UniqueConstraint("audit_seq", "rule", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    audit_seq: int = Field(index=True)
    rule: str = Field(max_length=40)
    user_id: int = Field(sa_column=_fk("app_user"))
    organisation_id: int = Field(sa_column=_fk("organisation"))
    life_safety: bool = Field(default=False)
    subject_type: str = Field(max_length=40)
    subject_id: str = Field(max_length=80)
    title: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    url: str = Field(max_length=200)
    suppressed: str | None = Field(default=None, max_length=40, description="why nothing is sent (off_duty…)")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False, index=True))


class NotificationDelivery(SQLModel, table=True):
    """A notification on one channel: the unit that is claimed, sent, retried and given up exactly once."""

    __tablename__ = "notification_delivery"
    __table_args__ = (UniqueConstraint("notification_id", "channel"),
                      Index("ix_notification_delivery_due", "status", "next_attempt_at"))

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(sa_column=_fk("notification"))
    channel: str = Field(max_length=10)
    status: str = Field(default="pending", max_length=10)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    lease_owner: str | None = Field(default=None, max_length=80)
    lease_until: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    last_error: str | None = Field(default=None, max_length=500)
    sent_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


class DeliveryAttempt(SQLModel, table=True):
    """One try of a delivery and how it ended (sent, error, gave_up, interrupted)."""

    __tablename__ = "notification_attempt"
    __table_args__ = (UniqueConstraint("delivery_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(sa_column=_fk("notification_delivery"))
    number: int
    worker: str = Field(max_length=80)
    started_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    outcome: str | None = Field(default=None, max_length=20)
    detail: str | None = Field(default=None, max_length=500)


class NotificationPreference(SQLModel, table=True):
    """A user's channels and quiet hours (minutes after midnight, Europe/Athens; start > end wraps midnight)."""

    __tablename__ = "notification_preference"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False,
                                          unique=True))
    channels: str = Field(default="push,email", max_length=40)
    quiet_start: int | None = Field(default=None, ge=0, lt=1440)
    quiet_end: int | None = Field(default=None, ge=0, lt=1440)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))

    @property
    def channel_list(self) -> list[str]:
        """Chosen channels as a list."""
        return [c for c in self.channels.split(",") if c]


class PushSubscription(SQLModel, table=True):
    """A browser's Web Push subscription (RFC 8030 endpoint and RFC 8291 keys) for one user."""

    __tablename__ = "push_subscription"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_fk("app_user"))
    endpoint: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
