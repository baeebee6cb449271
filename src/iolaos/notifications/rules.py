"""The rules: which journal actions notify whom, on which channels, and whether they pass quiet hours.

Each rule has a fixed trigger (the audit actions it reads) and a configurable part (``IOLAOS_NOTIFY_RULES``, merged
over ``DEFAULT_RULES`` rule by rule): whether it is on, who receives it (names from ``RECIPIENTS``), whether it is a
life-safety notice (delivered to off-duty people and through quiet hours), its channels and its parameters.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session, col

from iolaos.auth.models import User
from iolaos.field.models import PositionReport
from iolaos.journal.models import AuditRecord
from iolaos.kit.ids import id_column
from iolaos.organisations.models import Organisation, OrganisationZone
from iolaos.patrols.models import Assignment, Patrol
from iolaos.responsibility.models import Responsibility
from iolaos.risk import service as risk
from iolaos.volunteers.models import Volunteer

ATHENS = ZoneInfo("Europe/Athens")
KM_PER_DEGREE = 111.32

DEFAULT_RULES: dict[str, dict[str, Any]] = {
    "proposal": {"enabled": True, "recipients": ["proposed_volunteers", "volunteer_leaders"], "life_safety": False,
                 "channels": ["push", "email", "sms"]},
    "incident_nearby": {"enabled": True, "recipients": ["nearby_team_leaders"], "life_safety": False,
                        "channels": ["push", "email", "sms"], "kinds": ["smoke", "wildfire"], "radius_km": 10.0},
    "sos": {"enabled": True, "recipients": ["responsible_dispatcher", "team_leaders"], "life_safety": True,
            "channels": ["push", "email", "sms"]},
    "lost_contact": {"enabled": True, "recipients": ["responsible_dispatcher", "team_leaders"], "life_safety": True,
                     "channels": ["push", "email", "sms"]},
    "risk_tomorrow": {"enabled": True, "recipients": ["area_org_leaders"], "life_safety": False,
                      "channels": ["push", "email"], "min_category": 4},
    "handover": {"enabled": True, "recipients": ["new_holder"], "life_safety": False, "channels": ["push", "email"]},
}

# Which audit actions each rule reads (fixed: they follow the code that records them).
TRIGGERS: dict[str, frozenset[str]] = {
    "proposal": frozenset({"patrol.plan", "patrol.restaff", "assignment.override"}),
    "incident_nearby": frozenset({"incident.report"}),
    "sos": frozenset({"alert.raise"}),
    "lost_contact": frozenset({"alert.raise"}),
    "risk_tomorrow": frozenset({"risk.set"}),
    "handover": frozenset({"responsibility.handover"}),
}
ACTIONS = frozenset().union(*TRIGGERS.values())
DISPATCH_ROLES = ("admin", "dispatcher", "officer", "coordinator")


@dataclass
class Notice:
    """What one rule says about one audit record: to whom, and the text (no location, no personal data)."""

    rule: str
    life_safety: bool
    channels: list[str]
    title: str
    body: str
    users: set[int] = field(default_factory=set)


def merged_rules(configured: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The defaults with each configured rule's keys laid over them."""
    out = {name: dict(rule) for name, rule in DEFAULT_RULES.items()}
    for name, rule in configured.items():
        if name in out:
            out[name].update(rule)
    return out


def notices(session: Session, rules: dict[str, dict[str, Any]], record: AuditRecord, data: dict[str, Any]
            ) -> list[Notice]:
    """The notices the rules draw from one audit record (empty for most records)."""
    found = []
    for name, actions in TRIGGERS.items():
        rule = rules.get(name, {})
        if record.action not in actions or not rule.get("enabled", True):
            continue
        made = _MAKERS[name](session, rule, record, data)
        if made is None:
            continue
        title, body, context = made
        users: set[int] = set()
        for recipient in rule.get("recipients", []):
            users |= RECIPIENTS[recipient](session, rule, context)
        users.discard(record.actor_user_id)  # who did it knows already
        if users:
            found.append(Notice(name, bool(rule.get("life_safety")), list(rule.get("channels", [])), title, body,
                                users))
    return found


# --- recipients: name → function(session, rule, context) → user ids -------------------------------------------
def _role_users(session: Session, organisations: set[int], roles: tuple[str, ...]) -> set[int]:
    if not organisations:
        return set()
    return set(session.scalars(select(col(User.id)).where(col(User.organisation_id).in_(sorted(organisations)),
                                                          col(User.role).in_(roles), col(User.is_active))))


