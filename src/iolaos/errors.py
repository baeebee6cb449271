"""One error shape for every failure: ``{"error": "<code>", "detail": …}`` with the right status."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from iolaos import i18n
from iolaos.i18n.errors import localise

log = logging.getLogger(__name__)


class ErrorOut(BaseModel):
    """The one error shape: a machine-readable code and a human-readable (or structured) detail."""

    error: str = Field(description="machine-readable code, e.g. not_found, validation_error")
    detail: Any = Field(description="what went wrong: a message, or a list/object for structured errors")


_ERROR_MEANINGS = {
    401: "No valid bearer token (sign in first)",
    403: "Your role may not do this",
    404: "No such object, or it is outside your scope",
    409: "Clashes with the current state",
    422: "Invalid input",
    429: "Too many attempts; see Retry-After",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries declaring that these statuses answer in the one error shape."""
    return {status: {"model": ErrorOut, "description": _ERROR_MEANINGS.get(status, "Error")} for status in statuses}


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


def error_body(code: str, detail: Any, lang: str | None = None) -> dict[str, Any]:
    """The single wire shape of an error, its detail in ``lang`` (default: the request's Accept-Language)."""
    return {"error": code, "detail": jsonable_encoder(localise(code, detail, lang))}


def _lang(request: Request) -> str:
    """The language of an error answer: Accept-Language, else the default_language setting."""
    settings = getattr(request.app.state, "settings", None)
    return i18n.negotiate(request.headers.get("accept-language"), getattr(settings, "default_language", "el"))


def _validation_detail(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors without the echoed input (it may hold secrets such as passwords)."""
    return [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]


def _document_error_shape(schema: dict[str, Any]) -> None:
    """Make the OpenAPI document tell the truth about errors.

    FastAPI documents its own 422 shape, which the handler below replaces; and any operation may
    answer an error status it does not list (405, 413, 503…), always in the one shape. So every 422
    is documented as ``ErrorOut`` and every operation gets a ``default`` response of ``ErrorOut``.
    """
    ref = {"$ref": "#/components/schemas/ErrorOut"}
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("ErrorOut", ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}"))
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = {"description": _ERROR_MEANINGS[422],
                                    "content": {"application/json": {"schema": ref}}}
            responses.setdefault("default", {"description": "Error, in the one error shape",
                                             "content": {"application/json": {"schema": ref}}})
    if "HTTPValidationError" not in str(schema.get("paths")):
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)


def install_error_handlers(app: FastAPI) -> None:
    """Route every exception type to the single error shape, and document that shape in the OpenAPI."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()  # FastAPI's own openapi() also caches it in app.openapi_schema
            _document_error_shape(schema)
            return schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(IolaosError)
    async def _domain(request: Request, exc: IolaosError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.detail, _lang(request)), status_code=exc.status,
                            headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body("validation_error", _validation_detail(exc), _lang(request)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        return JSONResponse(
            error_body(code, exc.detail, _lang(request)), status_code=exc.status_code,
            headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(OperationalError)
    async def _db_down(_: Request, exc: OperationalError) -> JSONResponse:
        return _database_unavailable(exc)

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(_: Request, exc: PoolTimeout) -> JSONResponse:
        return _database_unavailable(exc)

    @app.exception_handler(DBAPIError)
    async def _db_error(_: Request, exc: DBAPIError) -> JSONResponse:
        if database_unavailable(exc):
            return _database_unavailable(exc)
        log.exception("database error")
        return JSONResponse(error_body("database_error", "the database refused the operation"), 500)

    # Starlette calls this one for exceptions that escape every middleware (e.g. the idempotency middleware's
    # own database reads), outside the handlers above: a database outage must answer 503 there too.
    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        if database_unavailable(exc):
            return _database_unavailable(exc)
        log.exception("unhandled error")
        return JSONResponse(error_body("internal_error", "unexpected server error"), status_code=500)


def database_unavailable(exc: BaseException, _seen: frozenset[int] = frozenset()) -> bool:
    """True when ``exc`` means the database cannot be reached right now (down, restarting, connection lost,
    pool exhausted, statement timed out), as opposed to refusing this particular operation."""
    if isinstance(exc, OperationalError | PoolTimeout):
        return True
    # e.g. InterfaceError "connection already closed": SQLAlchemy flags it as a disconnect.
    if isinstance(exc, DBAPIError) and bool(exc.connection_invalidated):
        return True
    # The outage may reach the last handler wrapped: in an exception group (anyio, a dependency's exit) or as the
    # cause of what a cleanup step raised while the connection was gone.
    if isinstance(exc, BaseExceptionGroup):
        return any(database_unavailable(inner, _seen | {id(exc)}) for inner in exc.exceptions)
    cause = exc.__cause__ or exc.__context__
    return cause is not None and id(cause) not in _seen and database_unavailable(cause, _seen | {id(exc)})


def _database_unavailable(exc: BaseException) -> JSONResponse:
    """503 ``database_unavailable`` with Retry-After: the client may retry; nothing was half-written (the
    request's transaction, journal included, was rolled back or never began)."""
    log.warning("database unavailable: %s", type(getattr(exc, "orig", None) or exc).__name__)
    return JSONResponse(
        error_body("database_unavailable", "the database is not reachable; try again shortly"),
        status_code=503,
        headers={"Retry-After": "2"},
    )
