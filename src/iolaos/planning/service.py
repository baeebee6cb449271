"""Planning: the day's map and policy → required patrols → optimal crews; preview, then commit."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from time import perf_counter

from sqlalchemy import func, select
from sqlmodel import Session, col

from iolaos.auth.principal import Principal, organisation_ids
from iolaos.config import Settings
from iolaos.errors import Conflict, NotFound
from iolaos.i18n import coded
from iolaos.journal import service as journal
from iolaos.kit.ids import id_column, saved_id
from iolaos.kit.time import utcnow
from iolaos.organisations import names as organisation_names
from iolaos.patrols import service as patrols_service
from iolaos.patrols.access import patrol_topics
from iolaos.patrols.models import Assignment, Patrol
from iolaos.planning import instance as builder
from iolaos.planning import optimiser
from iolaos.planning.core import Placement, Result
from iolaos.planning.models import PlanRun, UnfilledSlot
from iolaos.planning.schemas import ChangeKind, CrewOut, ObjectiveOut, OpenPlaceOut, PatrolOut, PlanChangeOut, PlanOut
from iolaos.responsibility import service as responsibility
from iolaos.responsibility import subjects
from iolaos.risk import service as risk
from iolaos.risk.models import CATEGORIES


def _area(session: Session, principal: Principal, region_code: str | None) -> tuple[set[int] | None, int | None]:
    """Zones the caller may plan (within ``region_code`` when given) and that region's id; 404 outside."""
    allowed = risk.zones_in_scope(session, principal, "plan.write")
    if region_code is None:
        return allowed, None
    tree = risk.zone_tree(session)
    region_id = tree.by_code().get(region_code)
    if region_id is None or tree.by_id[region_id].kind != "region" or (allowed is not None and region_id not in
                                                                       allowed):
        raise NotFound(f"no region with code {region_code!r} in your area")
    within = tree.below({region_id})
    return (within if allowed is None else within & allowed), region_id


def _solve(session: Session, settings: Settings, principal: Principal, day: date, region_code: str | None,
           now: datetime) -> tuple[builder.Built, Result, int | None]:
    zones, region_id = _area(session, principal, region_code)
    volunteer_orgs = organisation_ids(session, principal, "volunteer.read")
    built = builder.build(session, settings, day, zones, volunteer_orgs, now)
    return built, optimiser.assign(built.instance), region_id


def preview(session: Session, settings: Settings, *, principal: Principal, day: date, region_code: str | None,
            now: datetime | None = None) -> PlanOut:
    """The plan the engine would commit now; nothing is written."""
    principal.scope("plan.write")
    started = perf_counter()
    built, result, _ = _solve(session, settings, principal, day, region_code, now or utcnow())
    return _plan_out(session, built, result, day, region_code, None, perf_counter() - started,
                     changes=_changes(session, built))


def commit(session: Session, settings: Settings, *, principal: Principal, day: date, region_code: str | None,
           expected: str | None, now: datetime | None = None) -> PlanOut:
    """Write the plan: new patrols, upgrades and surplus cancellations, proposals to organisation leaders, open
    places with reasons; journalled."""
    principal.scope("plan.write")
    started = perf_counter()
    now = now or utcnow()
    patrols_service.expire_ended(session, now=now)
    built, result, region_id = _solve(session, settings, principal, day, region_code, now)
    if expected is not None and expected != built.fingerprint:
        raise Conflict({"message": "the inputs changed since the preview; preview again",
                        "fingerprint": built.fingerprint}, code="plan_changed")
    changes = _changes(session, built)
    if not built.instance.needs and not changes:
        raise Conflict("nothing to plan: no zone in your area needs patrols on that day", code="nothing_to_plan")
    run = _new_run(session, principal, day, region_id, region_code, built, result)
    _apply_changes(session, principal, built, run.plan_key)
    patrols = _write_patrols(session, principal, built, result, run, now)
    _write_gaps(session, run, patrols, result)
    journal.record(session, actor=principal.actor, action="plan.commit", subject_type="plan", subject_id=saved_id(run),
                   data={"plan_key": run.plan_key, **json.loads(run.summary)},
                   topics=_region_topics(session, patrols.values()))
    return _plan_out(session, built, result, day, region_code, run.plan_key, perf_counter() - started, patrols,
                     changes=changes)


