"""ICS-204 assignment lists: one sheet per division (zone) and operational period (shift), FEMA's blocks 1–9.

Where each block's content comes from is tabled in docs/field.md ("ICS forms").
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, PageBreak, Spacer
from sqlalchemy import select
from sqlmodel import Session, col

from iolaos import i18n
from iolaos.auth.models import User
from iolaos.auth.principal import Principal
from iolaos.documents import layout
from iolaos.documents.common import contact_scope, local, may_contact, org_name, organisations, prepared_by
from iolaos.field.models import IncidentPatrol
from iolaos.incidents.models import Incident
from iolaos.kit.ids import saved_id
from iolaos.patrols.models import Patrol
from iolaos.planning import workflow
from iolaos.responsibility import service as responsibility
from iolaos.risk import service as risk
from iolaos.volunteers.models import Volunteer
from iolaos.zones.models import Zone

MAX_PATROLS = 500
ON_CREW = ("proposed", "accepted", "checked_in", "checked_out")


def assignment_list(session: Session, principal: Principal, *, day: date, lang: str,
                    zone_code: str | None = None, at: datetime | None = None) -> dict[str, Any]:
    """The day's patrols the caller may see, one sheet per zone and shift (times in Europe/Athens); with ``at``,
    only the operational period under way at that moment."""
    patrols = workflow.list_visible(session, principal, day=day, status=None, limit=MAX_PATROLS, offset=0)
    patrols = [p for p in patrols if p.status != "cancelled" and (at is None or p.shift_start <= at < p.shift_end)]
    outs = {o.patrol_id: o for o in workflow.to_out(session, principal, patrols)}
    tree = risk.zone_tree(session)
    if zone_code is not None:
        patrols = [p for p in patrols if tree.by_id[p.zone_id].code == zone_code]
    context = _Context(session, principal, lang, patrols)
    groups: dict[tuple[int, Any, Any], list[Patrol]] = {}
    for patrol in sorted(patrols, key=lambda p: (tree.by_id[p.zone_id].code, p.shift_start, p.id)):
        groups.setdefault((patrol.zone_id, patrol.shift_start, patrol.shift_end), []).append(patrol)
    sheets = [_sheet(context, tree, zone_id, start, end, members, outs)
              for (zone_id, start, end), members in groups.items()]
    return {"form": "ICS 204", "language": lang, "day": day.isoformat(), "sheets": sheets,
            "prepared_by": prepared_by(session, principal, lang)}


class _Context:
    """What the sheets share, read once: incidents, organisations, people, contact permission."""

    def __init__(self, session: Session, principal: Principal, lang: str, patrols: list[Patrol]) -> None:
        self.lang = lang
        ids = [saved_id(p) for p in patrols] or [-1]
        self.incidents: dict[int, list[Incident]] = {}
        for link, incident in session.execute(select(IncidentPatrol, Incident).join(
                Incident, col(Incident.id) == col(IncidentPatrol.incident_id))
                .where(col(IncidentPatrol.patrol_id).in_(ids))):
            self.incidents.setdefault(link.patrol_id, []).append(incident)
        self.orgs = organisations(session, [p.organisation_id for p in patrols])
        self.leaders: dict[int, list[User]] = {}
        for user in session.scalars(select(User).where(col(User.organisation_id).in_(list(self.orgs) or [-1]),
                                                       col(User.role) == "leader", col(User.is_active))):
            self.leaders.setdefault(user.organisation_id, []).append(user)
        self.volunteers = {saved_id(v): v for v in session.scalars(select(Volunteer).where(
            col(Volunteer.id).in_([p.leader_volunteer_id for p in patrols if p.leader_volunteer_id] or [-1])))}
        self.holders = responsibility.current_rows(session, "patrol", set(ids))
        holder_ids = [h.holder_user_id for h in self.holders.values() if h.holder_user_id]
        self.users = {saved_id(u): u for u in session.scalars(select(User).where(col(User.id).in_(holder_ids or [-1])))}
        self.orgs |= organisations(session, [h.holder_organisation_id for h in self.holders.values()])
        self.contacts = contact_scope(session, principal)
        self.centroids = {z.id: z.geom.centroid for z in session.scalars(
            select(Zone).where(col(Zone.id).in_({p.zone_id for p in patrols} or {-1})))}

    def phone(self, phone: str | None, organisation_id: int | None) -> str:
        return phone if phone and may_contact(self.contacts, organisation_id) else ""


def _sheet(ctx: _Context, tree: Any, zone_id: int, start: Any, end: Any, patrols: list[Patrol],
           outs: dict[int | None, Any]) -> dict[str, Any]:
    lang, zone = ctx.lang, tree.by_id[zone_id]
    region = tree.region_of(zone_id)
    risk_category = max((p.risk_category or 0 for p in patrols), default=0) or None
    risk_text = i18n.label("risk", str(risk_category), lang) if risk_category else "—"
    incidents = {i.id: i for p in patrols for i in ctx.incidents.get(saved_id(p), [])}
    centroid = ctx.centroids.get(zone_id)
    reporting = i18n.t("doc.reporting_value", lang, lat=f"{centroid.y:.4f}", lon=f"{centroid.x:.4f}") \
        if centroid is not None else "—"
    capabilities = sorted({p.capability for p in patrols})
    return {
        "incident_name": "; ".join(i18n.t("doc.incident_value", lang, kind=i18n.label("incident_kind", i.kind, lang),
                                          id=i.id, place=zone.name_el if lang == "el" else zone.name_en)
                                   for i in incidents.values())
                         or i18n.t("doc.season", lang, year=local(start, "%Y")),
        "operational_period": {"from": local(start), "to": local(end)},
        "branch": (region.name_el if lang == "el" else region.name_en) if region else "—",
        "division": f"{zone.name_el if lang == 'el' else zone.name_en} ({zone.code})",
        "group": ", ".join(i18n.label("capability", c, lang) for c in capabilities),
        "staging_area": reporting,
        "risk": risk_text,
        "operations_personnel": _personnel(ctx, patrols),
        "resources": [_resource(ctx, p, outs.get(p.id), reporting) for p in patrols],
        "work_assignments": [i18n.t(f"doc.work.{c}", lang, risk=risk_text) for c in capabilities],
        "special_instructions": [i18n.t("doc.special.common", lang)]
        + ([i18n.t("doc.special.high", lang, risk=risk_text)] if (risk_category or 0) >= 4 else []),
        "communications": _communications(ctx, patrols),
    }


def _personnel(ctx: _Context, patrols: list[Patrol]) -> list[dict[str, str]]:
    """Who directs these patrols: each patrol's responsible person, and the executing organisations' leaders."""
    people: dict[int, dict[str, str]] = {}
    for patrol in patrols:
        holder = ctx.holders.get(saved_id(patrol))
        user = ctx.users.get(holder.holder_user_id) if holder and holder.holder_user_id else None
        if user is not None:
            people[saved_id(user)] = _person(ctx, user)
        for leader in ctx.leaders.get(patrol.organisation_id or -1, []):
            people[saved_id(leader)] = _person(ctx, leader)
    return list(people.values())


def _person(ctx: _Context, user: User) -> dict[str, str]:
    return {"name": user.full_name, "position": i18n.label("ics_position", user.role, ctx.lang),
            "agency": org_name(ctx.orgs.get(user.organisation_id), ctx.lang),
            "contact": ctx.phone(user.phone, user.organisation_id)}


def _resource(ctx: _Context, patrol: Patrol, out: Any, reporting: str) -> dict[str, Any]:
    lang = ctx.lang
    crew = [c for c in (out.crew if out else []) if c.status in ON_CREW]
    leader = ctx.volunteers.get(patrol.leader_volunteer_id or -1)
    org = ctx.orgs.get(patrol.organisation_id or -1)
    remarks = [f"{c.volunteer_name or '—'} — {i18n.label('assignment_status', c.status, lang)}" for c in crew]
    open_places = max(len(out.open_places) if out else 0, patrol.crew_size - len(crew))
    if open_places:
        remarks.append(i18n.t("doc.open_places", lang, n=open_places))
    return {
        "resource": i18n.t("doc.patrol", lang, id=patrol.id), "agency": org_name(org, lang),
        "status": i18n.label("patrol_status", patrol.status, lang),
        "leader": leader.full_name if leader else i18n.t("doc.no_leader", lang),
        "persons": f"{sum(1 for c in crew if c.status != 'proposed')}/{patrol.crew_size}",
        "contact": ", ".join(x for x in (ctx.phone(leader.phone, leader.organisation_id) if leader else "",
                                          org.radio_channels if org else "") if x),
        "reporting_location": reporting, "crew": remarks,
    }


def _communications(ctx: _Context, patrols: list[Patrol]) -> list[dict[str, str]]:
    lang, rows = ctx.lang, []
    for org_id in sorted({p.organisation_id for p in patrols if p.organisation_id}):
        org = ctx.orgs[org_id]
        rows.append({"function": i18n.t("doc.comms.radio", lang, org=org_name(org, lang)),
                     "channel": org.radio_channels or i18n.t("doc.comms.none", lang)})
    rows.append({"function": i18n.t("doc.comms.app", lang), "channel": "IOLAOS"})
    rows.append({"function": i18n.t("doc.comms.emergency", lang), "channel": "112"})
    return rows


def render(doc: dict[str, Any], font_path: Any) -> bytes:
    """The sheets as an A4 PDF, one division and period per page (more when a sheet is long)."""
    layout.register_fonts(font_path)
    lang, width = doc["language"], A4[0] - 24 * mm
    t = lambda key, **kw: i18n.t(key, lang, **kw)  # noqa: E731
    story: list[Any] = []
    for index, sheet in enumerate(doc["sheets"]):
        if index:
            story.append(PageBreak())
        story += _sheet_story(sheet, doc["prepared_by"], lang, width, t)
    if not doc["sheets"]:
        story += [layout.para(t("doc.ics204.title"), layout.TITLE), Spacer(1, 4 * mm), layout.para(t("doc.none"))]
    return layout.build(story, pagesize=A4, title=t("doc.ics204.title"), form="ICS 204", lang=lang)


def _sheet_story(sheet: dict[str, Any], prepared: dict[str, Any], lang: str, width: float, t: Any) -> list[Any]:
    g, p = layout.grid, layout.para
    period = sheet["operational_period"]
    head = g([[p(t("doc.ics204.title"), layout.TITLE), layout.field(t("doc.incident_name"), sheet["incident_name"]),
               layout.field(t("doc.op_period"), t("doc.period_value", start=period["from"], end=period["to"]))]],
             [width * 0.3, width * 0.35, width * 0.35])
    where = g([[layout.field(t("doc.branch"), sheet["branch"]), layout.field(t("doc.division"), sheet["division"]),
                layout.field(t("doc.group"), f"{sheet['group']} · {t('doc.risk_value', risk=sheet['risk'])}"),
                layout.field(t("doc.staging"), sheet["staging_area"])]], [width / 4] * 4)
    people = [[p(x["position"]), p(x["name"]), p(x["agency"]), p(x["contact"])]
              for x in sheet["operations_personnel"]] or [[p("—"), p(""), p(""), p("")]]
    personnel = g([[t("doc.col.position"), t("doc.col.name"), t("doc.col.agency"), t("doc.col.contact")], *people],
                  [width * 0.25, width * 0.25, width * 0.3, width * 0.2], header=True, title=t("doc.ops_personnel"))
    resources = g([[t("doc.col.resource"), t("doc.col.leader"), t("doc.col.persons"), t("doc.col.contact"),
                    t("doc.col.remarks")]]
                  + [[p(f"{r['resource']}\n{r['agency']}\n{r['status']}", layout.SMALL), p(r["leader"]),
                      p(r["persons"]), p(r["contact"], layout.SMALL), p("\n".join(r["crew"]), layout.SMALL)]
                     for r in sheet["resources"]],
                  [width * 0.21, width * 0.16, width * 0.09, width * 0.17, width * 0.37], header=True,
                  title=t("doc.resources"))
    text_blocks = [g([[p("\n".join(sheet[key]))]], [width], title=t(label))
                   for key, label in (("work_assignments", "doc.work"), ("special_instructions", "doc.special"))]
    comms = g([[p(c["function"]), p(c["channel"])] for c in sheet["communications"]], [width * 0.6, width * 0.4],
              title=t("doc.comms"))
    gap = Spacer(1, 2 * mm)
    return [head, where, gap, personnel, gap, resources, gap, text_blocks[0], gap, text_blocks[1], gap, comms,
            gap, CondPageBreak(25 * mm), layout.signature(lang, prepared, width)]
