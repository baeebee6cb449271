"""One error shape for every failure: ``{"error": "<code>", "detail": …}`` with the right status."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class IolaosError(Exception):
    """A domain error that knows its HTTP status and machine-readable code."""

    status = 400
    code = "bad_request"

    def __init__(self, detail: Any = None, *, code: str | None = None, headers: dict | None = None):
        super().__init__(detail)
        self.detail = detail if detail is not None else self.code.replace("_", " ")
        if code:
            self.code = code
        self.headers = headers or {}


class InvalidInput(IolaosError):
    """The request is well-formed but its content breaks a rule (HTTP 422)."""

    status = 422
    code = "invalid_input"


class NotFound(IolaosError):
    """The object does not exist, or the caller may not know that it does (HTTP 404)."""

    status = 404
    code = "not_found"


class Conflict(IolaosError):
    """The change clashes with the current state (HTTP 409)."""

    status = 409
    code = "conflict"


class Unauthenticated(IolaosError):
    """No valid credentials were presented (HTTP 401)."""

    status = 401
    code = "unauthenticated"


class Forbidden(IolaosError):
    """The caller is known but their role may not do this (HTTP 403)."""

    status = 403
    code = "forbidden"


class TooManyRequests(IolaosError):
    """Rate limit reached (HTTP 429, with Retry-After)."""

    status = 429
    code = "too_many_requests"


class ServiceUnavailable(IolaosError):
    """A backing service is down; try again shortly (HTTP 503)."""

    status = 503
    code = "service_unavailable"


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
}


def error_body(code: str, detail: Any) -> dict[str, Any]:
    """The single wire shape of an error."""
    return {"error": code, "detail": jsonable_encoder(detail)}


def _validation_detail(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors without the echoed input (it may hold secrets such as passwords)."""
    return [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]


def install_error_handlers(app: FastAPI) -> None:
    """Route every exception type to the single error shape."""

    @app.exception_handler(IolaosError)
    async def _domain(_: Request, exc: IolaosError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.detail), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body("validation_error", _validation_detail(exc)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        return JSONResponse(
            error_body(code, exc.detail), status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(OperationalError)
    async def _db_down(_: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", type(exc.orig).__name__)
        return JSONResponse(
            error_body("database_unavailable", "the database is not reachable; try again shortly"),
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(DBAPIError)
    async def _db_error(_: Request, exc: DBAPIError) -> JSONResponse:
        log.exception("database error")
        return JSONResponse(error_body("database_error", "the database refused the operation"), 500)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse(error_body("internal_error", "unexpected server error"), status_code=500)
