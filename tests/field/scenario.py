"""A scripted field day in Evia, shared by the location tests (REST and live).

Two patrols, planned as a committed plan leaves them:

- ``empty``: Mantoudi–Limni–Agia Anna (9153), **no executing organisation** (committed empty, staffed later),
  crewed by Limni volunteers (``volunteer.limni`` among them), held by the Central Greece fire command;
- ``own``: Istiaia–Aidipsos (9150), executed by the North Evia team (``volunteer.north_evia`` among them).

The plan is written the way ``planning.service.commit`` writes it (patrol, proposals, a journalled
``patrol.proposed`` event, the first holder); every later step goes through the REST API as the people would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from iolaos.auth.actor import Actor
from iolaos.auth.models import User
from iolaos.db import session_scope
from iolaos.journal import service as journal
from iolaos.kit.time import utcnow
from iolaos.organisations.models import Organisation
from iolaos.patrols.models import Assignment, Patrol
from iolaos.planning.service import patrol_topics
from iolaos.responsibility import service as responsibility
from iolaos.responsibility.subjects import SubjectRef
from iolaos.volunteers.models import Availability, Volunteer
from iolaos.zones.models import Zone

IN_MANTOUDI = (23.45, 38.80)
IN_ATHENS = (23.7348, 37.9755)  # far outside either zone: raises out_of_zone
FIRE = "Fire Service Regional Command of Central Greece"
# (zone code, executing organisation or None, crew organisation, account whose volunteer is on the crew)
PATROLS = {"empty": ("9153", None, "Limni Evia Forest Volunteers", "volunteer.limni"),
           "own": ("9150", "North Evia Volunteer Team", "North Evia Volunteer Team", "volunteer.north_evia")}
LEADERS = {"empty": "leader.limni", "own": "leader.north_evia"}
OPERATORS = {"empty": "dispatcher.sterea", "own": "leader.north_evia"}  # who checks in, starts and ends each


@dataclass
class Day:
    """Ids of the scripted day."""

    patrols: dict[str, int]
    crews: dict[str, list[int]]          # volunteer ids per patrol
    assignments: dict[str, list[int]]
    inside: dict[str, tuple[float, float]]  # a point inside each patrol's zone
    incidents: list[int] = field(default_factory=list)


Call = Callable[..., Any]  # call(username, method, path, json=None) -> response with .status_code and .json()


def plan(engine: Engine) -> Day:
    """Write both patrols as a committed plan would: a shift around now, proposals, availability, holder."""
    now = utcnow()
    start, end = now - timedelta(minutes=30), now + timedelta(hours=3)
    day = Day({}, {}, {}, {})
    with session_scope(engine) as session:
        dispatcher = session.scalar(select(User).where(User.username == "dispatcher.sterea"))
        actor = Actor(user_id=dispatcher.id, organisation_id=dispatcher.organisation_id, role="dispatcher",
                      name=dispatcher.full_name)
        for key, (code, executing, crew_org, member) in PATROLS.items():
            zone = session.scalar(select(Zone).where(Zone.code == code))
            org = session.scalar(select(Organisation).where(Organisation.name_en == crew_org))
            member_user = session.scalar(select(User.id).where(User.username == member))
            mine = session.scalar(select(Volunteer).where(Volunteer.user_id == member_user))
            others = list(session.scalars(select(Volunteer).where(Volunteer.organisation_id == org.id,
                                                                  Volunteer.id != mine.id,
                                                                  Volunteer.status.in_(("available", "off_duty")))
                                          .order_by(Volunteer.id).limit(1)))
            crew = [mine, *others]
            patrol = Patrol(zone_id=zone.id, organisation_id=org.id if executing else None, shift_start=start,
                            shift_end=end, crew_size=len(crew), capability="prevention", risk_category=4,
                            status="planned", plan_key=f"test:{key}", created_by_user_id=dispatcher.id)
            session.add(patrol)
            session.flush()
            assignments = [Assignment(patrol_id=patrol.id, volunteer_id=v.id, status="proposed",
                                      reasons='["scripted day"]') for v in crew]
            session.add_all(assignments)
            session.add_all([Availability(volunteer_id=v.id, starts_at=start - timedelta(hours=1),
                                          ends_at=end + timedelta(hours=1)) for v in crew])
            session.flush()
            topics = patrol_topics(session, patrol, {org.id}, {v.id for v in crew})
            journal.record(session, actor=actor, action="patrol.plan", subject_type="patrol", subject_id=patrol.id,
                           topics=topics, event_kind="patrol.proposed",
                           data={"plan_key": patrol.plan_key, "zone_id": zone.id, "proposed": [v.id for v in crew],
                                 "open": 0})
            ref = SubjectRef("patrol", patrol.id, patrol.organisation_id or dispatcher.organisation_id,
                             tuple(patrol_topics(session, patrol)))
            responsibility.assign_initial(session, actor=actor, ref=ref, holder_user_id=dispatcher.id,
                                          holder_organisation_id=dispatcher.organisation_id,
                                          reason="planned from the risk map (test)")
            point = zone.geom.representative_point()
            day.patrols[key], day.crews[key] = patrol.id, [v.id for v in crew]
            day.assignments[key] = [a.id for a in assignments]
            day.inside[key] = (point.x, point.y)
    return day


def _ok(resp: Any, *statuses: int) -> Any:
    assert resp.status_code in (statuses or (200,)), resp.text
    return resp.json()


def accept(call: Call, day: Day) -> None:
    """Each crew's leader accepts the proposals."""
    for key, ids in day.assignments.items():
        for assignment_id in ids:
            _ok(call(LEADERS[key], "POST", f"/api/v1/assignments/{assignment_id}/accept"))


