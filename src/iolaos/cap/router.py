"""Public CAP 1.2 warnings, no token: the Atom feed, a JSON index and each message ever sent.

Only messages that an authorised person published as a warning (``iolaos.warnings``) appear here; reports and
incidents never do.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import Response

from iolaos.auth.deps import SessionDep
from iolaos.cap import feed
from iolaos.cap.feed import CAP_TYPE
from iolaos.errors import error_responses
from iolaos.warnings import service as warnings
from iolaos.warnings.router import Now, SettingsDep

router = APIRouter(prefix="/api/v1/cap", tags=["cap"])
CACHE = "public, no-cache"  # may be stored, but revalidated every time: cheap with If-None-Match
IfNoneMatch = Annotated[str | None, Header(description="an ETag from an earlier answer: 304 when unchanged")]


def _entries(session: SessionDep, settings: SettingsDep, now: Now) -> list[feed.Entry]:
    return [feed.Entry(m.identifier, m.sender, m.sent, m.expires, m.msg_type, m.status, state, m.headline_el,
                       m.headline_en, [r for r in m.references.split("\n") if r], warnings.message_url(m.identifier))
            for m, state in warnings.current_messages(session, settings, now)]


def _answer(body: str, media_type: str, if_none_match: str | None) -> Response:
    tag = feed.etag(body)
    headers = {"ETag": tag, "Cache-Control": CACHE}
    if feed.not_modified(if_none_match, tag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get("/feed.atom", summary="Atom feed of current CAP messages", response_class=Response,
            responses={200: {"content": {"application/atom+xml": {}}}, 304: {"description": "Not modified"}})
def atom_feed(request: Request, session: SessionDep, settings: SettingsDep, now: Now,
              if_none_match: IfNoneMatch = None) -> Response:
    """One entry per warning in force (its latest message), and cancelled or expired ones for a while after."""
    entries = _entries(session, settings, now)
    body = feed.atom(entries, base=_base(request), self_url=str(request.url_for("atom_feed")),
                     updated=warnings.latest_sent(session))
    return _answer(body, "application/atom+xml", if_none_match)


@router.get("/index.json", summary="JSON index of current CAP messages", response_class=Response,
            responses={200: {"content": {"application/json": {}}}, 304: {"description": "Not modified"}})
def json_index(request: Request, session: SessionDep, settings: SettingsDep, now: Now,
               if_none_match: IfNoneMatch = None) -> Response:
    """The feed's entries as JSON: identifier, sender, sent, expires, msgType, references, state, URL."""
    document = feed.index(_entries(session, settings, now), base=_base(request),
                          updated=warnings.latest_sent(session))
    return _answer(feed.dumps(document), "application/json", if_none_match)


@router.get("/messages/{identifier}.xml", summary="One CAP message", response_class=Response,
            responses={200: {"content": {CAP_TYPE: {}}}, 304: {"description": "Not modified"},
                       **error_responses(404, 422)})
def cap_message(session: SessionDep, identifier: Annotated[str, Path(max_length=120, pattern=r"^[A-Za-z0-9._:-]+$")],
                if_none_match: IfNoneMatch = None) -> Response:
    """Any message ever published, as sent (messages never change, so neither does the ETag)."""
    return _answer(warnings.message(session, identifier).xml, CAP_TYPE, if_none_match)
