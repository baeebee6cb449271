"""Rules for public warnings: who may warn, the draft → publish → update → cancel lifecycle, and the public view.

Nothing else reaches the public feed: a CAP message exists only as a ``WarningMessage`` written here by an
explicit, journalled publication (docs/warnings.md).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select
from sqlmodel import Session, col

from iolaos.auth.permissions import Scope
from iolaos.auth.principal import Principal, organisation_ids
from iolaos.cap import message as cap
from iolaos.config import Settings
from iolaos.errors import Conflict, Forbidden, InvalidInput, NotFound
from iolaos.incidents import service as incidents
from iolaos.journal import service as journal
from iolaos.kit.geo import to_geojson
from iolaos.kit.ids import saved_id
from iolaos.organisations.models import Organisation
from iolaos.warnings import area as areas
from iolaos.warnings import templates
from iolaos.warnings.models import PublicWarning, WarningMessage
from iolaos.warnings.schemas import AreaOut, GeocodeOut, MessageOut, WarningContent, WarningDraft, WarningOut

HEADLINE_MAX = 160  # CAP: "should be less than 160 characters"
OPEN = ("draft", "published")


def _authority(principal: Principal, *, organisation_id: int, region_ids: set[int]) -> bool:
    """The issuing organisation's own people, or civil protection over its region (national: everywhere)."""
    if principal.organisation_id == organisation_id:
        return True
    if principal.organisation_kind != "civil_protection":
        return False
    return principal.region_id is None or region_ids <= {principal.region_id}


def _area_authority(principal: Principal, source: str, resolved: areas.Resolved, *, lead: bool) -> None:
    """403 unless the caller may warn for this source and area: the incident's lead agency, the region's fire
    service for the risk map, or civil protection over the area's region (national: everywhere)."""
    civil = principal.organisation_kind == "civil_protection" and (
        principal.region_id is None or resolved.region_ids <= {principal.region_id})
    if source == "incident":
        if not (lead or civil):
            raise Forbidden("only the incident's lead agency or civil protection may warn the public about it",
                            code="no_authority")
        return
    fire_service = principal.organisation_kind == "fire_service" and principal.region_id is not None \
        and resolved.region_ids <= {principal.region_id}
    if not (fire_service or civil):
        raise Forbidden("warnings from the risk map are issued by the region's fire service or civil protection",
                        code="no_authority")


def _resolve(session: Session, content: WarningContent) -> areas.Resolved:
    spec = content.area
    if spec.kind == "zones":
        return areas.from_zones(session, list(spec.zone_codes))
    if spec.kind == "polygon":
        return areas.from_polygon(session, spec.geometry)
    return areas.from_circle(session, spec.lon, spec.lat, spec.radius_km)


def _check_expires(settings: Settings, expires: datetime, now: datetime) -> None:
    if expires <= now:
        raise InvalidInput("expires must be in the future", code="invalid_warning")
    if expires > now + timedelta(hours=settings.warning_max_hours):
        raise InvalidInput(f"expires may be at most {settings.warning_max_hours:g} hours ahead", code="invalid_warning")


def _apply(warning: PublicWarning, content: WarningContent, resolved: areas.Resolved) -> None:
    """Copy the content (with the template's defaults) onto the warning; public texts are checked for personal data."""
    hazard = templates.hazard(content.hazard)
    if content.response_type not in hazard.responses:
        raise InvalidInput({"message": f"{content.response_type} does not fit {content.hazard}",
                            "allowed": list(hazard.responses)}, code="invalid_warning")
    words = templates.INSTRUCTIONS[content.response_type]
    texts = {"instruction_el": content.instruction_el or words["el-GR"],
             "instruction_en": content.instruction_en or words["en-US"],
             "description_el": content.description_el.strip(), "description_en": content.description_en.strip()}
    for name, text in texts.items():
        templates.check_public_text(name, text)
        setattr(warning, name, text.strip())
    warning.hazard, warning.response_type = content.hazard, content.response_type
    warning.urgency = content.urgency or hazard.urgency
    warning.severity = content.severity or hazard.severity
    warning.certainty = content.certainty or hazard.certainty
    warning.area_kind, warning.area, warning.radius_km = resolved.kind, resolved.geometry, resolved.radius_km
    warning.zone_codes = ",".join(resolved.zone_codes)
    warning.area_desc_el, warning.area_desc_en = resolved.desc_el[:500], resolved.desc_en[:500]
    warning.geocodes = "\n".join(f"{n}={v}" for n, v in resolved.geocodes)
    warning.region_id = min(resolved.region_ids) if resolved.region_ids else None
    warning.expires = content.expires.replace(microsecond=0)  # CAP times have whole seconds


