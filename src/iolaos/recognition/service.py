"""Contribution statements built only from the audit journal.

Every figure comes from ``audit_record`` rows, never from the operational tables (which change and
are purged): hours and patrol days from ``patrol.check_out`` records (``data.volunteers`` =
``[{volunteer_id, hours, organisation_id?}]``, with ``data.risk_category`` and ``data.shift_date``),
sightings from ``incident.report`` records, and their confirmation from a later
``incident.transition`` to acknowledged, dispatched, contained or resolved made by someone of a
Fire Service organisation. The reference tables only name things: a volunteer's account and
organisation (when the record does not carry it), organisations' kinds and names.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from iolaos.auth.permissions import Scope
from iolaos.auth.principal import Principal, ensure_in_scope
from iolaos.errors import NotFound
from iolaos.journal.models import AuditRecord, JournalHead
from iolaos.kit.ids import id_column, saved_id
from iolaos.kit.time import as_utc, utcnow
from iolaos.organisations.models import Organisation
from iolaos.recognition.schemas import (
    ConfirmedSighting,
    OrganisationStatement,
    PatrolService,
    Source,
    Totals,
    VolunteerLine,
    VolunteerStatement,
)
from iolaos.volunteers.models import Volunteer

CONFIRMING = ("acknowledged", "dispatched", "contained", "resolved")
HIGH_RISK = 4
CONFIRMERS = ("fire_service",)


@dataclass(frozen=True)
class Period:
    """Journal records with ``since <= occurred_at < until`` (no lower bound when ``since`` is None)."""

    since: datetime | None
    until: datetime


@dataclass(frozen=True)
class Shift:
    """One volunteer's part of one ``patrol.check_out`` record."""

    service: PatrolService
    volunteer_id: int
    organisation_id: int | None


@dataclass(frozen=True)
class Report:
    """One ``incident.report`` record, and its confirmation if the Fire Service gave one."""

    seq: int
    incident_id: int
    user_id: int | None
    confirmed: ConfirmedSighting | None


def _in_period(query: Any, period: Period, head: int) -> Any:
    query = query.where(AuditRecord.occurred_at < period.until, AuditRecord.seq <= head)
    return query if period.since is None else query.where(AuditRecord.occurred_at >= period.since)


def _head(session: Session) -> JournalHead:
    head = session.get(JournalHead, 1)
    return head if head is not None else JournalHead(id=1, epoch="")


def shifts(session: Session, period: Period, head: int) -> list[Shift]:
    """Every volunteer's part of every ``patrol.check_out`` record in the period, oldest first."""
    rows = session.execute(_in_period(select(col(AuditRecord.seq), col(AuditRecord.occurred_at), col(AuditRecord.data))
                                      .where(col(AuditRecord.action) == "patrol.check_out"), period, head)
                           .order_by(AuditRecord.seq)).all()
    found = []
    for seq, at, raw in rows:
        data = json.loads(raw)
        risk = data.get("risk_category")
        day = date.fromisoformat(data["shift_date"]) if data.get("shift_date") else None
        for part in data.get("volunteers", []):
            service = PatrolService(seq=seq, checked_out_at=as_utc(at), patrol_id=int(data.get("patrol_id", 0)),
                                    shift_date=day, risk_category=risk,
                                    high_risk=risk is not None and risk >= HIGH_RISK, hours=float(part["hours"]))
            found.append(Shift(service, int(part["volunteer_id"]), part.get("organisation_id")))
    return found


def reports(session: Session, period: Period, head: int, *, user_ids: Iterable[int] | None = None,
            organisation_id: int | None = None) -> list[Report]:
    """Incidents reported in the period by these accounts (or this organisation's), with Fire Service confirmation."""
    query = select(AuditRecord).where(col(AuditRecord.action) == "incident.report")
    if user_ids is not None:
        query = query.where(col(AuditRecord.actor_user_id).in_(set(user_ids) or {-1}))
    if organisation_id is not None:
        query = query.where(col(AuditRecord.actor_organisation_id) == organisation_id)
    rows = list(session.scalars(_in_period(query, period, head).order_by(col(AuditRecord.seq))))
    confirmations = _confirmations(session, {r.subject_id for r in rows}, head)
    found = []
    for record in rows:
        first = next((c for c in confirmations.get(record.subject_id, []) if c.seq > record.seq), None)
        confirmed = None
        if first is not None and first.actor_organisation_id is not None:  # confirmers are members of a fire org
            confirmed = ConfirmedSighting(
                incident_id=int(record.subject_id), kind=json.loads(record.data).get("kind"),
                reported_at=as_utc(record.occurred_at), report_seq=record.seq, reported_by_user_id=record.actor_user_id,
                confirmed_at=as_utc(first.occurred_at), confirmation_seq=first.seq,
                confirmed_status=json.loads(first.data)["to"], confirmed_by_organisation_id=first.actor_organisation_id)
        found.append(Report(record.seq, int(record.subject_id), record.actor_user_id, confirmed))
    return found


def _confirmations(session: Session, incident_ids: set[str], head: int) -> dict[str, list[AuditRecord]]:
    """Transitions to a confirming status made by Fire Service people, per incident, oldest first."""
    if not incident_ids:
        return {}
    fire = set(session.scalars(select(col(Organisation.id)).where(col(Organisation.kind).in_(CONFIRMERS))))
    rows = session.scalars(select(AuditRecord).where(
        col(AuditRecord.action) == "incident.transition", col(AuditRecord.subject_type) == "incident",
        col(AuditRecord.subject_id).in_(incident_ids), col(AuditRecord.actor_organisation_id).in_(fire or {-1}),
        col(AuditRecord.seq) <= head).order_by(col(AuditRecord.seq)))
    found: dict[str, list[AuditRecord]] = defaultdict(list)
    for record in rows:
        if json.loads(record.data).get("to") in CONFIRMING:
            found[record.subject_id].append(record)
    return found


