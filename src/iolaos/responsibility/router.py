"""HTTP routes for responsibility: current holder, holder at a time, the chain, handover."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from iolaos.auth.deps import PrincipalDep, SessionDep
from iolaos.kit.ids import saved_id
from iolaos.kit.strict import Instant
from iolaos.responsibility import service, subjects
from iolaos.responsibility.schemas import CandidateOut, HandoverIn, HoldingOut, ResponsibilityOut

router = APIRouter(prefix="/api/v1/responsibility", tags=["responsibility"])
SubjectType = Annotated[str, Path(pattern=r"^[a-z_]{2,20}$", description="incident or patrol")]
SubjectId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _out(session, subject_type: str, subject_id: int) -> ResponsibilityOut:
    holdings = service.chain(session, subject_type, subject_id)
    return ResponsibilityOut(subject_type=subject_type, subject_id=subject_id,
                             current=holdings[-1] if holdings else None, chain=holdings)


@router.get("/{subject_type}/{subject_id}", response_model=ResponsibilityOut, summary="Holder and full chain")
def get_chain(session: SessionDep, principal: PrincipalDep, subject_type: SubjectType, subject_id: SubjectId
              ) -> ResponsibilityOut:
    """Who holds the subject now and everyone who held it before, with periods and reasons."""
    subjects.load(session, principal, subject_type, subject_id)
    return _out(session, subject_type, subject_id)


@router.get("/{subject_type}/{subject_id}/at", response_model=HoldingOut | None, summary="Holder at time T")
def holder_at(session: SessionDep, principal: PrincipalDep, subject_type: SubjectType, subject_id: SubjectId,
              at: Annotated[Instant | None, Query(description="ISO 8601 with offset; now if omitted")] = None
              ) -> HoldingOut | None:
    """Who was responsible at ``at``; null before the subject existed."""
    return service.holder_at(session, principal, subject_type, subject_id, at)


@router.get("/{subject_type}/{subject_id}/candidates", response_model=list[CandidateOut],
            summary="Who you may hand over to")
def handover_candidates(session: SessionDep, principal: PrincipalDep, subject_type: SubjectType,
                        subject_id: SubjectId) -> list[CandidateOut]:
    """Active people who can hold the subject and whom you may hand it to now; empty if you may not hand over."""
    return [CandidateOut(user_id=saved_id(user), full_name=user.full_name, role=user.role,
                         organisation_id=user.organisation_id, organisation_name=org_name)
            for user, org_name in service.candidates(session, principal, subject_type, subject_id)]


@router.post("/{subject_type}/{subject_id}/handover", response_model=ResponsibilityOut, summary="Hand over")
def handover(session: SessionDep, principal: PrincipalDep, subject_type: SubjectType, subject_id: SubjectId,
             body: HandoverIn) -> ResponsibilityOut:
    """Give responsibility to another person with a reason; the past is never edited."""
    service.handover(session, principal=principal, subject_type=subject_type, subject_id=subject_id,
                     to_user_id=body.to_user_id, reason=body.reason)
    return _out(session, subject_type, subject_id)

