"""HTTP routes for public warnings (signed in; the public side is ``iolaos.cap.router``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from iolaos.auth.deps import PrincipalDep, SessionDep
from iolaos.config import Settings
from iolaos.errors import error_responses
from iolaos.kit.time import utcnow
from iolaos.warnings import service, templates
from iolaos.warnings.models import PublicWarning
from iolaos.warnings.schemas import CancelIn, PreviewOut, RevisionIn, WarningContent, WarningDraft, WarningOut

router = APIRouter(prefix="/api/v1/warnings", tags=["warnings"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def clock(request: Request) -> datetime:
    """Now, from ``app.state.clock`` when a test set one (time is an input), else the wall clock."""
    return getattr(request.app.state, "clock", utcnow)()


def settings_of(request: Request) -> Settings:
    """The application's settings."""
    return request.app.state.settings


Now = Annotated[datetime, Depends(clock)]
SettingsDep = Annotated[Settings, Depends(settings_of)]
ERRORS = error_responses(403, 404, 409, 422)


def _one(session: SessionDep, settings: Settings, warning: PublicWarning, now: datetime) -> WarningOut:
    return service.to_out(session, settings, [warning], now)[0]


@router.get("/templates", summary="Hazard templates and CAP code lists")
def get_templates(principal: PrincipalDep) -> dict:
    """Hazards (el + en), the response types that fit each, default instructions, urgency/severity/certainty."""
    principal.scope("warning.read")
    return templates.catalogue()


@router.post("", response_model=WarningOut, status_code=201, summary="Draft a public warning", responses=ERRORS)
def draft(session: SessionDep, principal: PrincipalDep, settings: SettingsDep, now: Now, body: WarningDraft
          ) -> WarningOut:
    """From an incident your organisation leads, or from the risk map; nothing is public until published."""
    return _one(session, settings, service.draft(session, settings, principal=principal, data=body, now=now), now)


@router.get("", response_model=list[WarningOut], summary="Warnings you may see, with their messages")
def list_warnings(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep, now: Now,
    status: Literal["draft", "published", "cancelled", "discarded"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[WarningOut]:
    """Newest first, each with every CAP message sent for it."""
    found = service.list_visible(session, principal, status=status, limit=limit, offset=offset)
    return service.to_out(session, settings, found, now)


@router.get("/{warning_id}", response_model=WarningOut, summary="One warning", responses=ERRORS)
def get_warning(session: SessionDep, principal: PrincipalDep, settings: SettingsDep, now: Now, warning_id: Id
                ) -> WarningOut:
    """One warning you may see; 404 otherwise."""
    return _one(session, settings, service.get_visible(session, principal, warning_id), now)


@router.put("/{warning_id}", response_model=WarningOut, summary="Edit a warning (a new revision)", responses=ERRORS)
def edit(session: SessionDep, principal: PrincipalDep, settings: SettingsDep, now: Now, warning_id: Id,
         body: WarningContent) -> WarningOut:
    """A draft's content, or the next Update of a published warning; any approval must be given again."""
    warning = service.edit(session, settings, principal=principal, warning_id=warning_id, data=body, now=now)
    return _one(session, settings, warning, now)


@router.get("/{warning_id}/preview", response_model=PreviewOut, summary="The CAP text publishing would send",
            responses=ERRORS)
def preview(session: SessionDep, principal: PrincipalDep, settings: SettingsDep, now: Now, warning_id: Id
            ) -> PreviewOut:
    """The message type, CAP XML (identifier not yet assigned) and the area as GeoJSON for the map."""
    msg_type, xml, revision = service.preview(session, settings, principal=principal, warning_id=warning_id,
                                              now=now)
    out = _one(session, settings, service.get_visible(session, principal, warning_id), now)
    return PreviewOut(msg_type=msg_type, revision=revision, xml=xml, area=out.area.geometry)


def _at_revision(step: Callable[..., PublicWarning], session: SessionDep, principal: PrincipalDep,
                 settings: Settings, now: datetime, warning_id: int, body: RevisionIn) -> WarningOut:
    """Approving and publishing act on exactly the revision the caller saw, and answer the warning as it now is."""
    warning = step(session, settings, principal=principal, warning_id=warning_id, revision=body.revision, now=now)
    return _one(session, settings, warning, now)


@router.post("/{warning_id}/approve", response_model=WarningOut, summary="Approve a revision (four-eyes)",
             responses=ERRORS)
def approve(session: SessionDep, principal: PrincipalDep, settings: SettingsDep, now: Now, warning_id: Id,
            body: RevisionIn) -> WarningOut:
    """Another authorised person approves exactly the revision they saw."""
    return _at_revision(service.approve, session, principal, settings, now, warning_id, body)


@router.post("/{warning_id}/publish", response_model=WarningOut, summary="Publish (Alert) or update (Update)",
             responses=ERRORS)
def publish(session: SessionDep, principal: PrincipalDep, settings: SettingsDep, now: Now, warning_id: Id,
            body: RevisionIn) -> WarningOut:
    """Send the revision you saw to the public feed: the first time as an Alert, then as an Update."""
    return _at_revision(service.publish, session, principal, settings, now, warning_id, body)


@router.post("/{warning_id}/cancel", response_model=WarningOut, summary="Cancel a warning (or discard a draft)",
             responses=ERRORS)
def cancel(session: SessionDep, principal: PrincipalDep, settings: SettingsDep, now: Now, warning_id: Id,
           body: CancelIn) -> WarningOut:
    """A published warning gets a Cancel message at once; a draft is discarded. The reason is journalled only."""
    warning = service.cancel(session, settings, principal=principal, warning_id=warning_id, reason=body.reason,
                             now=now)
    return _one(session, settings, warning, now)
