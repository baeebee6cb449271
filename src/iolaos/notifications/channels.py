"""Senders: Web Push (RFC 8030/8291/8292 through pywebpush), e-mail over SMTP, and an HTTP SMS gateway.

A sender returns a short detail on success, raises ``SendError`` (``permanent`` or not) on failure, and ``Skip``
when there is nothing to send to (no address, no subscription). It never touches the database: the worker does.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import httpx

from iolaos.config import Settings


class SendError(Exception):
    """A failed send; ``permanent`` ones are not tried again."""

    def __init__(self, detail: str, *, permanent: bool = False) -> None:
        super().__init__(detail)
        self.permanent = permanent


class Skip(Exception):
    """Nothing to send to on this channel (no e-mail address, no phone, no push subscription)."""


@dataclass
class Subscription:
    """A push subscription as the sender needs it."""

    id: int
    endpoint: str
    p256dh: str
    auth: str


@dataclass
class Message:
    """One delivery's content and addresses, read by the worker when it claims the delivery."""

    delivery_id: int
    notification_id: int
    title: str
    body: str
    url: str
    life_safety: bool
    email: str | None = None
    phone: str | None = None
    subscriptions: list[Subscription] = field(default_factory=list)
    gone: list[int] = field(default_factory=list)  # push subscriptions the push service says no longer exist

    @property
    def reference(self) -> str:
        """A stable reference of this delivery, sent along so that a receiver can recognise a repeat."""
        return f"iolaos-n{self.notification_id}-d{self.delivery_id}"


class Sender(Protocol):
    """What every channel offers."""

    def send(self, message: Message) -> str:
        """Send; a short detail on success."""
        ...


def push_payload(message: Message) -> dict[str, object]:
    """What a push carries (docs/notifications.md, privacy): a title, a short text, a link and a tag; no location,
    no names, no free text typed by anyone."""
    return {"title": message.title, "body": message.body, "url": message.url,
            "tag": f"iolaos-{message.notification_id}", "life_safety": message.life_safety}


class PushSender:
    """Web Push with VAPID: each of the user's subscriptions gets the encrypted payload."""

    def __init__(self, settings: Settings) -> None:
        from py_vapid import Vapid

        assert settings.notify_vapid_private_key is not None
        self.vapid = Vapid.from_file(str(settings.notify_vapid_private_key))
        self.subject = settings.notify_vapid_subject
        self.ttl = settings.notify_push_ttl
        self.timeout = settings.notify_send_timeout

    def send(self, message: Message) -> str:
        """Send to every subscription; sent when at least one push service accepted it."""
        from pywebpush import WebPushException, webpush

        if not message.subscriptions:
            raise Skip("no push subscription")
        accepted, transient, problems = 0, 0, []
        data = json.dumps(push_payload(message), ensure_ascii=False)
        for sub in message.subscriptions:
            try:
                # Topic: a push service replaces a not yet delivered message of the same topic (RFC 8030 §5.4).
                webpush({"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}}, data=data,
                        vapid_private_key=self.vapid, vapid_claims={"sub": self.subject}, ttl=self.ttl,
                        timeout=self.timeout, headers={"Topic": f"n{message.notification_id}",
                                                       "Urgency": "high" if message.life_safety else "normal"})
                accepted += 1
            except WebPushException as exc:
                status = exc.response.status_code if exc.response is not None else None
                problems.append(f"{status or 'no answer'}")
                if status in (404, 410):
                    message.gone.append(sub.id)
                elif status is None or status in (408, 429) or status >= 500:
                    transient += 1
            except Exception as exc:  # connection refused, timeout, TLS: the push service may be back later
                problems.append(type(exc).__name__)
                transient += 1
        if accepted:
            return f"pushed to {accepted}/{len(message.subscriptions)} device(s)"
        raise SendError("push refused: " + ", ".join(problems), permanent=transient == 0)


class EmailSender:
    """Plain-text e-mail over SMTP (optionally STARTTLS and a login)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, message: Message) -> str:
        """One e-mail; a 5xx answer is permanent, anything else is tried again."""
        s = self.settings
        if not message.email:
            raise Skip("no e-mail address")
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = s.notify_smtp_from, message.email, message.title
        # One Message-ID per delivery, the same on every attempt, so receivers can recognise a repeat.
        mail["Message-ID"] = f"<{message.reference}@iolaos>"
        mail.set_content(f"{message.body}\n\n{s.notify_base_url.rstrip('/')}{message.url}\n")
        try:
            with smtplib.SMTP(s.notify_smtp_host or "localhost", s.notify_smtp_port,
                              timeout=s.notify_send_timeout) as smtp:
                if s.notify_smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if s.notify_smtp_username:
                    smtp.login(s.notify_smtp_username, s.notify_smtp_password or "")
                smtp.send_message(mail)
        except smtplib.SMTPResponseException as exc:
            raise SendError(f"SMTP {exc.smtp_code}", permanent=500 <= exc.smtp_code < 600) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise SendError(f"SMTP refused {codes}", permanent=all(500 <= c < 600 for c in codes)) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(f"SMTP {type(exc).__name__}") from None
        return "e-mail accepted"


class SmsSender:
    """An SMS gateway over HTTP: POST of a JSON body built from ``IOLAOS_NOTIFY_SMS_BODY``."""

    def __init__(self, settings: Settings) -> None:
        url = settings.notify_sms_url or ""
        # 'fake': the fake gateway the service itself serves (notifications/fakesms.py) for the demo.
        self.url = f"{settings.notify_base_url.rstrip('/')}/fake-sms/messages" if url == "fake" else url
        self.body = settings.notify_sms_body
        self.headers = settings.notify_sms_headers
        self.timeout = settings.notify_send_timeout

    def send(self, message: Message) -> str:
        """One text; 4xx answers (but 408 and 429) are permanent."""
        if not message.phone:
            raise Skip("no phone number")
        text = f"{message.title}: {message.body}"[:320]
        values = {"to": message.phone, "text": text, "reference": message.reference}
        body = {key: template.format(**values) for key, template in self.body.items()}
        try:
            resp = httpx.post(self.url, json=body, headers=self.headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise SendError(f"gateway {type(exc).__name__}") from None
        if resp.status_code >= 300:
            permanent = 400 <= resp.status_code < 500 and resp.status_code not in (408, 429)
            raise SendError(f"gateway {resp.status_code}", permanent=permanent)
        return f"gateway {resp.status_code}"


def build_senders(settings: Settings) -> dict[str, Sender]:
    """The configured channels (a channel without configuration is left out; its deliveries are skipped)."""
    senders: dict[str, Sender] = {}
    if settings.notify_vapid_private_key is not None and Path(settings.notify_vapid_private_key).exists():
        senders["push"] = PushSender(settings)
    if settings.notify_smtp_host:
        senders["email"] = EmailSender(settings)
    if settings.notify_sms_url:
        senders["sms"] = SmsSender(settings)
    return senders
