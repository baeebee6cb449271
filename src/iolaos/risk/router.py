"""HTTP routes of the risk map: authorised writes, and the published map as public reference data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from iolaos.auth.deps import PrincipalDep, SessionDep
from iolaos.errors import error_responses
from iolaos.kit import strict
from iolaos.risk import service
from iolaos.risk.schemas import ChangeOut, LevelOut, LevelsIn
from iolaos.zones import service as zones

router = APIRouter(prefix="/api/v1/risk", tags=["risk"])
public_router = APIRouter(prefix="/api/v1/zones", tags=["risk"])


@router.post("/levels", response_model=ChangeOut, status_code=201, summary="Set fire-risk categories",
             responses=error_responses(401, 403, 422))
def set_levels(session: SessionDep, principal: PrincipalDep, body: LevelsIn) -> ChangeOut:
    """Set categories 1–5 for zones in your area: all or nothing, every bad item listed; history is kept."""
    return service.set_levels(session, principal=principal, items=body.levels)


@public_router.get("/risk/{day}", response_model=list[LevelOut], summary="The published fire-risk map of a day",
                   responses=error_responses(422))
def risk_map(
    session: SessionDep,
    day: Annotated[strict.Day, Path(description="YYYY-MM-DD")],
    kind: Annotated[str | None, Query(pattern="^(region|municipality|sector)$")] = None,
    region: Annotated[str | None, Query(max_length=40, description="only zones within this zone code")] = None,
) -> list[LevelOut]:
    """Every zone with a published category on ``day``, with label and colour (no sign-in needed)."""
    return service.published_map(session, day, kind=kind, region=region)


@public_router.get("/{code}/risk", response_model=list[LevelOut], summary="A zone's fire-risk history",
                   responses=error_responses(404, 422))
def zone_history(
    session: SessionDep,
    code: Annotated[str, Path(max_length=40)],
    day: Annotated[strict.Day | None, Query(alias="date", description="only this day")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[LevelOut]:
    """Every category issued for the zone, newest first: the one in force per day is the first of that day."""
    return service.history(session, zones.get_zone(session, code), day=day, limit=limit)