def totals(services: list[PatrolService], found: list[Report]) -> Totals:
    """Hours, patrols, high-risk days and sightings added up."""
    high = sorted({s.shift_date for s in services if s.high_risk and s.shift_date is not None})
    return Totals(hours_on_patrol=round(sum(s.hours for s in services), 2),
                  patrols=len({s.patrol_id for s in services}), high_risk_days=len(high), high_risk_dates=high,
                  sightings_reported=len(found), sightings_confirmed=sum(r.confirmed is not None for r in found))


def _source(head: JournalHead, used: int) -> Source:
    return Source(journal_seq=head.audit_seq, journal_hash=head.audit_hash, records_used=used)


def volunteer_statement(session: Session, *, principal: Principal, volunteer_id: int, period: Period
                        ) -> VolunteerStatement:
    """One volunteer's hours on patrol, high-risk days covered and sightings the Fire Service confirmed."""
    principal.scope("recognition.read")
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound("no such volunteer")
    ensure_in_scope(session, principal, "recognition.read", volunteer.organisation_id,
                    is_self=volunteer.user_id is not None and volunteer.user_id == principal.user_id,
                    what="volunteer")
    org = session.get_one(Organisation, volunteer.organisation_id)
    head = _head(session)
    services = [s.service for s in shifts(session, period, head.audit_seq) if s.volunteer_id == volunteer.id]
    found = reports(session, period, head.audit_seq, user_ids=[volunteer.user_id] if volunteer.user_id else [])
    confirmed = [r.confirmed for r in found if r.confirmed is not None]
    used = len({s.seq for s in services}) + len(found) + len(confirmed)
    return VolunteerStatement(
        volunteer_id=saved_id(volunteer), volunteer_name=volunteer.full_name, organisation_id=saved_id(org),
        organisation_name_el=org.name_el, organisation_name_en=org.name_en, since=period.since,
        until=period.until, totals=totals(services, found), patrols=services, sightings=confirmed,
        source=_source(head, used), generated_at=utcnow())


def organisation_statement(session: Session, *, principal: Principal, org_id: int, period: Period
                           ) -> OrganisationStatement:
    """An organisation's contribution: its volunteers' hours and high-risk days, its people's confirmed sightings.

    A volunteer (``self`` scope) may read their own organisation's statement: the totals, and only their own line.
    """
    scope = principal.scope("recognition.read")
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound("no such organisation")
    if scope is Scope.SELF:
        if org.id != principal.organisation_id:
            raise NotFound("no such organisation")
    else:
        ensure_in_scope(session, principal, "recognition.read", saved_id(org), what="organisation")
    head = _head(session)
    members = {saved_id(v): v
               for v in session.scalars(select(Volunteer).where(col(Volunteer.organisation_id) == org.id))}
    mine = [s for s in shifts(session, period, head.audit_seq)
            if s.organisation_id == org.id or (s.organisation_id is None and s.volunteer_id in members)]
    found = reports(session, period, head.audit_seq, organisation_id=org.id)
    lines = _lines(session, mine, found, members)
    sightings = [r.confirmed for r in found if r.confirmed is not None]
    if scope is Scope.SELF:
        lines = [line for line in lines if members.get(line.volunteer_id) is not None
                 and members[line.volunteer_id].user_id == principal.user_id]
        sightings = [s for s in sightings if s.reported_by_user_id == principal.user_id]
    used = len({s.service.seq for s in mine}) + len(found) + sum(r.confirmed is not None for r in found)
    return OrganisationStatement(
        organisation_id=saved_id(org), organisation_kind=org.kind, organisation_name_el=org.name_el,
        organisation_name_en=org.name_en, since=period.since, until=period.until,
        totals=totals([s.service for s in mine], found), volunteers=lines, only_own_line=scope is Scope.SELF,
        sightings=sightings, source=_source(head, used), generated_at=utcnow())


def _lines(session: Session, mine: list[Shift], found: list[Report], members: dict[int, Volunteer]
           ) -> list[VolunteerLine]:
    """One line per volunteer with hours or sightings, most hours first."""
    by_user = {v.user_id: saved_id(v) for v in members.values() if v.user_id is not None}
    services: dict[int, list[PatrolService]] = defaultdict(list)
    for shift in mine:
        services[shift.volunteer_id].append(shift.service)
    reported: dict[int, list[Report]] = defaultdict(list)
    for report in found:
        if report.user_id in by_user:
            reported[by_user[report.user_id]].append(report)
    missing = (set(services) | set(reported)) - set(members)
    names = {saved_id(v): v.full_name for v in members.values()}
    if missing:
        names |= dict(session.execute(select(id_column(Volunteer.id), col(Volunteer.full_name))
                                      .where(col(Volunteer.id).in_(missing))).all())
    lines = []
    for volunteer_id in set(services) | set(reported):
        t = totals(services.get(volunteer_id, []), reported.get(volunteer_id, []))
        lines.append(VolunteerLine(volunteer_id=volunteer_id, volunteer_name=names.get(volunteer_id, "?"),
                                   hours_on_patrol=t.hours_on_patrol, patrols=t.patrols,
                                   high_risk_days=t.high_risk_days, sightings_reported=t.sightings_reported,
                                   sightings_confirmed=t.sightings_confirmed))
    return sorted(lines, key=lambda line: (-line.hours_on_patrol, line.volunteer_name, line.volunteer_id))
