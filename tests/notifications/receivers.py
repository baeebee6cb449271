"""Real receivers for the notification tests: a Web Push service that checks VAPID and decrypts RFC 8291 payloads
with ``http_ece``, an SMTP server (aiosmtpd) and the fake SMS gateway on its own port."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import uvicorn
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from iolaos.notifications.fakesms import FakeSmsGateway


def b64url(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    """Decode base64url with or without padding."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Subscriber:
    """A browser's side of a push subscription: its key pair and auth secret (RFC 8291)."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def keys(self) -> dict[str, str]:
        """The subscription's keys as a browser sends them."""
        raw = self.private_key.public_key().public_bytes(serialization.Encoding.X962,
                                                         serialization.PublicFormat.UncompressedPoint)
        return {"p256dh": b64url(raw), "auth": b64url(self.auth)}

    def json(self) -> dict[str, Any]:
        """PushSubscription.toJSON()."""
        return {"endpoint": self.endpoint, "keys": self.keys, "expirationTime": None}


@dataclass
class PushService:
    """Push endpoints on one port: every POST is checked (VAPID) and decrypted with its subscriber's keys."""

    port: int
    vapid_public_key: str | None = None
    subscribers: dict[str, Subscriber] = field(default_factory=dict)
    received: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    status: int = 201

    def subscriber(self, name: str) -> Subscriber:
        """A new subscriber with its own key pair and endpoint."""
        sub = Subscriber(f"http://127.0.0.1:{self.port}/push/{name}", ec.generate_private_key(ec.SECP256R1()),
                         os.urandom(16))
        self.subscribers[name] = sub
        return sub

    def messages(self, name: str) -> list[dict[str, Any]]:
        """Decrypted payloads delivered to one subscriber."""
        return [r["payload"] for r in self.received if r["to"] == name]

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> int:
        name = path.rsplit("/", 1)[-1]
        sub = self.subscribers.get(name)
        if sub is None:
            return 404
        self._check_vapid(headers.get("authorization", ""), sub.endpoint)
        if headers.get("content-encoding") != "aes128gcm":
            self.problems.append(f"content-encoding {headers.get('content-encoding')}")
        plain = http_ece.decrypt(body, private_key=sub.private_key, auth_secret=sub.auth, version="aes128gcm")
        self.received.append({"to": name, "payload": json.loads(plain), "headers": headers, "size": len(body)})
        return self.status

    def _check_vapid(self, authorization: str, endpoint: str) -> None:
        """RFC 8292: ``vapid t=<JWT ES256>, k=<public key>``; the JWT's signature, audience and expiry must hold."""
        try:
            scheme, params = authorization.split(" ", 1)
            parts = dict(p.strip().split("=", 1) for p in params.split(","))
            header, claims, signature = parts["t"].split(".")
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(parts["k"]))
            raw = unb64url(signature)
            der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
            key.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
            body = json.loads(unb64url(claims))
            assert scheme == "vapid", scheme
            assert body["aud"] == f"http://127.0.0.1:{self.port}", body
            assert body["exp"] > time.time() and body["sub"].startswith(("mailto:", "https:")), body
            assert self.vapid_public_key is None or parts["k"] == self.vapid_public_key, "another VAPID key"
        except Exception as exc:
            self.problems.append(f"VAPID: {exc!r}")


def start_push_service() -> tuple[PushService, ThreadingHTTPServer]:
    """A push service on a free port, served from a thread."""
    service = PushService(free_port())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            try:
                status = service.handle(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            except Exception as exc:
                service.problems.append(f"decrypt: {exc!r}")
                status = 400
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", service.port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return service, server


@dataclass
class Mailbox:
    """What the SMTP server saw: every DATA (``seen``) and the messages it accepted."""

    seen: list[str] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    hold: set[int] = field(default_factory=set)  # 1-based numbers of DATA commands to hold without an answer
    holding: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email import message_from_bytes, policy

        mail = message_from_bytes(envelope.content, policy=policy.default)
        self.seen.append(mail["Message-ID"])
        if len(self.seen) in self.hold:
            self.holding.set()
            await asyncio.sleep(60)  # the sender is killed meanwhile: it never hears "250"
            return "451 too late"
        self.accepted.append({"to": envelope.rcpt_tos, "subject": str(mail["Subject"]), "id": mail["Message-ID"],
                              "body": mail.get_content()})
        return "250 OK"


def start_smtp() -> tuple[Mailbox, Controller]:
    """An SMTP server on a free port."""
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    return box, controller


def start_sms_gateway() -> tuple[FakeSmsGateway, uvicorn.Server, str]:
    """The fake SMS gateway on its own port; returns it, its server and its URL."""
    gateway = FakeSmsGateway()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(gateway.app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    return gateway, server, f"http://127.0.0.1:{port}/messages"