def _proposed_volunteers(session: Session, rule: dict, ctx: dict) -> set[int]:
    ids = ctx.get("volunteers", set())
    if not ids:
        return set()
    return {u for u in session.scalars(select(col(Volunteer.user_id)).where(col(Volunteer.id).in_(sorted(ids)))) if u}


def _volunteer_leaders(session: Session, rule: dict, ctx: dict) -> set[int]:
    ids = ctx.get("volunteers", set())
    if not ids:
        return set()
    orgs = set(session.scalars(select(col(Volunteer.organisation_id)).where(col(Volunteer.id).in_(sorted(ids)))))
    return _role_users(session, orgs, tuple(rule.get("roles", ["leader"])))


def _team_leaders(session: Session, rule: dict, ctx: dict) -> set[int]:
    return _role_users(session, ctx.get("team_orgs", set()), tuple(rule.get("roles", ["leader"])))


def _nearby_team_leaders(session: Session, rule: dict, ctx: dict) -> set[int]:
    return _role_users(session, ctx.get("nearby_orgs", set()), tuple(rule.get("roles", ["leader"])))


def _responsible_dispatcher(session: Session, rule: dict, ctx: dict) -> set[int]:
    patrol_id = ctx.get("patrol_id")
    holder = session.scalars(select(Responsibility).where(col(Responsibility.subject_type) == "patrol",
                                                          col(Responsibility.subject_id) == patrol_id)
                             .order_by(col(Responsibility.since).desc(), col(Responsibility.id).desc())
                             .limit(1)).first()
    if holder is None:
        return set()
    if holder.holder_user_id is not None:
        return {holder.holder_user_id}
    return _role_users(session, {holder.holder_organisation_id}, ("dispatcher",))  # the duty desk


def _area_org_leaders(session: Session, rule: dict, ctx: dict) -> set[int]:
    return _role_users(session, ctx.get("area_orgs", set()), tuple(rule.get("roles", ["leader"])))


def _new_holder(session: Session, rule: dict, ctx: dict) -> set[int]:
    return {ctx["holder"]} if ctx.get("holder") else set()


RECIPIENTS: dict[str, Callable[[Session, dict, dict], set[int]]] = {
    "proposed_volunteers": _proposed_volunteers, "volunteer_leaders": _volunteer_leaders,
    "team_leaders": _team_leaders, "nearby_team_leaders": _nearby_team_leaders,
    "responsible_dispatcher": _responsible_dispatcher, "area_org_leaders": _area_org_leaders,
    "new_holder": _new_holder,
}


# --- makers: (title, body, context) from a record, or None when the rule does not apply ---------------------------
Made = tuple[str, str, dict[str, Any]] | None


def _zone_name(session: Session, zone_id: int | None) -> str:
    if zone_id is None:
        return "—"
    info = risk.zone_tree(session).by_id.get(zone_id)
    return info.name_el if info else "—"


def _when(at: datetime) -> str:
    return at.astimezone(ATHENS).strftime("%d/%m %H:%M")


def _proposal(session: Session, rule: dict, record: AuditRecord, data: dict) -> Made:
    if record.action == "assignment.override":
        patrol = session.get(Patrol, data.get("patrol_id"))
        people = {data["volunteer_id"]} if data.get("volunteer_id") else set()
    else:
        patrol = session.get(Patrol, int(record.subject_id))
        people = set(data.get("proposed") or [])
    if patrol is None or not people:
        return None
    place = _zone_name(session, patrol.zone_id)
    when = f"{_when(patrol.shift_start)}–{patrol.shift_end.astimezone(ATHENS):%H:%M}"
    return ("Πρόταση περιπολίας · Patrol proposal", f"{place}, {when} (#{patrol.id})", {"volunteers": people})


def _incident_nearby(session: Session, rule: dict, record: AuditRecord, data: dict) -> Made:
    if data.get("kind") not in rule.get("kinds", []) or data.get("lon") is None:
        return None
    lon, lat, zone_id = float(data["lon"]), float(data["lat"]), data.get("zone_id")
    orgs = _orgs_near(session, lon, lat, float(rule.get("radius_km", 10.0)))
    if zone_id is not None:  # teams whose area holds the place
        orgs |= set(session.scalars(select(col(OrganisationZone.organisation_id))
                                    .join(Organisation, col(Organisation.id) == col(OrganisationZone.organisation_id))
                                    .where(OrganisationZone.zone_id == zone_id,
                                           col(Organisation.kind) == "volunteer_org")))
    kind = {"smoke": "Καπνός · Smoke", "wildfire": "Πυρκαγιά · Wildfire"}.get(data["kind"], data["kind"])
    return (f"{kind}", f"{_zone_name(session, zone_id)} (#{record.subject_id})", {"nearby_orgs": orgs})