def _new_run(session: Session, principal: Principal, day: date, region_id: int | None, region_code: str | None,
             built: builder.Built, result: Result) -> PlanRun:
    runs = session.scalar(select(func.count()).select_from(PlanRun).where(col(PlanRun.day) == day)) or 0
    o = result.objective
    summary = {"date": day.isoformat(), "region": region_code, "patrols": len(built.instance.needs),
               "places": o.places, "filled": o.filled, "coverage": o.coverage, "travel_km": round(o.travel_km, 2),
               "fairness": round(o.fairness, 2), "cohesion": round(o.cohesion, 2)}
    run = PlanRun(plan_key=f"{day.isoformat()}:{region_code or 'all'}:{runs + 1}", day=day, region_id=region_id,
                  committed_by_user_id=principal.user_id, fingerprint=built.fingerprint,
                  summary=json.dumps(summary, sort_keys=True))
    session.add(run)
    session.flush()
    return run


def _write_patrols(session: Session, principal: Principal, built: builder.Built, result: Result, run: PlanRun,
                   now: datetime) -> dict[str, Patrol]:
    """Patrol rows for new needs, proposals for every placement; each patrol journalled and live."""
    by_need: dict[str, list[Placement]] = {}
    for p in result.placements:
        by_need.setdefault(p.need_key, []).append(p)
    orgs_of = {c.id: c.org_id for c in built.instance.candidates}
    out: dict[str, Patrol] = {}
    for need in built.instance.needs:
        patrol, created = _patrol_for(session, principal, built, need.key, result.executing_org.get(need.key), run)
        crew = by_need.get(need.key, [])
        for p in crew:
            patrols_service.propose(session, actor=principal.actor, patrol=patrol, volunteer_id=p.volunteer_id,
                                    slot_skill=need.slots[p.slot], reasons=list(p.reasons), now=now)
        topics = patrol_topics(session, patrol, {orgs_of[p.volunteer_id] for p in crew},
                               {p.volunteer_id for p in crew})
        journal.record(session, actor=principal.actor, action="patrol.plan" if created else "patrol.restaff",
                       subject_type="patrol", subject_id=saved_id(patrol), topics=topics, event_kind="patrol.proposed",
                       data={"plan_key": run.plan_key, "zone_id": patrol.zone_id, "proposed": [
                           p.volunteer_id for p in crew], "open": len(need.slots) - len(crew)})
        if created:
            responsibility.assign_initial(session, actor=principal.actor, ref=_ref(session, patrol),
                                          holder_user_id=principal.user_id,
                                          holder_organisation_id=principal.organisation_id,
                                          reason=coded.encode("reason.resp.planned", plan=run.plan_key))
        out[need.key] = patrol
    return out


def _patrol_for(session: Session, principal: Principal, built: builder.Built, key: str, org_id: int | None,
                run: PlanRun) -> tuple[Patrol, bool]:
    if key in built.existing:
        patrol = built.existing[key]
        patrols_service.set_executing(session, patrol, org_id)
        return patrol, False
    req = built.requirements[key]
    patrol = patrols_service.create_planned(
        session, principal=principal, zone_id=req.zone_id, organisation_id=org_id, shift_start=req.start,
        shift_end=req.end, crew_size=req.rule.crew_size, required_skills=list(req.rule.required_skills),
        capability=req.rule.capability, risk_category=req.category, plan_key=run.plan_key)
    return patrol, True


def _changes(session: Session, built: builder.Built) -> list[PlanChangeOut]:
    """What the plan does to patrols already planned: upgrades, new categories, surplus."""
    tree = risk.zone_tree(session)
    out = []

    def change(kind: ChangeKind, patrol: Patrol, category: int | None, reason: str) -> PlanChangeOut:
        return PlanChangeOut(kind=kind, patrol_id=saved_id(patrol), zone_code=tree.by_id[patrol.zone_id].code,
                             shift_start=patrol.shift_start, risk_category=category, reason=reason)

    for key, req in built.upgrades.items():
        patrol = built.existing.get(key) or session.get_one(Patrol, int(key.split(":")[1]))
        out.append(change("upgrade", patrol, req.category,
                          f"risk category {patrol.risk_category} → {req.category}: a {req.rule.capability} patrol "
                          f"of {req.rule.crew_size} is needed"))
    for patrol_id, category in built.recategorise.items():
        patrol = session.get_one(Patrol, patrol_id)
        out.append(change("recategorise", patrol, category,
                          f"risk category {patrol.risk_category} → {category}; the patrol already fits"))
    for patrol, staffed, reason in built.surplus:
        out.append(change("keep_surplus" if staffed else "cancel", patrol, patrol.risk_category, reason))
    return out


