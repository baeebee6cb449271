"""Accept-Language → the current request's language (a context variable every later layer reads)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from iolaos import i18n


class LanguageMiddleware:
    """Sets the request's language from ``Accept-Language`` (default: the ``default_language`` setting) and
    answers with ``Content-Language`` and ``Vary: Accept-Language``."""

    def __init__(self, app: ASGIApp, default: str) -> None:
        self.app = app
        self.default = default if default in i18n.LANGUAGES else "el"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        header = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"accept-language"), None)
        lang = i18n.negotiate(header, self.default)
        token = i18n.set_language(lang)

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                names = {k.lower() for k, _ in headers}
                if b"content-language" not in names:
                    headers.append((b"content-language", lang.encode()))
                headers.append((b"vary", b"Accept-Language"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_language if scope["type"] == "http" else send)
        finally:
            i18n.reset_language(token)
