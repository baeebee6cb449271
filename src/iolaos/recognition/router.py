"""HTTP routes for contribution statements: JSON, or a printable page with ``?format=html``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse

from iolaos.auth.deps import PrincipalDep, SessionDep
from iolaos.errors import InvalidInput, error_responses
from iolaos.kit.strict import Instant
from iolaos.kit.time import as_utc, utcnow
from iolaos.recognition import page, service
from iolaos.recognition.schemas import OrganisationStatement, VolunteerStatement

router = APIRouter(prefix="/api/v1/recognition", tags=["recognition"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Format = Annotated[Literal["json", "html"], Query(alias="format", description="json, or html for a printable page")]
Lang = Annotated[Literal["el", "en"], Query(description="language of the printable page")]
RESPONSES: dict[int | str, dict[str, Any]] = {
    **error_responses(401, 403, 404, 422),
    200: {"description": "The statement (JSON), or with format=html a printable page",
          "content": {"text/html": {"schema": {"type": "string"}}}},
}
EARLIEST, LATEST = 2000, 2999  # years a period may name


def _moment(value: datetime | None, name: str) -> datetime | None:
    if value is not None and not EARLIEST <= value.year <= LATEST:
        raise InvalidInput(f"{name} must lie between the years {EARLIEST} and {LATEST}", code="invalid_range")
    return as_utc(value) if value is not None else None


def period(since: Annotated[Instant | None, Query(description="from (inclusive); default: the start")] = None,
           until: Annotated[Instant | None, Query(description="to (exclusive); default: now")] = None
           ) -> service.Period:
    """The journal period a statement covers."""
    start, end = _moment(since, "since"), _moment(until, "until") or utcnow()
    if start is not None and start >= end:
        raise InvalidInput("since must come before until", code="invalid_range")
    return service.Period(start, end)


PeriodDep = Annotated[service.Period, Depends(period)]


@router.get("/volunteers/{volunteer_id}", response_model=VolunteerStatement, responses=RESPONSES,
            summary="A volunteer's contribution statement")
def volunteer_statement(session: SessionDep, principal: PrincipalDep, volunteer_id: Id, span: PeriodDep,
                        fmt: Format = "json", lang: Lang = "el") -> Any:
    """Hours on patrol, high-risk days covered and sightings confirmed by the Fire Service, from the journal."""
    statement = service.volunteer_statement(session, principal=principal, volunteer_id=volunteer_id, period=span)
    return HTMLResponse(page.volunteer_page(statement, lang)) if fmt == "html" else statement


@router.get("/organisations/{org_id}", response_model=OrganisationStatement, responses=RESPONSES,
            summary="An organisation's contribution statement")
def organisation_statement(session: SessionDep, principal: PrincipalDep, org_id: Id, span: PeriodDep,
                           fmt: Format = "json", lang: Lang = "el") -> Any:
    """The organisation's totals and one line per contributing volunteer, from the journal."""
    statement = service.organisation_statement(session, principal=principal, org_id=org_id, period=span)
    return HTMLResponse(page.organisation_page(statement, lang)) if fmt == "html" else statement
