"""HTTP routes for ICS documents."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from iolaos.auth.deps import PrincipalDep, SessionDep
from iolaos.documents import ics204
from iolaos.errors import error_responses
from iolaos.kit import strict

router = APIRouter(prefix="/api/v1/documents", tags=["documents"])


@router.get("/ics204", summary="ICS-204 assignment list (JSON)", responses=error_responses(401, 403, 422))
def ics204_json(session: SessionDep, principal: PrincipalDep, day: strict.Day, lang: Literal["el", "en"] = "el"
                ) -> dict[str, Any]:
    """The patrols of ``day`` you may see, with crews and times."""
    return ics204.assignment_list(session, principal, day=day, lang=lang)


@router.get("/ics204.pdf", summary="ICS-204 assignment list (PDF)", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}, **error_responses(401, 403, 422)})
def ics204_pdf(request: Request, session: SessionDep, principal: PrincipalDep, day: strict.Day,
               lang: Literal["el", "en"] = "el") -> Response:
    """The same list as a printable landscape A4 PDF, in Greek or English."""
    doc = ics204.assignment_list(session, principal, day=day, lang=lang)
    body = ics204.render(doc, request.app.state.settings.pdf_font)
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": 'inline; filename="ics204.pdf"'})
