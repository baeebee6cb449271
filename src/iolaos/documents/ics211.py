"""ICS-211 check-in lists: who checked in on the day's patrols (or one patrol), with agency, role and times."""

from __future__ import annotations

from datetime import date
from typing import Any

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Spacer
from sqlalchemy import select
from sqlmodel import Session, col

from iolaos import i18n
from iolaos.auth.principal import Principal
from iolaos.documents import layout
from iolaos.documents.common import ATHENS, contact_scope, local, may_contact, org_name, organisations, prepared_by
from iolaos.errors import NotFound
from iolaos.patrols.models import Assignment
from iolaos.planning import workflow
from iolaos.risk import service as risk
from iolaos.volunteers.models import Volunteer, VolunteerSkill

MAX_PATROLS = 500


def check_in_list(session: Session, principal: Principal, *, day: date | None, patrol_id: int | None,
                  lang: str) -> dict[str, Any]:
    """Everyone checked in on the day's patrols you may see, or on one patrol, in check-in order."""
    if patrol_id is not None:
        patrols = [workflow.get_visible(session, principal, patrol_id)]
    elif day is not None:
        patrols = workflow.list_visible(session, principal, day=day, status=None, limit=MAX_PATROLS, offset=0)
    else:
        raise NotFound("no such patrol")
    by_id = {p.id: p for p in patrols}
    tree = risk.zone_tree(session)
    rows = session.execute(select(Assignment, Volunteer)
                           .join(Volunteer, col(Volunteer.id) == col(Assignment.volunteer_id))
                           .where(col(Assignment.patrol_id).in_(list(by_id) or [-1]),
                                  col(Assignment.checked_in_at).is_not(None))
                           .order_by(col(Assignment.checked_in_at), col(Assignment.id))).all()
    skills: dict[int, list[str]] = {}
    for s in session.scalars(select(VolunteerSkill).where(col(VolunteerSkill.volunteer_id).in_(
            [v.id for _, v in rows] or [-1])).order_by(col(VolunteerSkill.skill))):
        skills.setdefault(s.volunteer_id, []).append(i18n.label("skill", s.skill, lang))
    orgs = organisations(session, [v.organisation_id for _, v in rows])
    contacts = contact_scope(session, principal)
    entries = []
    for assignment, volunteer in rows:
        patrol = by_id[assignment.patrol_id]
        zone = tree.by_id[patrol.zone_id]
        is_leader = patrol.leader_volunteer_id == volunteer.id
        entries.append({
            "name": volunteer.full_name, "agency": org_name(orgs.get(volunteer.organisation_id), lang),
            "position": i18n.label("ics_position", "leader" if is_leader else "volunteer", lang),
            "contact": volunteer.phone if volunteer.phone and may_contact(contacts, volunteer.organisation_id)
            else "",
            "qualifications": ", ".join(skills.get(volunteer.id, [])),
            "checked_in": local(assignment.checked_in_at), "checked_out": local(assignment.checked_out_at),
            "assignment": f"{i18n.t('doc.patrol', lang, id=patrol.id)} — "
                          f"{zone.name_el if lang == 'el' else zone.name_en}, "
                          f"{local(patrol.shift_start, '%H:%M')}–{local(patrol.shift_end, '%H:%M')}",
        })
    one = patrols[0] if patrol_id is not None else None
    location = (f"{tree.by_id[one.zone_id].name_el if lang == 'el' else tree.by_id[one.zone_id].name_en}"
                if one else i18n.t("doc.checkin_app", lang))
    first = rows[0][0].checked_in_at if rows else None
    shown_day = day or patrols[0].shift_start.astimezone(ATHENS).date()  # no day: one patrol was asked for
    return {"form": "ICS 211", "language": lang, "day": shown_day.isoformat(), "period": shown_day.strftime("%d/%m/%Y"),
            "patrol_id": patrol_id, "incident_name": i18n.t("doc.season", lang, year=local(
                one.shift_start if one else first, "%Y") if (one or first) else str(shown_day.year)),
            "check_in_location": location, "start": local(first), "entries": entries,
            "prepared_by": prepared_by(session, principal, lang)}


def render(doc: dict[str, Any], font_path: Any) -> bytes:
    """The check-in list as a landscape A4 PDF."""
    layout.register_fonts(font_path)
    lang = doc["language"]
    width = landscape(A4)[0] - 24 * mm
    t = lambda key, **kw: i18n.t(key, lang, **kw)  # noqa: E731
    g, p = layout.grid, layout.para
    head = g([[p(t("doc.ics211.title"), layout.TITLE), layout.field(t("doc.incident_name"), doc["incident_name"]),
               layout.field(t("doc.op_period"), doc["period"]),
               layout.field(t("doc.checkin_location"), doc["check_in_location"]),
               layout.field(t("doc.start"), doc["start"])]],
             [width * 0.22, width * 0.26, width * 0.12, width * 0.24, width * 0.16])
    columns = [("name", 0.14), ("agency", 0.16), ("position", 0.09), ("contact", 0.1), ("qualifications", 0.15),
               ("checked_in", 0.09), ("checked_out", 0.09), ("assignment", 0.18)]
    header = [t(f"doc.col.{name}") for name, _ in columns]
    body = [[p(e[name], layout.SMALL) for name, _ in columns] for e in doc["entries"]] \
        or [[p(t("doc.none_checked_in"))] + [p("")] * (len(columns) - 1)]
    table = g([header, *body], [width * share for _, share in columns], header=True, title=t("doc.checkin_info"))
    story = [head, Spacer(1, 2 * mm), table, Spacer(1, 3 * mm), CondPageBreak(25 * mm),
             layout.signature(lang, doc["prepared_by"], width)]
    return layout.build(story, pagesize=landscape(A4), title=t("doc.ics211.title"), form="ICS 211", lang=lang)
