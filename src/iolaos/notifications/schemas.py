"""Wire shapes of notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

HhMm = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
Key = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]+={0,2}$", min_length=8, max_length=200)]
# Printable ASCII only: push services' URLs are, and PostgreSQL refuses NUL characters in text.
Endpoint = Annotated[str, StringConstraints(pattern=r"^https?://[\x21-\x7e]+$", max_length=1000)]


class PreferencesIn(BaseModel):
    """Channels one wants and the quiet hours (Europe/Athens, HH:MM; both or neither)."""

    model_config = ConfigDict(extra="forbid")

    channels: list[Literal["push", "email", "sms"]] = Field(max_length=3)
    quiet_start: HhMm | None = None
    quiet_end: HhMm | None = None


class PreferencesOut(BaseModel):
    """The caller's channels, quiet hours and whether a browser of theirs receives push."""

    channels: list[str]
    quiet_start: str | None
    quiet_end: str | None
    push_subscribed: bool


class SubscriptionKeys(BaseModel):
    """A browser's RFC 8291 keys (base64url)."""

    model_config = ConfigDict(extra="forbid")

    p256dh: Key
    auth: Key


class SubscriptionIn(BaseModel):
    """A PushSubscription as the browser serialises it (``expirationTime`` is accepted and ignored)."""

    model_config = ConfigDict(extra="forbid")

    endpoint: Endpoint
    keys: SubscriptionKeys
    expirationTime: int | None = Field(default=None, ge=0)


class UnsubscribeIn(BaseModel):
    """Which browser stops receiving push."""

    model_config = ConfigDict(extra="forbid")

    endpoint: Endpoint


class ConfigOut(BaseModel):
    """What a page needs to offer notifications: the VAPID public key (null: no Web Push) and the channels."""

    vapid_public_key: str | None
    channels: list[str]


class DeliveryOut(BaseModel):
    """One channel of a notification."""

    channel: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None


class NotificationOut(BaseModel):
    """A notification and how its delivery went on each channel."""

    id: int
    rule: str
    user_id: int
    user_name: str
    title: str
    body: str
    life_safety: bool
    subject_type: str
    subject_id: str
    suppressed: str | None
    created_at: datetime
    deliveries: list[DeliveryOut]
