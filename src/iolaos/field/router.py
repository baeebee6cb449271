"""HTTP routes for field operations: crew, lifecycle, positions, safety alerts, incident links."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

from iolaos.auth.deps import PrincipalDep, SessionDep
from iolaos.errors import error_responses
from iolaos.field import alerts, links, positions
from iolaos.field.schemas import (
    AlertOut,
    BatchResult,
    CrewIn,
    FieldStatusIn,
    LinkIn,
    LinkOut,
    NearPatrolOut,
    NoteIn,
    PositionBatch,
    PositionOut,
    SosOut,
    StartIn,
)
from iolaos.kit.strict import Instant
from iolaos.patrols import service as patrols
from iolaos.planning import workflow
from iolaos.planning.schemas import PatrolOut

router = APIRouter(prefix="/api/v1", tags=["field"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
WRITE = error_responses(401, 403, 404, 409, 422)
READ = error_responses(401, 403, 404, 422)


def _patrol(session, principal, patrol) -> PatrolOut:
    return workflow.to_out(session, principal, [patrol])[0]


@router.post("/patrols/{patrol_id}/check-in", response_model=PatrolOut, summary="Check crew in", responses=WRITE)
def check_in(request: Request, session: SessionDep, principal: PrincipalDep, patrol_id: Id, body: CrewIn
             ) -> PatrolOut:
    """Crew who accepted report for duty, from the check-in window on (docs/patrols.md)."""
    patrol = patrols.check_in(session, request.app.state.settings, principal=principal, patrol_id=patrol_id,
                              volunteer_ids=body.volunteer_ids, now=request.app.state.clock())
    return _patrol(session, principal, patrol)


@router.post("/patrols/{patrol_id}/check-out", response_model=PatrolOut, summary="Check crew out", responses=WRITE)
def check_out(request: Request, session: SessionDep, principal: PrincipalDep, patrol_id: Id, body: CrewIn
              ) -> PatrolOut:
    """Crew sign out; their hours are journalled."""
    patrol = patrols.check_out(session, principal=principal, patrol_id=patrol_id, volunteer_ids=body.volunteer_ids,
                               now=request.app.state.clock())
    return _patrol(session, principal, patrol)


@router.post("/patrols/{patrol_id}/start", response_model=PatrolOut, summary="Start the patrol", responses=WRITE)
def start(request: Request, session: SessionDep, principal: PrincipalDep, patrol_id: Id,
          body: StartIn | None = None) -> PatrolOut:
    """planned/staffed → active in the start window, with the minimum crew checked in holding the required skills
    (a dispatcher may override with a reason); an illegal move answers 409 with the allowed ones."""
    patrol = patrols.start(session, request.app.state.settings, principal=principal, patrol_id=patrol_id,
                           override_reason=body.override_reason if body else None, now=request.app.state.clock())
    return _patrol(session, principal, patrol)


@router.post("/patrols/{patrol_id}/end", response_model=PatrolOut, summary="End the patrol", responses=WRITE)
def end(request: Request, session: SessionDep, principal: PrincipalDep, patrol_id: Id) -> PatrolOut:
    """active → completed; remaining crew are checked out."""
    patrol = patrols.end(session, principal=principal, patrol_id=patrol_id, now=request.app.state.clock())
    return _patrol(session, principal, patrol)


@router.post("/patrols/{patrol_id}/field-status", response_model=PatrolOut, summary="Set the crew's situation",
             responses=WRITE)
def field_status(session: SessionDep, principal: PrincipalDep, patrol_id: Id, body: FieldStatusIn) -> PatrolOut:
    """on_patrol, returning or needs_help (which raises an SOS alert)."""
    patrol = patrols.set_field_status(session, principal=principal, patrol_id=patrol_id, status=body.status)
    return _patrol(session, principal, patrol)


@router.post("/patrols/{patrol_id}/sos", response_model=SosOut, summary="Crew needs help (SOS)", responses=WRITE)
def sos(session: SessionDep, principal: PrincipalDep, patrol_id: Id, body: NoteIn) -> SosOut:
    """Raise an SOS alert for the patrol (once; repeated presses while open change nothing)."""
    alert = alerts.sos(session, principal=principal, patrol_id=patrol_id, note=body.note)
    return SosOut(raised=alert is not None, alert_id=alert.id if alert else None)


@router.get("/patrols/{patrol_id}/positions", response_model=list[PositionOut], summary="A patrol's track",
            responses=READ)
def track(session: SessionDep, principal: PrincipalDep, patrol_id: Id, since: Instant | None = None,
          limit: Annotated[int, Query(ge=1, le=10_000)] = 2000) -> list[PositionOut]:
    """Positions of the patrol's crew (needs volunteer.location over them)."""
    found = positions.track(session, principal, patrol_id=patrol_id, since=since, limit=limit)
    return [PositionOut.model_validate(p) for p in found]


@router.post("/positions", response_model=BatchResult, summary="Report positions (batch)", responses=WRITE)
def report_positions(request: Request, session: SessionDep, principal: PrincipalDep, body: PositionBatch
                     ) -> BatchResult:
    """Positions buffered on a phone; only those of an active patrol you are checked in on are stored."""
    items = [positions.Report(r.patrol_id, r.at, r.lon, r.lat, r.accuracy_m) for r in body.reports]
    return positions.report(session, request.app.state.settings, principal=principal, reports=items,
                            now=request.app.state.clock())


@router.get("/positions/latest", response_model=list[PositionOut],
            summary="Latest position of each crew member on patrol", responses=READ)
def latest_positions(session: SessionDep, principal: PrincipalDep) -> list[PositionOut]:
    """For the live map after a reconnect (live updates carry new positions)."""
    return [PositionOut.model_validate(p) for p in positions.latest(session, principal)]


@router.get("/alerts", response_model=list[AlertOut], summary="Safety alerts", responses=READ)
def list_alerts(session: SessionDep, principal: PrincipalDep, status: Literal["open", "acknowledged"] | None = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[AlertOut]:
    """Alerts on patrols you may see, newest first."""
    return alerts.list_visible(session, principal, status=status, limit=limit)


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertOut, summary="Acknowledge a safety alert",
             responses=WRITE)
def acknowledge(request: Request, session: SessionDep, principal: PrincipalDep, alert_id: Id, body: NoteIn
                ) -> AlertOut:
    """A dispatcher takes note of the alert."""
    alert, patrol = alerts.acknowledge(session, principal=principal, alert_id=alert_id, note=body.note,
                                       now=request.app.state.clock())
    return alerts.alert_for(session, principal, alert, patrol)


@router.post("/incidents/{incident_id}/patrols", response_model=LinkOut, summary="Link a patrol to an incident",
             responses=WRITE)
def link_patrol(session: SessionDep, principal: PrincipalDep, incident_id: Id, body: LinkIn) -> LinkOut:
    """The lead agency attaches a patrol to the incident."""
    return LinkOut.model_validate(links.link(session, principal=principal, incident_id=incident_id,
                                             patrol_id=body.patrol_id))


@router.get("/incidents/{incident_id}/patrols/near", response_model=list[NearPatrolOut],
            summary="Patrols near an incident", responses=READ)
def patrols_near(session: SessionDep, principal: PrincipalDep, incident_id: Id,
                 radius_km: Annotated[float, Query(gt=0, le=200)] = 10.0) -> list[NearPatrolOut]:
    """Active patrols within the radius, nearest first."""
    found = links.near(session, principal=principal, incident_id=incident_id, radius_km=radius_km)
    return [NearPatrolOut.model_validate(n) for n in found]