def _record(session: Session, principal: Principal, warning: PublicWarning, action: str, data: dict[str, Any]) -> None:
    journal.record(session, actor=principal.actor, action=action, subject_type="warning",
                   subject_id=saved_id(warning),
                   data={"revision": warning.revision, **data}, topics=(f"org:{warning.organisation_id}",),
                   event_kind="warning.updated", payload={"warning_id": warning.id, "status": warning.status,
                                                          "revision": warning.revision})


def draft(session: Session, settings: Settings, *, principal: Principal, data: WarningDraft, now: datetime
          ) -> PublicWarning:
    """A new draft; nothing is public until someone publishes it."""
    principal.scope("warning.issue")
    _check_expires(settings, data.expires, now)
    incident = incidents.get_visible(session, principal, data.incident_id) if data.incident_id else None
    resolved = _resolve(session, data)
    lead = incident is not None and incident.lead_organisation_id == principal.organisation_id
    _area_authority(principal, data.source, resolved, lead=lead)
    # The content fields are set by _apply below; a SQLModel table does not validate its constructor's arguments.
    warning = PublicWarning(organisation_id=principal.organisation_id, source=data.source,  # type: ignore[call-arg]
                            incident_id=incident.id if incident else None, status="draft",
                            edited_by_user_id=principal.user_id, created_by_user_id=principal.user_id,
                            created_at=now, updated_at=now)
    _apply(warning, data, resolved)
    session.add(warning)
    session.flush()
    _record(session, principal, warning, "warning.draft", {"source": data.source, "incident_id": warning.incident_id,
                                                           "hazard": warning.hazard, "area_kind": warning.area_kind})
    return warning


def _visible_query(session: Session, principal: Principal) -> Select[PublicWarning]:
    """Warnings of organisations in the caller's warning.read scope; with a regional scope also every warning
    whose area lies in the caller's region (e.g. civil protection's, issued from outside the region)."""
    scope = principal.scope("warning.read")
    allowed = organisation_ids(session, principal, "warning.read")
    query = select(PublicWarning)
    if allowed is None:
        return query
    clause: ColumnElement[bool] = col(PublicWarning.organisation_id).in_(allowed)
    if scope is Scope.REGION and principal.region_id is not None:
        clause = or_(clause, col(PublicWarning.region_id) == principal.region_id)
    return query.where(clause)


def get_visible(session: Session, principal: Principal, warning_id: int) -> PublicWarning:
    """One warning the caller may see; 404 otherwise."""
    warning = session.scalar(_visible_query(session, principal).where(col(PublicWarning.id) == warning_id))
    if warning is None:
        raise NotFound("no such warning")
    return warning


def list_visible(session: Session, principal: Principal, *, status: str | None, limit: int, offset: int
                 ) -> list[PublicWarning]:
    """Warnings the caller may see, newest first."""
    query = _visible_query(session, principal).order_by(col(PublicWarning.created_at).desc(),
                                                        col(PublicWarning.id).desc())
    if status:
        query = query.where(col(PublicWarning.status) == status)
    return list(session.scalars(query.limit(limit).offset(offset)))


def _acting(session: Session, principal: Principal, warning_id: int, action: str) -> PublicWarning:
    """Role first (403), then the object (404 outside the read scope), then authority over it (403)."""
    principal.scope(action)
    warning = get_visible(session, principal, warning_id)
    if not _authority(principal, organisation_id=warning.organisation_id,
                      region_ids={warning.region_id} if warning.region_id else set()):
        raise Forbidden("only the issuing organisation or civil protection may act on this warning",
                        code="no_authority")
    return warning


def state(warning: PublicWarning, now: datetime) -> str:
    """draft, published, expired, cancelled or discarded."""
    if warning.status == "published" and warning.expires <= now:
        return "expired"
    return warning.status


def _open(warning: PublicWarning, now: datetime) -> None:
    current = state(warning, now)
    if current not in OPEN:
        raise Conflict({"message": f"the warning is {current}", "state": current}, code="warning_closed")