def _orgs_near(session: Session, lon: float, lat: float, radius_km: float) -> set[int]:
    """Organisations executing an active patrol whose last position lies within ``radius_km`` of the point."""
    last = (select(col(PositionReport.patrol_id), func.max(col(PositionReport.id)).label("last_id"))
            .group_by(col(PositionReport.patrol_id)).subquery())
    rows = session.execute(select(col(Patrol.organisation_id), col(PositionReport.point))
                           .join(last, last.c.patrol_id == Patrol.id)
                           .join(PositionReport, col(PositionReport.id) == last.c.last_id)
                           .where(col(Patrol.status) == "active")).all()
    near = set()
    for org_id, point in rows:
        scale = math.cos(math.radians(lat))
        km = math.hypot((point.x - lon) * scale, point.y - lat) * KM_PER_DEGREE
        if org_id is not None and km <= radius_km:
            near.add(org_id)
    return near


def _alert(kind: str, title: str) -> Callable[[Session, dict, AuditRecord, dict], Made]:
    def make(session: Session, rule: dict, record: AuditRecord, data: dict) -> Made:
        if data.get("kind") != kind:
            return None
        patrol = session.get(Patrol, int(record.subject_id))
        if patrol is None:
            return None
        crew_orgs = set(session.scalars(select(col(Volunteer.organisation_id))
                                        .join(Assignment, col(Assignment.volunteer_id) == col(Volunteer.id))
                                        .where(col(Assignment.patrol_id) == patrol.id,
                                               col(Assignment.status).in_(("accepted", "checked_in")))))
        teams = crew_orgs | ({patrol.organisation_id} if patrol.organisation_id else set())
        return (title, f"{_zone_name(session, patrol.zone_id)} (#{patrol.id})",
                {"patrol_id": patrol.id, "team_orgs": teams})

    return make


def _risk_tomorrow(session: Session, rule: dict, record: AuditRecord, data: dict) -> Made:
    tomorrow = (record.occurred_at.astimezone(ATHENS) + timedelta(days=1)).date().isoformat()
    least = int(rule.get("min_category", 4))
    tree = risk.zone_tree(session)
    by_code = tree.by_code()
    zones = {by_code[c["zone"]]: c["category"] for c in data.get("changes", [])
             if c.get("date") == tomorrow and int(c.get("category", 0)) >= least
             and (c.get("before") or 0) < least and c.get("zone") in by_code}
    if not zones:
        return None
    area: set[int] = set()
    for zone_id in zones:
        area |= tree.below({zone_id}) | set(tree.ancestors(zone_id))
    orgs = set(session.scalars(select(col(OrganisationZone.organisation_id))
                               .where(col(OrganisationZone.zone_id).in_(sorted(area)))))
    regions = sorted(z for z in zones if tree.by_id[z].kind == "region")  # a whole region: all its teams
    orgs |= set(session.scalars(select(id_column(Organisation.id)).where(col(Organisation.region_id).in_(regions)))) \
        if regions else set()
    names = sorted(f"{tree.by_id[z].name_el} {c}" for z, c in zones.items())
    body = ", ".join(names[:5]) + (f" +{len(names) - 5}" if len(names) > 5 else "")
    return (f"Κίνδυνος {max(zones.values())} αύριο · Fire risk {max(zones.values())} tomorrow", body,
            {"area_orgs": orgs})


def _handover(session: Session, rule: dict, record: AuditRecord, data: dict) -> Made:
    kind = {"incident": "Συμβάν · Incident", "patrol": "Περιπολία · Patrol"}.get(record.subject_type,
                                                                                 record.subject_type)
    return ("Σας ανατέθηκε · Handed over to you", f"{kind} #{record.subject_id}",
            {"holder": data.get("holder_user_id")})


_MAKERS: dict[str, Callable[[Session, dict, AuditRecord, dict], Made]] = {
    "proposal": _proposal, "incident_nearby": _incident_nearby,
    "sos": _alert("sos", "SOS"), "lost_contact": _alert("lost_contact", "Απώλεια επαφής · Lost contact"),
    "risk_tomorrow": _risk_tomorrow, "handover": _handover,
}


def describe(rules: dict[str, dict[str, Any]]) -> str:
    """The rules as compact JSON (for logs and the docs)."""
    return json.dumps(rules, ensure_ascii=False, sort_keys=True)
