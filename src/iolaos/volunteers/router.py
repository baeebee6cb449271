"""HTTP routes for volunteers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from iolaos.auth.deps import PrincipalDep, SessionDep
from iolaos.errors import error_responses
from iolaos.volunteers import service
from iolaos.volunteers.schemas import SkillList, Status, VolunteerCreate, VolunteerOut, VolunteerUpdate, WindowList

router = APIRouter(prefix="/api/v1", tags=["volunteers"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
READ = error_responses(401, 403, 404, 422)
WRITE = error_responses(401, 403, 404, 409, 422)


@router.get("/volunteers", response_model=list[VolunteerOut],
            summary="Volunteers you may see", responses=READ)
def list_volunteers(
    session: SessionDep, principal: PrincipalDep,
    status: Status | None = None,
    organisation_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[VolunteerOut]:
    """Volunteers in your read scope; contact data only where you hold volunteer.contact."""
    found = service.list_visible(session, principal, status=status, organisation_id=organisation_id,
                                 limit=limit, offset=offset)
    return service.to_out(session, principal, found)


@router.post("/volunteers", response_model=VolunteerOut, status_code=201,
             summary="Register a volunteer", responses=WRITE)
def create_volunteer(session: SessionDep, principal: PrincipalDep, body: VolunteerCreate) -> VolunteerOut:
    """Register a volunteer in your own volunteer organisation (leaders)."""
    return service.to_out(session, principal, [service.create(session, principal=principal, data=body)])[0]


@router.post("/organisations/{org_id}/volunteers", response_model=VolunteerOut, status_code=201,
             summary="Register a volunteer in an organisation", responses=WRITE)
def create_volunteer_in(session: SessionDep, principal: PrincipalDep, org_id: Id, body: VolunteerCreate
                        ) -> VolunteerOut:
    """Register a volunteer in a volunteer organisation within your volunteer.write scope (admins, leaders)."""
    volunteer = service.create(session, principal=principal, data=body, org_id=org_id)
    return service.to_out(session, principal, [volunteer])[0]


@router.get("/volunteers/{volunteer_id}", response_model=VolunteerOut,
            summary="One volunteer", responses=READ)
def get_volunteer(session: SessionDep, principal: PrincipalDep, volunteer_id: Id) -> VolunteerOut:
    """One volunteer in your read scope; 404 otherwise."""
    return service.to_out(session, principal, [service.get_visible(session, principal, volunteer_id)])[0]


@router.patch("/volunteers/{volunteer_id}", response_model=VolunteerOut,
              summary="Change a volunteer", responses=WRITE)
def update_volunteer(session: SessionDep, principal: PrincipalDep, volunteer_id: Id, body: VolunteerUpdate
                     ) -> VolunteerOut:
    """Change name, contact, home base or status."""
    volunteer = service.update(session, principal=principal, volunteer_id=volunteer_id, data=body)
    return service.to_out(session, principal, [volunteer])[0]


@router.put("/volunteers/{volunteer_id}/skills", response_model=VolunteerOut,
            summary="Replace a volunteer's skills", responses=WRITE)
def set_skills(session: SessionDep, principal: PrincipalDep, volunteer_id: Id, body: SkillList) -> VolunteerOut:
    """Replace the list of skills and certifications (with expiry dates)."""
    volunteer = service.set_skills(session, principal=principal, volunteer_id=volunteer_id, skills=body.skills)
    return service.to_out(session, principal, [volunteer])[0]


@router.put("/volunteers/{volunteer_id}/availability", response_model=VolunteerOut,
            summary="Replace availability windows", responses=WRITE)
def set_availability(session: SessionDep, principal: PrincipalDep, volunteer_id: Id, body: WindowList
                     ) -> VolunteerOut:
    """Replace the list of availability windows."""
    volunteer = service.set_availability(session, principal=principal, volunteer_id=volunteer_id,
                                         windows=body.availability)
    return service.to_out(session, principal, [volunteer])[0]
