"""HTTP routes for incidents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from iolaos.auth.deps import JournaledReaderDep, PrincipalDep, SessionDep
from iolaos.incidents import service
from iolaos.incidents.schemas import IncidentCreate, IncidentOut, Status, Transition

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post("", response_model=IncidentOut, status_code=201, summary="Report an incident")
def report_incident(request: Request, session: SessionDep, principal: PrincipalDep, body: IncidentCreate
                    ) -> IncidentOut:
    """Report smoke, fire or another incident at a point; it is routed to the lead agency at once."""
    incident = service.report(session, request.app.state.settings, principal=principal, data=body)
    return service.to_out(session, [incident])[0]


@router.get("", response_model=list[IncidentOut], summary="Incidents you may see")
def list_incidents(
    session: SessionDep, principal: JournaledReaderDep,
    status: Status | None = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[IncidentOut]:
    """Newest first; ``open=true`` leaves out closed ones."""
    found = service.list_visible(session, principal, status=status, open_only=open_only, limit=limit, offset=offset)
    return service.to_out(session, found)


@router.get("/{incident_id}", response_model=IncidentOut, summary="One incident")
def get_incident(session: SessionDep, principal: JournaledReaderDep, incident_id: Id) -> IncidentOut:
    """One incident you may see; 404 otherwise."""
    return service.to_out(session, [service.get_visible(session, principal, incident_id)])[0]


@router.post("/{incident_id}/status", response_model=IncidentOut, summary="Move an incident along its lifecycle")
def transition(session: SessionDep, principal: PrincipalDep, incident_id: Id, body: Transition) -> IncidentOut:
    """Only allowed moves; an illegal one answers 409 listing the allowed ones."""
    incident = service.transition(session, principal=principal, incident_id=incident_id, status=body.status,
                                  note=body.note)
    return service.to_out(session, [incident])[0]
