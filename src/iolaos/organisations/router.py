"""HTTP routes for organisations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from iolaos.auth.deps import PrincipalDep, SessionDep
from iolaos.errors import error_responses
from iolaos.organisations import service
from iolaos.organisations.schemas import (
    Jurisdiction,
    OrganisationCreate,
    OrganisationOut,
    OrganisationUpdate,
    OrgKind,
)

router = APIRouter(prefix="/api/v1/organisations", tags=["organisations"])
OrgId = Annotated[int, Path(ge=1, le=2**31 - 1)]
READ = error_responses(401, 403, 404, 422)
WRITE = error_responses(401, 403, 404, 409, 422)


@router.get("", response_model=list[OrganisationOut], summary="Organisations you may see", responses=READ)
def list_organisations(
    session: SessionDep, principal: PrincipalDep,
    kind: OrgKind | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[OrganisationOut]:
    """Organisations in your read scope (see docs/permissions.md)."""
    return service.to_out(session, service.list_visible(session, principal, kind=kind, limit=limit, offset=offset))


@router.post("", response_model=OrganisationOut, status_code=201,
             summary="Create an organisation", responses=WRITE)
def create_organisation(session: SessionDep, principal: PrincipalDep, body: OrganisationCreate) -> OrganisationOut:
    """Create an organisation below your own (admins)."""
    return service.to_out(session, [service.create(session, principal=principal, data=body)])[0]


@router.get("/{org_id}", response_model=OrganisationOut, summary="One organisation", responses=READ)
def get_organisation(session: SessionDep, principal: PrincipalDep, org_id: OrgId) -> OrganisationOut:
    """One organisation in your read scope; 404 otherwise."""
    return service.to_out(session, [service.get_visible(session, principal, org_id)])[0]


@router.patch("/{org_id}", response_model=OrganisationOut, summary="Edit an organisation", responses=WRITE)
def update_organisation(session: SessionDep, principal: PrincipalDep, org_id: OrgId,
                        body: OrganisationUpdate) -> OrganisationOut:
    """Change names, registry data or active flag (admins, within their tree)."""
    return service.to_out(session, [service.update(session, principal=principal, org_id=org_id, data=body)])[0]


@router.put("/{org_id}/zones", response_model=OrganisationOut,
            summary="Set an organisation's jurisdiction", responses=WRITE)
def set_jurisdiction(session: SessionDep, principal: PrincipalDep, org_id: OrgId, body: Jurisdiction
                     ) -> OrganisationOut:
    """Replace the zones the organisation covers."""
    org = service.set_jurisdiction(session, principal=principal, org_id=org_id, zone_codes=body.zone_codes)
    return service.to_out(session, [org])[0]