def edit(session: Session, settings: Settings, *, principal: Principal, warning_id: int, data: WarningContent,
         now: datetime) -> PublicWarning:
    """A new revision of the content (a draft, or the next Update of a published warning)."""
    warning = _acting(session, principal, warning_id, "warning.issue")
    _open(warning, now)
    _check_expires(settings, data.expires, now)
    resolved = _resolve(session, data)
    _area_authority(principal, warning.source, resolved, lead=principal.organisation_id == warning.organisation_id)
    _apply(warning, data, resolved)
    warning.revision += 1
    warning.edited_by_user_id, warning.updated_at = principal.user_id, now
    session.flush()
    _record(session, principal, warning, "warning.edit", {"hazard": warning.hazard, "area_kind": warning.area_kind})
    return warning


def _same_revision(warning: PublicWarning, revision: int) -> None:
    if revision != warning.revision:
        raise Conflict({"message": "the warning changed since you saw it", "revision": warning.revision},
                       code="stale_revision")


def approve(session: Session, settings: Settings, *, principal: Principal, warning_id: int, revision: int,
            now: datetime) -> PublicWarning:
    """Four-eyes: another authorised person approves exactly this revision."""
    warning = _acting(session, principal, warning_id, "warning.approve")
    _open(warning, now)
    _same_revision(warning, revision)
    if warning.edited_by_user_id == principal.user_id:
        raise Conflict("the person who wrote a revision cannot approve it", code="four_eyes")
    warning.approved_revision, warning.approved_by_user_id = revision, principal.user_id
    warning.updated_at = now
    session.flush()
    _record(session, principal, warning, "warning.approve", {"four_eyes": settings.warning_four_eyes})
    return warning


def _next_msg_type(warning: PublicWarning) -> str:
    if warning.status == "draft":
        return "Alert"
    if warning.published_revision == warning.revision:
        raise Conflict("nothing changed since the last message: edit the warning first", code="nothing_to_update")
    return "Update"


def messages_of(session: Session, warning_ids: list[int]) -> dict[int, list[WarningMessage]]:
    """Messages per warning, oldest first."""
    found: dict[int, list[WarningMessage]] = {i: [] for i in warning_ids}
    if warning_ids:
        query = select(WarningMessage).where(col(WarningMessage.warning_id).in_(warning_ids))
        for row in session.scalars(query.order_by(col(WarningMessage.sent), col(WarningMessage.id))):
            found[row.warning_id].append(row)
    return found


def _sent_after(earlier: list[WarningMessage], now: datetime) -> datetime:
    """CAP's ``sent`` has whole seconds; each message of a warning is sent strictly after the one before."""
    sent = now.replace(microsecond=0)
    if earlier and sent <= earlier[-1].sent:
        sent = earlier[-1].sent + timedelta(seconds=1)
    return sent


def _sender_names(session: Session, warning: PublicWarning) -> dict[str, str]:
    org = session.get(Organisation, warning.organisation_id)
    return {"el-GR": org.name_el if org else "", "en-US": org.name_en if org else ""}


def _headline(*parts: str) -> str:
    text = ": ".join(p for p in parts if p)
    return text if len(text) <= HEADLINE_MAX else text[:HEADLINE_MAX - 1] + "…"


def build(session: Session, settings: Settings, warning: PublicWarning, *, msg_type: str, ident: str,
          sent: datetime, earlier: list[WarningMessage]) -> cap.Alert:
    """The CAP alert for the warning's current content (or its cancellation), in Greek and English."""
    hazard = templates.hazard(warning.hazard)
    polygons, circles = areas.cap_shapes(warning.area_kind, warning.area, warning.radius_km)
    names = _sender_names(session, warning)
    infos = []
    for lang in templates.LANGUAGES:
        desc = warning.area_desc_el if lang == "el-GR" else warning.area_desc_en
        place = cap.Area(desc, polygons, circles, tuple(warning.geocode_pairs))
        if msg_type == "Cancel":
            title, instruction = templates.CANCEL_WORDS[lang]
            infos.append(cap.Info(lang, hazard.category, hazard.event(lang), templates.CANCEL_RESPONSE, "Past",
                                  "Minor", "Observed", sent, sent + _retention(settings), names[lang],
                                  _headline(title, hazard.event(lang), desc), instruction, place))
            continue
        text = {"el-GR": (warning.instruction_el, warning.description_el),
                "en-US": (warning.instruction_en, warning.description_en)}[lang]
        infos.append(cap.Info(lang, hazard.category, hazard.event(lang), warning.response_type, warning.urgency,
                              warning.severity, warning.certainty, sent, warning.expires, names[lang],
                              _headline(hazard.event(lang), desc), text[0], place, text[1]))
    references = tuple(cap.Reference(m.sender, m.identifier, m.sent) for m in earlier)
    return cap.Alert(ident, settings.cap_sender, sent, settings.cap_status, msg_type, tuple(infos),
                     templates.EXERCISE_NOTE.get(settings.cap_status, ""), references)


