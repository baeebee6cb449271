"""HTTP routes of coverage planning: policy, plans, patrols, proposals and coverage reports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from iolaos.auth.deps import PrincipalDep, SessionDep
from iolaos.errors import error_responses
from iolaos.kit import strict
from iolaos.patrols import service as patrols
from iolaos.planning import policy, reports, season_report, service, workflow
from iolaos.planning.schemas import (
    CoverageRow,
    DecisionIn,
    EquityOut,
    OverrideIn,
    PatrolOut,
    PlanIn,
    PlanOut,
    PolicyIn,
    PolicyOut,
)
from iolaos.planning.season_schemas import BaselineOut, SeasonOut

router = APIRouter(prefix="/api/v1", tags=["planning"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
RegionCode = Annotated[str | None, Query(min_length=1, max_length=40, description="a region's zone code")]
READ = error_responses(401, 403, 404, 422)
WRITE = error_responses(401, 403, 404, 409, 422)


@router.get("/coverage/policy", response_model=PolicyOut, summary="The coverage policy in force", responses=READ)
def get_policy(session: SessionDep, principal: PrincipalDep, region: RegionCode = None) -> PolicyOut:
    """Per risk category: patrols per zone and shift, crew, skills, capability, shifts; and where each comes from."""
    principal.scope("coverage.read")
    return policy.policy_out(session, region)


@router.put("/coverage/policy", response_model=PolicyOut, summary="Change the coverage policy", responses=WRITE)
def set_policy(session: SessionDep, principal: PrincipalDep, body: PolicyIn) -> PolicyOut:
    """New versions of some categories' rules for your region (national organisations: any, or national)."""
    return policy.set_policy(session, principal=principal, data=body)


@router.get("/plans/preview", response_model=PlanOut, summary="Preview the plan of a day", responses=READ)
def preview(request: Request, session: SessionDep, principal: PrincipalDep,
            day: Annotated[strict.Day, Query(alias="date")], region: RegionCode = None) -> PlanOut:
    """Required patrols from the day's risk map and policy, with the best crews and reasons; nothing is written."""
    return service.preview(session, request.app.state.settings, principal=principal, day=day, region_code=region,
                           now=request.app.state.clock())


@router.post("/plans", response_model=PlanOut, status_code=201, summary="Commit the plan of a day",
             responses=WRITE)
def commit(request: Request, session: SessionDep, principal: PrincipalDep, body: PlanIn) -> PlanOut:
    """Write the patrols and send the proposals to the organisations' leaders; open places say why."""
    return service.commit(session, request.app.state.settings, principal=principal, day=body.date,
                          region_code=body.region_code, expected=body.fingerprint, now=request.app.state.clock())


