"""HTTP routes of notifications: one's own channels and push subscriptions, and the delivery status list."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from iolaos.auth.deps import PrincipalDep, SessionDep
from iolaos.errors import error_responses
from iolaos.notifications import service
from iolaos.notifications.cli import public_key_from_file
from iolaos.notifications.schemas import (
    ConfigOut,
    NotificationOut,
    PreferencesIn,
    PreferencesOut,
    SubscriptionIn,
    UnsubscribeIn,
)

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
WRITE = error_responses(401, 422)
READ = error_responses(401, 422)


@router.get("/config", response_model=ConfigOut, summary="Push key and channels", responses=READ)
def config(request: Request, principal: PrincipalDep) -> ConfigOut:
    """The VAPID public key browsers subscribe with (null when Web Push is not configured)."""
    settings = request.app.state.settings
    path = settings.notify_vapid_private_key
    key = public_key_from_file(Path(path)) if path is not None and Path(path).exists() else None
    channels = [c for c, on in (("push", key is not None), ("email", bool(settings.notify_smtp_host)),
                                ("sms", bool(settings.notify_sms_url))) if on]
    return ConfigOut(vapid_public_key=key, channels=channels)


@router.get("/preferences", response_model=PreferencesOut, summary="My channels", responses=READ)
def get_preferences(request: Request, session: SessionDep, principal: PrincipalDep) -> PreferencesOut:
    """The caller's channels and quiet hours."""
    return service.preferences(session, principal, request.app.state.settings)


@router.put("/preferences", response_model=PreferencesOut, summary="Choose my channels", responses=WRITE)
def put_preferences(request: Request, session: SessionDep, principal: PrincipalDep,
                    body: PreferencesIn) -> PreferencesOut:
    """Choose channels and quiet hours (SOS and other life-safety notices still come through)."""
    return service.set_preferences(session, principal, request.app.state.settings, channels=list(body.channels),
                                   quiet_start=body.quiet_start, quiet_end=body.quiet_end)


@router.post("/subscriptions", status_code=204, summary="Register this browser for push", responses=WRITE)
def subscribe(session: SessionDep, principal: PrincipalDep, body: SubscriptionIn) -> Response:
    """Store the browser's push subscription for the caller."""
    service.subscribe(session, principal, endpoint=body.endpoint, p256dh=body.keys.p256dh, auth=body.keys.auth)
    return Response(status_code=204)


@router.post("/subscriptions/remove", status_code=204, summary="Stop push to this browser", responses=WRITE)
def unsubscribe(session: SessionDep, principal: PrincipalDep, body: UnsubscribeIn) -> Response:
    """Forget the caller's subscription for this endpoint (nothing happens when there is none)."""
    service.unsubscribe(session, principal, endpoint=body.endpoint)
    return Response(status_code=204)


@router.get("", response_model=list[NotificationOut], summary="Notifications and their delivery", responses=READ)
def list_notifications(session: SessionDep, principal: PrincipalDep,
                       mine: Annotated[bool, Query(description="only the caller's own")] = False,
                       limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[NotificationOut]:
    """Newest first: the caller's own, or those of people whose organisations the caller may read."""
    return service.list_visible(session, principal, mine=mine, limit=limit)
