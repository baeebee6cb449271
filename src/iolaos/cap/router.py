"""Public CAP 1.2 warnings: fire-risk alerts per zone, incident alerts, and their Atom feed (no token)."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from iolaos.auth.deps import SessionDep
from iolaos.cap import feed, service
from iolaos.cap.feed import CAP_TYPE
from iolaos.errors import error_responses
from iolaos.kit import strict
from iolaos.kit.time import utcnow

router = APIRouter(prefix="/api/v1/cap", tags=["cap"])
ATHENS = ZoneInfo("Europe/Athens")
Day = Annotated[strict.Day | None, Query(alias="date", description="YYYY-MM-DD; today (Europe/Athens) by default")]


def _day(day: date | None) -> date:
    return day or utcnow().astimezone(ATHENS).date()


@router.get("/feed.atom", summary="Atom feed of current CAP warnings", response_class=Response,
            responses={200: {"content": {"application/atom+xml": {}}}, **error_responses(422)})
def atom_feed(request: Request, session: SessionDep, day: Day = None) -> Response:
    """Zones at fire-risk 4–5 on the day and open incidents that call for a public warning."""
    base = str(request.url_for("atom_feed")).rsplit("/", 1)[0]
    body = feed.atom(service.entries(session, _day(day)), base=base, self_url=str(request.url), now=utcnow())
    return Response(body, media_type="application/atom+xml")


@router.get("/risk/{code}", summary="CAP fire-risk alert of a zone", response_class=Response,
            responses={200: {"content": {CAP_TYPE: {}}}, **error_responses(404, 422)})
def risk_alert(session: SessionDep, code: Annotated[str, Path(max_length=40)], day: Day = None) -> Response:
    """The zone's CAP alert when its category on the day is 4 or 5; 404 otherwise."""
    return Response(service.risk_alert(session, code, _day(day)), media_type=CAP_TYPE)


@router.get("/incidents/{incident_id}", summary="CAP alert of an incident", response_class=Response,
            responses={200: {"content": {CAP_TYPE: {}}}, **error_responses(404, 422)})
def incident_alert(session: SessionDep, incident_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> Response:
    """An open wildfire or smoke of high/critical severity as a public CAP alert; other incidents answer 404."""
    return Response(service.incident_alert(session, incident_id), media_type=CAP_TYPE)