@router.get("/patrols", response_model=list[PatrolOut], summary="Patrols you may see", responses=READ)
def list_patrols(session: SessionDep, principal: PrincipalDep,
                 day: Annotated[strict.Day | None, Query(alias="date")] = None,
                 status: Annotated[str | None, Query(pattern="^(planned|staffed|active|completed|cancelled)$")] = None,
                 limit: Annotated[int, Query(ge=1, le=500)] = 100,
                 offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[PatrolOut]:
    """By shift start; leaders see their organisation's, volunteers their own."""
    found = workflow.list_visible(session, principal, day=day, status=status, limit=limit, offset=offset)
    return workflow.to_out(session, principal, found)


@router.get("/patrols/{patrol_id}", response_model=PatrolOut, summary="One patrol", responses=READ)
def get_patrol(session: SessionDep, principal: PrincipalDep, patrol_id: Id) -> PatrolOut:
    """A patrol with its crew, the reasons for each proposal, and why open places are open."""
    return workflow.to_out(session, principal, [workflow.get_visible(session, principal, patrol_id)])[0]


@router.post("/patrols/{patrol_id}/crew", response_model=PatrolOut, summary="Put a volunteer on a patrol",
             responses=WRITE)
def override(request: Request, session: SessionDep, principal: PrincipalDep, patrol_id: Id, body: OverrideIn
             ) -> PatrolOut:
    """Dispatchers: assign directly (accepted at once) with a reason; the hard constraints still apply."""
    patrol = patrols.assign(session, request.app.state.settings, principal=principal, patrol_id=patrol_id,
                            volunteer_id=body.volunteer_id, reason=body.reason, overrides=tuple(body.override),
                            now=request.app.state.clock())
    return workflow.to_out(session, principal, [patrol])[0]


@router.post("/patrols/{patrol_id}/cancel", response_model=PatrolOut, summary="Cancel a patrol", responses=WRITE)
def cancel(session: SessionDep, principal: PrincipalDep, patrol_id: Id, body: DecisionIn) -> PatrolOut:
    """Cancel a planned or staffed patrol and its crew's assignments, with a reason."""
    patrol = patrols.cancel(session, principal=principal, patrol_id=patrol_id, reason=body.reason)
    return workflow.to_out(session, principal, [patrol])[0]


@router.post("/assignments/{assignment_id}/accept", response_model=PatrolOut, summary="Accept a proposal",
             responses=WRITE)
def accept(request: Request, session: SessionDep, principal: PrincipalDep, assignment_id: Id) -> PatrolOut:
    """Leaders: accept a proposal for one of your volunteers (the hard constraints are checked again)."""
    patrol = patrols.accept(session, request.app.state.settings, principal=principal, assignment_id=assignment_id,
                            now=request.app.state.clock())
    return workflow.to_out(session, principal, [patrol])[0]


@router.post("/assignments/{assignment_id}/decline", response_model=PatrolOut, summary="Decline a proposal",
             responses=WRITE)
def decline(request: Request, session: SessionDep, principal: PrincipalDep, assignment_id: Id, body: DecisionIn
            ) -> PatrolOut:
    """Leaders: decline (or withdraw) one of your volunteers, with a reason."""
    patrol = patrols.decline(session, request.app.state.settings, principal=principal, assignment_id=assignment_id,
                             reason=body.reason, now=request.app.state.clock())
    return workflow.to_out(session, principal, [patrol])[0]


@router.post("/assignments/{assignment_id}/remove", response_model=PatrolOut, summary="Take a volunteer off",
             responses=WRITE)
def remove(request: Request, session: SessionDep, principal: PrincipalDep, assignment_id: Id, body: DecisionIn
           ) -> PatrolOut:
    """Dispatchers: take a volunteer off a patrol, with a reason."""
    patrol = patrols.remove(session, request.app.state.settings, principal=principal, assignment_id=assignment_id,
                            reason=body.reason, now=request.app.state.clock())
    return workflow.to_out(session, principal, [patrol])[0]


@router.get("/coverage/report", response_model=list[CoverageRow], summary="Required vs staffed per zone and day",
            responses=READ)
def coverage_report(request: Request, session: SessionDep, principal: PrincipalDep, start: strict.Day,
                        end: strict.Day,
                    region: RegionCode = None) -> list[CoverageRow]:
    """For dispatchers: crew places required by the risk map and policy against those planned and staffed
    (up to a season: IOLAOS_COVERAGE_MAX_DAYS)."""
    return reports.coverage(session, request.app.state.settings, principal=principal, start=start, end=end,
                            region_code=region)


@router.get("/coverage/equity", response_model=EquityOut, summary="Equity of coverage across municipalities",
            responses=READ)
def coverage_equity(request: Request, session: SessionDep, principal: PrincipalDep, start: strict.Day,
                        end: strict.Day,
                    region: RegionCode = None) -> EquityOut:
    """For regional reviewers: staffed/required per municipality, its Gini coefficient, under-covered high-risk days."""
    return reports.equity(session, request.app.state.settings, principal=principal, start=start, end=end,
                          region_code=region)


@router.get("/coverage/season", response_model=SeasonOut, summary="A season at a glance", responses=READ)
def coverage_season(request: Request, session: SessionDep, principal: PrincipalDep, start: strict.Day,
                        end: strict.Day,
                    region: RegionCode = None) -> SeasonOut:
    """Risk-weighted need against planned, staffed and patrolled hours; the Gini coefficient and Lorenz curve of
    the risk-weighted shortfall over municipalities, the worst served, and the zone × day heatmap."""
    return season_report.report(session, request.app.state.settings, principal=principal, start=start, end=end,
                                region_code=region)


@router.get("/coverage/season.csv", summary="A season's zone-days as CSV", response_class=Response,
            responses={**READ, 200: {"content": {"text/csv": {}}}})
def coverage_season_csv(request: Request, session: SessionDep, principal: PrincipalDep, start: strict.Day,
                        end: strict.Day,
                        region: RegionCode = None) -> Response:
    """Every zone-day of the range with category, need, planned, staffed and patrolled hours and shortfall."""
    body = season_report.csv_file(session, request.app.state.settings, principal=principal, start=start, end=end,
                                  region_code=region)
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="iolaos-season-{start}-{end}.csv"'})


@router.get("/coverage/season.gpkg", summary="A season as a GeoPackage", response_class=Response,
            responses={**READ, 200: {"content": {"application/geopackage+sqlite3": {}}}})
def coverage_season_gpkg(request: Request, session: SessionDep, principal: PrincipalDep, start: strict.Day,
                        end: strict.Day,
                         region: RegionCode = None) -> Response:
    """Layers ``municipalities`` (season totals on the boundaries) and ``zone_days`` (points with a date)."""
    body = season_report.geopackage(session, request.app.state.settings, principal=principal, start=start,
                                    end=end, region_code=region)
    return Response(body, media_type="application/geopackage+sqlite3",
                    headers={"Content-Disposition": f'attachment; filename="iolaos-season-{start}-{end}.gpkg"'})


@router.get("/coverage/baseline", response_model=BaselineOut, summary="The planner against the greedy baseline",
            responses=READ)
def coverage_baseline(request: Request, session: SessionDep, principal: PrincipalDep, start: strict.Day,
                        end: strict.Day,
                      region: RegionCode = None) -> BaselineOut:
    """On under-covered high-risk zone-days: open places the planner fills against a greedy nearest-available
    baseline on the same instance (nothing is written)."""
    return season_report.compare_baseline(session, request.app.state.settings, principal=principal, start=start,
                                          end=end, region_code=region)