def _apply_changes(session: Session, principal: Principal, built: builder.Built, plan_key: str) -> None:
    for key, req in built.upgrades.items():
        patrol = session.get_one(Patrol, int(key.split(":")[1]))
        patrols_service.upgrade(session, principal=principal, patrol=patrol, crew_size=req.rule.crew_size,
                                required_skills=list(req.rule.required_skills), capability=req.rule.capability,
                                risk_category=req.category, plan_key=plan_key,
                                reason=f"risk category {patrol.risk_category} → {req.category}")
    for patrol_id, category in built.recategorise.items():
        patrols_service.set_category(session, principal=principal, patrol=session.get_one(Patrol, patrol_id),
                                     category=category, plan_key=plan_key)
    for patrol, staffed, reason in built.surplus:
        if not staffed:
            patrols_service.replan_cancel(session, principal=principal, patrol=patrol, reason=reason,
                                          plan_key=plan_key)


def _write_gaps(session: Session, run: PlanRun, patrols: dict[str, Patrol], result: Result) -> None:
    session.add_all([UnfilledSlot(plan_run_id=saved_id(run), patrol_id=saved_id(patrols[g.need_key]), skill=g.skill,
                                  reason=g.reason[:500]) for g in result.gaps])
    session.flush()


def _region_topics(session: Session, patrols) -> list[str]:
    tree = risk.zone_tree(session)
    regions = {tree.region_of(p.zone_id) for p in patrols}
    return sorted(f"region:{r.code}" for r in regions if r is not None) or ["risk"]


def _ref(session: Session, patrol: Patrol) -> subjects.SubjectRef:
    holder = responsibility.current_row(session, "patrol", saved_id(patrol))
    org_id = patrol.organisation_id or (holder.holder_organisation_id if holder else 0)
    return subjects.SubjectRef("patrol", saved_id(patrol), org_id, tuple(patrol_topics(session, patrol)))


def _plan_out(session: Session, built: builder.Built, result: Result, day: date, region_code: str | None,
              plan_key: str | None, seconds: float, patrols: dict[str, Patrol] | None = None, *,
              changes: list[PlanChangeOut] | None = None) -> PlanOut:
    tree = risk.zone_tree(session)
    by_need: dict[str, list[Placement]] = {}
    for p in result.placements:
        by_need.setdefault(p.need_key, []).append(p)
    gaps: dict[str, list[OpenPlaceOut]] = {}
    for g in result.gaps:
        gaps.setdefault(g.need_key, []).append(OpenPlaceOut(skill=g.skill, reason=g.reason))
    orgs_of = {c.id: c.org_id for c in built.instance.candidates}
    ids = _assignment_ids(session, patrols) if patrols else {}
    out = []
    for need in built.instance.needs:
        zone, patrol = tree.by_id[need.zone_id], (patrols or {}).get(need.key) or built.existing.get(need.key)
        crew = [CrewOut(assignment_id=ids.get((saved_id(patrol), p.volunteer_id)) if patrol and patrols else None,
                        volunteer_id=p.volunteer_id, volunteer_name=built.names.get(p.volunteer_id),
                        organisation_id=orgs_of[p.volunteer_id], status="proposed", slot_skill=need.slots[p.slot],
                        travel_km=round(p.travel_km, 2), reasons=list(p.reasons)) for p in by_need.get(need.key, [])]
        out.append(PatrolOut(
            key=need.key, patrol_id=patrol.id if patrol else None, zone_code=zone.code, zone_name_el=zone.name_el,
            zone_name_en=zone.name_en, risk_category=need.category, colour=CATEGORIES[need.category][2]
            if need.category in CATEGORIES else None, shift_start=_dt(need.start), shift_end=_dt(need.end),
            capability=need.capability, crew_size=len(need.slots) + len(need.crew_orgs),
            required_skills=[s for s in need.slots if s], status=patrol.status if patrol else "planned",
            executing_organisation_id=result.executing_org.get(need.key),
            plan_key=patrol.plan_key if patrol else None, crew=crew, open_places=gaps.get(need.key, [])))
    o = result.objective
    return PlanOut(date=day, region_code=region_code, committed=plan_key is not None, plan_key=plan_key,
                   fingerprint=built.fingerprint, seconds=round(seconds, 3), changes=changes or [],
                   patrols=organisation_names.fill_patrols(session, out),
                   objective=ObjectiveOut(coverage=o.coverage, filled=o.filled, places=o.places,
                                          travel_km=round(o.travel_km, 3), fairness=round(o.fairness, 3),
                                          cohesion=round(o.cohesion, 3), secondary=round(o.secondary, 3)))


def _assignment_ids(session: Session, patrols: dict[str, Patrol]) -> dict[tuple[int, int], int]:
    ids = [saved_id(p) for p in patrols.values()]
    if not ids:
        return {}
    rows = session.execute(select(col(Assignment.patrol_id), col(Assignment.volunteer_id), id_column(Assignment.id))
                           .where(col(Assignment.patrol_id).in_(ids)))
    return {(p, v): a for p, v, a in rows}


def _dt(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
