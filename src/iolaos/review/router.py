"""HTTP routes for reviewers: the audit journal, its export and verification, ICS-214 activity logs."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel

from iolaos import i18n
from iolaos.auth.deps import PrincipalDep, SessionDep
from iolaos.errors import InvalidInput
from iolaos.journal.service import verify_chain
from iolaos.kit.strict import Instant
from iolaos.kit.time import utcnow
from iolaos.review import activity, pdf, service

router = APIRouter(prefix="/api/v1", tags=["review"])
MAX_PERIOD = timedelta(days=31)


def audit_filter(
    since: Instant | None = None,
    until: Instant | None = None,
    organisation_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    actor_user_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    subject_type: Annotated[str | None, Query(max_length=40)] = None,
    subject_id: Annotated[str | None, Query(max_length=80)] = None,
    action: Annotated[str | None, Query(max_length=80, description="exact, or a prefix ending in *")] = None,
) -> service.AuditFilter:
    """The filters shared by the journal listing and its export."""
    return service.AuditFilter(since, until, organisation_id, actor_user_id, subject_type, subject_id, action)


FilterDep = Annotated[service.AuditFilter, Depends(audit_filter)]


class AuditPage(BaseModel):
    """A page of audit records and the cursor for the next one."""

    records: list[dict[str, Any]]
    next_cursor: int | None


class VerifyOut(BaseModel):
    """The state of the hash chain."""

    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    broken_seq: int | None
    reason: str | None


@router.get("/audit", response_model=AuditPage, summary="Audit journal, filtered")
def list_audit(session: SessionDep, principal: PrincipalDep, flt: FilterDep,
               cursor: Annotated[int, Query(ge=0, le=2**62)] = 0,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> AuditPage:
    """Records in order, for organisations in your audit scope; pass next_cursor back for the next page."""
    records, next_cursor = service.page(session, principal, flt, after=cursor, limit=limit)
    personal = service.sees_personal_data(principal)
    return AuditPage(records=[service.record_out(r, personal=personal) for r in records], next_cursor=next_cursor)


@router.get("/audit/export.csv", summary="Audit journal as CSV", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}}})
def export_audit(session: SessionDep, principal: PrincipalDep, flt: FilterDep) -> StreamingResponse:
    """The same records as /audit, as CSV (UTF-8, header row)."""
    rows = list(service.csv_lines(service.iter_all(session, principal, flt),
                                  personal=service.sees_personal_data(principal)))
    return StreamingResponse(iter(rows), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="iolaos-audit.csv"'})


@router.get("/audit/verify", response_model=VerifyOut, summary="Verify the hash chain")
def verify(session: SessionDep, principal: PrincipalDep) -> VerifyOut:
    """Walk the whole chain and report the first broken record, if any."""
    principal.scope("audit.read")
    result = verify_chain(session)
    return VerifyOut(ok=result.ok, checked=result.checked, head_seq=result.head_seq, head_hash=result.head_hash,
                     broken_seq=result.broken_seq, reason=result.reason)


def _period(since: Instant | None, until: Instant | None) -> tuple[Any, Any]:
    until = until or utcnow()
    since = since or until - timedelta(hours=24)
    if until <= since or until - since > MAX_PERIOD:
        raise InvalidInput("the operational period must be positive and at most 31 days", code="invalid_range")
    return since, until


Lang = Annotated[Literal["el", "en"] | None, Query(description="el or en; default: Accept-Language")]
OrgId = Annotated[int, Query(ge=1, le=2**31 - 1)]
UserId = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="one person of the unit only")]


def _log(session: Any, principal: Any, organisation_id: int, user_id: int | None, since: Any, until: Any,
         lang: str | None) -> dict[str, Any]:
    start, end = _period(since, until)
    return activity.activity_log(session, principal, organisation_id=organisation_id, since=start, until=end,
                                 lang=lang or i18n.current_language(), user_id=user_id)


@router.get("/activity-log", summary="ICS-214 activity log (JSON)")
def activity_log(session: SessionDep, principal: PrincipalDep, organisation_id: OrgId, user_id: UserId = None,
                 since: Instant | None = None, until: Instant | None = None,
                 lang: Lang = None) -> dict[str, Any]:
    """A unit's (or one person's) notable activities in an operational period (default: the last 24 hours)."""
    return _log(session, principal, organisation_id, user_id, since, until, lang)


@router.get("/activity-log.pdf", summary="ICS-214 activity log (PDF)", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def activity_log_pdf(request: Request, session: SessionDep, principal: PrincipalDep, organisation_id: OrgId,
                     user_id: UserId = None, since: Instant | None = None, until: Instant | None = None,
                     lang: Lang = None) -> Response:
    """The same log as a printable A4 PDF with page X of Y and a signature block, in Greek or English."""
    log = _log(session, principal, organisation_id, user_id, since, until, lang)
    body = pdf.render_activity_log(log, request.app.state.settings.pdf_font)
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": 'inline; filename="ics214.pdf"'})