def go_out(call: Call, day: Day) -> None:
    """Check the crews in and start both patrols."""
    for key, patrol_id in day.patrols.items():
        _ok(call(OPERATORS[key], "POST", f"/api/v1/patrols/{patrol_id}/check-in", {"volunteer_ids": day.crews[key]}))
        _ok(call(OPERATORS[key], "POST", f"/api/v1/patrols/{patrol_id}/start"))


def report(call: Call, day: Day, key: str, point: tuple[float, float], at: Any = None) -> Any:
    """The crew member's phone reports one position."""
    body = {"reports": [{"patrol_id": day.patrols[key], "at": (at or utcnow()).isoformat(), "lon": point[0],
                         "lat": point[1], "accuracy_m": 8}]}
    return call(PATROLS[key][3], "POST", "/api/v1/positions", body)


def positions(call: Call, day: Day) -> None:
    """Both crews report a position inside their zone."""
    for key in day.patrols:
        assert _ok(report(call, day, key, day.inside[key]))["accepted"] == 1


def stray(call: Call, day: Day) -> None:
    """The empty patrol's crew wanders far out of its zone: an out_of_zone alert with coordinates."""
    assert _ok(report(call, day, "empty", IN_ATHENS))["accepted"] == 1


def incident(call: Call, day: Day, point: tuple[float, float] = IN_MANTOUDI) -> int:
    """Smoke reported by the Limni leader; the fire command links the empty patrol to it."""
    found = _ok(call("leader.limni", "POST", "/api/v1/incidents",
                     {"kind": "smoke", "point": {"type": "Point", "coordinates": list(point)},
                      "description": "καπνός (test)"}), 201)
    _ok(call("dispatcher.sterea", "POST", f"/api/v1/incidents/{found['id']}/patrols",
             {"patrol_id": day.patrols["empty"]}))
    day.incidents.append(found["id"])
    return found["id"]


def end(call: Call, day: Day) -> None:
    """Both patrols come back."""
    for key, patrol_id in day.patrols.items():
        _ok(call(OPERATORS[key], "POST", f"/api/v1/patrols/{patrol_id}/end"))


def point_at(lon: float, lat: float, metres_east: float) -> tuple[float, float]:
    """A point ``metres_east`` east of (lon, lat) (local scale; fine for a few km)."""
    from math import cos, radians

    return lon + metres_east / (111_320.0 * cos(radians(lat))), lat

