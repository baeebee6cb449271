"""HTTP routes for ICS forms: ICS-204 assignment lists and ICS-211 check-in lists (JSON and PDF).

The language is ``lang`` when given, else the request's Accept-Language (default: the default_language setting).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from iolaos import i18n
from iolaos.auth.deps import PrincipalDep, SessionDep
from iolaos.documents import ics204, ics211
from iolaos.errors import InvalidInput, error_responses
from iolaos.kit import strict

router = APIRouter(prefix="/api/v1/documents", tags=["documents"])
Lang = Annotated[Literal["el", "en"] | None, Query(description="el or en; default: Accept-Language")]
ZoneCode = Annotated[str | None, Query(max_length=40, description="one division (zone code) only")]
At = Annotated[strict.Instant | None, Query(description="only the operational period under way at this moment")]
PatrolId = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="one patrol only")]
PDF = {200: {"content": {"application/pdf": {}}}, **error_responses(401, 403, 404, 422)}


def _pdf(body: bytes, name: str) -> Response:
    return Response(body, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'})


@router.get("/ics204", summary="ICS-204 assignment lists (JSON)", responses=error_responses(401, 403, 422))
def ics204_json(session: SessionDep, principal: PrincipalDep, day: strict.Day, lang: Lang = None, zone: ZoneCode = None,
                at: At = None) -> dict[str, Any]:
    """One sheet per division (zone) and operational period (shift) of ``day``, for the patrols you may see."""
    return ics204.assignment_list(session, principal, day=day, lang=lang or i18n.current_language(), zone_code=zone,
                                  at=at)


@router.get("/ics204.pdf", summary="ICS-204 assignment lists (PDF)", response_class=Response, responses=PDF)
def ics204_pdf(request: Request, session: SessionDep, principal: PrincipalDep, day: strict.Day, lang: Lang = None,
               zone: ZoneCode = None, at: At = None) -> Response:
    """The same sheets as a printable A4 PDF with page X of Y and a signature block, in Greek or English."""
    doc = ics204.assignment_list(session, principal, day=day, lang=lang or i18n.current_language(), zone_code=zone,
                                 at=at)
    return _pdf(ics204.render(doc, request.app.state.settings.pdf_font), "ics204.pdf")


def _check_in(session: Any, principal: Any, day: strict.Day | None, patrol_id: int | None, lang: str | None
              ) -> dict[str, Any]:
    if day is None and patrol_id is None:
        raise InvalidInput("give a day or a patrol_id", code="invalid_input")
    return ics211.check_in_list(session, principal, day=day, patrol_id=patrol_id,
                                lang=lang or i18n.current_language())


@router.get("/ics211", summary="ICS-211 check-in list (JSON)", responses=error_responses(401, 403, 404, 422))
def ics211_json(session: SessionDep, principal: PrincipalDep, day: strict.Day | None = None, patrol_id: PatrolId = None,
                lang: Lang = None) -> dict[str, Any]:
    """Everyone checked in on a day's patrols you may see, or on one patrol, with agency, position and times."""
    return _check_in(session, principal, day, patrol_id, lang)


@router.get("/ics211.pdf", summary="ICS-211 check-in list (PDF)", response_class=Response, responses=PDF)
def ics211_pdf(request: Request, session: SessionDep, principal: PrincipalDep, day: strict.Day | None = None,
               patrol_id: PatrolId = None, lang: Lang = None) -> Response:
    """The same list as a printable landscape A4 PDF."""
    doc = _check_in(session, principal, day, patrol_id, lang)
    return _pdf(ics211.render(doc, request.app.state.settings.pdf_font), "ics211.pdf")
