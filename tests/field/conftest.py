"""Fixtures for field operations: a planned patrol in Mantoudi with an accepted Limni crew."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from iolaos.auth.models import User
from iolaos.db import session_scope
from iolaos.kit.time import utcnow
from iolaos.organisations.models import Organisation
from iolaos.patrols.models import Assignment, Patrol
from iolaos.volunteers.models import Volunteer
from iolaos.zones.models import Zone


@dataclass
class Crew:
    """The patrol and its people."""

    patrol_id: int
    volunteer_ids: list[int]
    member_volunteer_id: int  # the volunteer linked to the account volunteer.limni


@pytest.fixture
def crew(engine) -> Crew:
    """Patrol in Mantoudi (9153), executed by Limni volunteers who accepted their proposals."""
    now = utcnow()
    with session_scope(engine) as session:
        org = session.scalar(select(Organisation).where(Organisation.name_en == "Limni Evia Forest Volunteers"))
        zone = session.scalar(select(Zone).where(Zone.code == "9153"))
        member_user = session.scalar(select(User.id).where(User.username == "volunteer.limni"))
        people = list(session.scalars(select(Volunteer).where(Volunteer.organisation_id == org.id)
                                      .order_by(Volunteer.id).limit(3)))
        patrol = Patrol(zone_id=zone.id, organisation_id=org.id, shift_start=now - timedelta(hours=1),
                        shift_end=now + timedelta(hours=7), crew_size=3, risk_category=4, status="planned")
        session.add(patrol)
        session.flush()
        session.add_all([Assignment(patrol_id=patrol.id, volunteer_id=v.id, status="accepted") for v in people])
        member = next(v for v in people if v.user_id == member_user)
        return Crew(patrol.id, [v.id for v in people], member.id)