def _retention(settings: Settings) -> timedelta:
    return timedelta(hours=max(settings.warning_feed_retention_hours, 1.0))


def _send(session: Session, settings: Settings, principal: Principal, warning: PublicWarning, msg_type: str,
          now: datetime) -> WarningMessage:
    earlier = messages_of(session, [saved_id(warning)])[saved_id(warning)]
    sent = _sent_after(earlier, now)
    ident = cap.identifier("iolaos", f"w{warning.id}", f"m{len(earlier) + 1}", secrets.token_hex(4))
    alert = build(session, settings, warning, msg_type=msg_type, ident=ident, sent=sent, earlier=earlier)
    row = WarningMessage(warning_id=saved_id(warning), identifier=ident, sender=alert.sender, sent=sent,
                         msg_type=msg_type, status=alert.status, expires=alert.infos[0].expires,
                         revision=warning.revision,
                         references="\n".join(r.text() for r in alert.references),
                         headline_el=alert.infos[0].headline, headline_en=alert.infos[1].headline,
                         xml=cap.render(alert), published_by_user_id=principal.user_id)
    session.add(row)
    return row


def publish(session: Session, settings: Settings, *, principal: Principal, warning_id: int, revision: int,
            now: datetime) -> PublicWarning:
    """Send the first Alert, or an Update carrying the current revision; four-eyes needs its approval first."""
    warning = _acting(session, principal, warning_id, "warning.issue")
    _open(warning, now)
    _same_revision(warning, revision)
    if warning.expires <= now:
        raise Conflict("expires has passed: set a new expiry first", code="expired")
    if settings.warning_four_eyes and warning.approved_revision != warning.revision:
        raise Conflict("four-eyes is on: another authorised person must approve this revision first",
                       code="approval_required")
    msg_type = _next_msg_type(warning)
    row = _send(session, settings, principal, warning, msg_type, now)
    warning.status, warning.published_revision, warning.updated_at = "published", warning.revision, now
    session.flush()
    _record(session, principal, warning, "warning.publish", {"identifier": row.identifier, "msg_type": msg_type,
                                                             "sent": row.sent.isoformat(), "status": row.status})
    return warning


def cancel(session: Session, settings: Settings, *, principal: Principal, warning_id: int, reason: str,
           now: datetime) -> PublicWarning:
    """End a warning: a published one gets a Cancel message at once; a draft is discarded without one."""
    warning = _acting(session, principal, warning_id, "warning.issue")
    _open(warning, now)
    data: dict[str, Any] = {"reason": reason}
    if warning.status == "draft":
        warning.status = "discarded"
    else:
        row = _send(session, settings, principal, warning, "Cancel", now)
        warning.status = "cancelled"
        data |= {"identifier": row.identifier, "msg_type": "Cancel", "sent": row.sent.isoformat()}
    warning.ended_at = warning.updated_at = now
    session.flush()
    _record(session, principal, warning, "warning.cancel" if warning.status == "cancelled" else "warning.discard",
            data)
    return warning


def preview(session: Session, settings: Settings, *, principal: Principal, warning_id: int, now: datetime
            ) -> tuple[str, str, int]:
    """(msg_type, CAP text, revision) that publishing now would send; the identifier is a placeholder."""
    warning = get_visible(session, principal, warning_id)
    _open(warning, now)
    msg_type = "Alert" if warning.status == "draft" else "Update"
    earlier = messages_of(session, [saved_id(warning)])[saved_id(warning)]
    alert = build(session, settings, warning, msg_type=msg_type, ident="preview-not-sent",
                  sent=_sent_after(earlier, now), earlier=earlier)
    return msg_type, cap.render(alert), warning.revision


