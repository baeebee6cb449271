"""ICS-214 activity logs of a unit or of one person: who served in what ICS position, and what happened.

The log is meant to be read: a plan commit is one line (its per-patrol records are summarised in it), a status
change says from → to, notes and reasons are kept, and every label comes from the message catalogue.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from iolaos import i18n
from iolaos.auth.models import User
from iolaos.auth.principal import Principal
from iolaos.documents.common import local, org_name, prepared_by
from iolaos.errors import NotFound
from iolaos.i18n import coded
from iolaos.organisations import names as organisation_names
from iolaos.review.service import AuditFilter, iter_all, organisation_and_people, redact, sees_personal_data

MAX_ACTIVITIES = 5000
QUIET = {"auth.sign_in", "auth.sign_out"}  # not notable activities
PLANNED = {"patrol.plan", "patrol.restaff"}  # summarised in their plan.commit line
STATUS_LABELS = {"incident": "incident_status", "assignment": "assignment_status", "patrol": "patrol_status"}


def summary(action: str, subject_type: str, subject_id: str, data: dict[str, Any], lang: str,
            names: dict[Any, str] | None = None) -> str:
    """One readable line for a journal record, in Greek or English."""
    parts = [i18n.label("action", action, lang)]
    if action == "plan.commit":
        parts.append(i18n.t("doc.line.plan", lang, plan=data.get("plan_key", subject_id), n=data.get("patrols", 0),
                            filled=data.get("filled", 0), places=data.get("places", 0)))
        return " — ".join(parts)
    subject = i18n.label("subject", subject_type, lang)
    parts.append(i18n.t("doc.line.subject", lang, subject=subject, id=subject_id))
    details = []
    if "from" in data and "to" in data:
        prefix = "field_status" if action == "patrol.field_status" else STATUS_LABELS.get(subject_type, "")
        details.append(i18n.t("doc.line.transition", lang, before=i18n.label(prefix, str(data["from"]), lang),
                              after=i18n.label(prefix, str(data["to"]), lang)))
    if action.startswith("alert.") and data.get("kind"):
        details.append(i18n.label("alert_kind", str(data["kind"]), lang))
    crew = data.get("volunteer_ids") or data.get("volunteers")
    if isinstance(crew, list | dict) and crew:
        details.append(i18n.t("doc.line.crew", lang, n=len(crew)))
    if data.get("holder_user_id") and names and data["holder_user_id"] in names:
        details.append(i18n.t("doc.line.holder", lang, name=names[data["holder_user_id"]]))
    elif data.get("holder_organisation_id") and names and f"org:{data['holder_organisation_id']}" in names:
        details.append(i18n.t("doc.line.holder", lang, name=names[f"org:{data['holder_organisation_id']}"]))
    if data.get("reason"):
        details.append(i18n.t("doc.line.reason", lang, reason=coded.render(str(data["reason"]), lang)))
    if data.get("note"):
        details.append(i18n.t("doc.line.note", lang, note=data["note"]))
    line = " — ".join(parts)
    return f"{line}: {'; '.join(details)}" if details else line


def activity_log(session: Session, principal: Principal, *, organisation_id: int, since: datetime,
                 until: datetime, lang: str, user_id: int | None = None) -> dict[str, Any]:
    """The ICS-214 content for one organisation (or one of its people) and an operational period."""
    org, people = organisation_and_people(session, principal, organisation_id)
    person = None
    if user_id is not None:
        person = next((p for p in people if p.id == user_id), None)
        if person is None:
            raise NotFound("no such user")
        people = [person]
    flt = AuditFilter(since=since, until=until, organisation_id=organisation_id, actor_user_id=user_id)
    records = [r for r in iter_all(session, principal, flt) if r.action not in QUIET][:MAX_ACTIVITIES]
    personal = sees_personal_data(principal)
    data = {r.seq: json.loads(r.data) if personal else redact(json.loads(r.data)) for r in records}
    committed = {d.get("plan_key") for r in records if r.action == "plan.commit" for d in [data[r.seq]]}
    names = _holder_names(session, data.values(), lang)
    activities = []
    for record in records:
        if _part_of_commit(record.action, data[record.seq], committed):
            continue
        activities.append({
            "at": local(record.occurred_at), "seq": record.seq, "action": record.action,
            "who": f"{record.actor_name} ({i18n.label('ics_position', record.actor_role, lang)})",
            "activity": summary(record.action, record.subject_type, record.subject_id, data[record.seq], lang, names),
        })
    agency = org_name(org, lang)
    return {
        "form": "ICS 214", "language": lang,
        "incident_name": i18n.t("doc.season", lang, year=local(since, "%Y")),
        "operational_period": {"from": local(since), "to": local(until)},
        "name": person.full_name if person else agency,
        "ics_position": i18n.label("ics_position", person.role, lang) if person
        else i18n.label("org_kind", org.kind, lang),
        "home_agency": agency,
        "unit": {"id": org.id, "name": agency, "kind": org.kind},
        "personnel": [{"name": p.full_name, "position": i18n.label("ics_position", p.role, lang),
                       "agency": agency, "active": p.is_active} for p in people],
        "activities": activities,
        "prepared_by": prepared_by(session, principal, lang),
    }


def _part_of_commit(action: str, data: dict[str, Any], committed: set[Any]) -> bool:
    """A patrol planned, or given its first holder, by a plan commit listed in the same log."""
    if action in PLANNED:
        return data.get("plan_key") in committed
    decoded = coded.decode(str(data.get("reason") or ""))
    return action == "responsibility.assign" and decoded is not None and decoded[0] == "reason.resp.planned" \
        and decoded[1].get("plan") in committed


def _holder_names(session: Session, data: Any, lang: str) -> dict[Any, str]:
    """Names of the holders in responsibility records: user id → name, ``org:<id>`` → organisation name."""
    data = list(data)
    users = {d["holder_user_id"] for d in data if isinstance(d.get("holder_user_id"), int)}
    orgs = {d["holder_organisation_id"] for d in data if isinstance(d.get("holder_organisation_id"), int)
            and not d.get("holder_user_id")}
    found: dict[Any, str] = {}
    if users:
        found |= dict(session.execute(select(col(User.id), col(User.full_name)).where(col(User.id).in_(users)))
                      .tuples().all())
    found |= {f"org:{i}": name for i, name in organisation_names.names(session, orgs, lang).items()}
    return found