def allowed_actions(settings: Settings, warning: PublicWarning, now: datetime) -> list[str]:
    """What the lifecycle allows next (the caller's authority is checked when they try)."""
    current = state(warning, now)
    if current not in OPEN:
        return []
    actions = ["edit", "cancel"]
    changed = warning.status == "draft" or warning.published_revision != warning.revision
    if changed and settings.warning_four_eyes and warning.approved_revision != warning.revision:
        actions.append("approve")
    elif changed and warning.expires > now:
        actions.append("publish")
    return actions


def message_url(identifier: str) -> str:
    """Where a message is served (public)."""
    return f"/api/v1/cap/messages/{identifier}.xml"


def to_out(session: Session, settings: Settings, warnings: list[PublicWarning], now: datetime) -> list[WarningOut]:
    """Warnings with their state, area and messages."""
    sent = messages_of(session, [saved_id(w) for w in warnings])
    out = []
    for w in warnings:
        shape = areas.outline(w.area_kind, w.area, w.radius_km)
        centre = (w.area.x, w.area.y) if w.area_kind == "circle" and w.area.geom_type == "Point" else None
        area_out = AreaOut(kind=w.area_kind, zone_codes=w.codes, radius_km=w.radius_km, centre=centre,
                           desc_el=w.area_desc_el, desc_en=w.area_desc_en,
                           geocodes=[GeocodeOut(value_name=n, value=v) for n, v in w.geocode_pairs],
                           geometry=to_geojson(shape, 5))
        changed = w.status == "draft" or w.published_revision != w.revision
        out.append(WarningOut(
            id=saved_id(w), organisation_id=w.organisation_id, source=w.source, incident_id=w.incident_id,
            status=w.status, state=state(w, now), hazard=w.hazard, response_type=w.response_type, urgency=w.urgency,
            severity=w.severity, certainty=w.certainty, instruction_el=w.instruction_el,
            instruction_en=w.instruction_en, description_el=w.description_el, description_en=w.description_en,
            area=area_out, expires=w.expires, revision=w.revision, approved_revision=w.approved_revision,
            approved_by_user_id=w.approved_by_user_id, published_revision=w.published_revision,
            pending_changes=changed and w.status in OPEN,
            needs_approval=settings.warning_four_eyes and changed and w.approved_revision != w.revision,
            allowed_actions=allowed_actions(settings, w, now), created_by_user_id=w.created_by_user_id,
            edited_by_user_id=w.edited_by_user_id, created_at=w.created_at, updated_at=w.updated_at,
            messages=[_message_out(m) for m in sent[saved_id(w)]]))
    return out


def _message_out(m: WarningMessage) -> MessageOut:
    return MessageOut(identifier=m.identifier, sender=m.sender, sent=m.sent, msg_type=m.msg_type, status=m.status,
                      expires=m.expires, revision=m.revision, references=[r for r in m.references.split("\n") if r],
                      headline_el=m.headline_el, headline_en=m.headline_en, url=message_url(m.identifier),
                      published_by_user_id=m.published_by_user_id)


def current_messages(session: Session, settings: Settings, now: datetime) -> list[tuple[WarningMessage, str]]:
    """The public feed: each warning's latest message with its state, while the warning is in force and for the
    retention period after it was cancelled or expired. Newest first."""
    cutoff = now - timedelta(hours=settings.warning_feed_retention_hours)
    query = select(PublicWarning).where(or_(
        (col(PublicWarning.status) == "published") & (col(PublicWarning.expires) > cutoff),
        (col(PublicWarning.status) == "cancelled") & (col(PublicWarning.ended_at) > cutoff)))
    warnings = {saved_id(w): w for w in session.scalars(query)}
    latest = [(rows[-1], state(warnings[wid], now)) for wid, rows in messages_of(session, list(warnings)).items()
              if rows]
    return sorted(latest, key=lambda item: (item[0].sent, item[0].id), reverse=True)


def message(session: Session, identifier: str) -> WarningMessage:
    """One message ever sent, by identifier (superseded ones stay readable, so references resolve); 404 otherwise."""
    row = session.scalar(select(WarningMessage).where(col(WarningMessage.identifier) == identifier))
    if row is None:
        raise NotFound("no such CAP message", code="no_warning")
    return row


def latest_sent(session: Session) -> datetime | None:
    """When the newest message of all was sent (the feed's ``updated`` when nothing is current)."""
    row = session.scalar(select(col(WarningMessage.sent)).order_by(col(WarningMessage.sent).desc()).limit(1))
    return row
