"""A small, controlled world on the demo map for the patrol rules: two Evia teams, people with chosen skills."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from iolaos.auth.models import User
from iolaos.auth.principal import Principal
from iolaos.config import Settings
from iolaos.organisations.models import Organisation
from iolaos.patrols import service as patrols
from iolaos.patrols.models import Patrol
from iolaos.volunteers.models import Availability, Volunteer, VolunteerSkill
from iolaos.zones.models import Zone

ATHENS = ZoneInfo("Europe/Athens")
DAY = date(2026, 7, 15)
MANTOUDI = "9153"
USERS = ("dispatcher.sterea", "officer.police", "volunteer.limni", "leader.limni", "leader.north_evia",
         "leader.chalkida", "leader.lamia")
TEAMS = {"limni": "Limni Evia Forest Volunteers", "north_evia": "North Evia Volunteer Team"}


def at(hour: float, day: date = DAY) -> datetime:
    """A local time on ``day`` (hours may pass 24), in UTC."""
    return (datetime.combine(day, time(0), ATHENS) + timedelta(hours=hour)).astimezone(UTC)


def principal_of(session: Session, username: str) -> Principal:
    """The principal a sign-in of ``username`` would give."""
    user = session.scalar(select(User).where(User.username == username))
    org = session.get(Organisation, user.organisation_id)
    return Principal(user.id, user.username, user.full_name, user.role, org.id, org.kind, org.region_id)


@dataclass
class World:
    engine: Engine
    settings: Settings
    zone_id: int = 0
    orgs: dict[str, int] = field(default_factory=dict)
    principals: dict[str, Principal] = field(default_factory=dict)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def principal(self, username: str) -> Principal:
        """Looked up once, up front: on SQLite a second session inside an open one would wait for its lock."""
        return self.principals[username]

    def volunteer(self, team: str, skills: dict[str, date | None], name: str = "Δοκιμαστικός Εθελοντής",
                  user_id: int | None = None) -> int:
        """A volunteer of ``team`` at home in Mantoudi, available all of July, holding ``skills``."""
        with self.session() as s:
            zone = s.get(Zone, self.zone_id)
            v = Volunteer(organisation_id=self.orgs[team], full_name=name, phone="+30 6900000000",
                          home_base=zone.geom.representative_point(), status="available", user_id=user_id)
            s.add(v)
            s.flush()
            s.add_all([VolunteerSkill(volunteer_id=v.id, skill=k, valid_until=until) for k, until in skills.items()])
            s.add(Availability(volunteer_id=v.id, starts_at=at(0, date(2026, 7, 1)), ends_at=at(0, date(2026, 8, 1))))
            s.commit()
            return int(v.id)

    def patrol(self, *, start: float, end: float, crew: int = 2, skills: tuple[str, ...] = (),
               capability: str = "prevention", category: int = 3, team: str | None = "limni", day: date = DAY) -> int:
        """A planned patrol in Mantoudi made through the patrols service, as the planner would."""
        with self.session() as s:
            p = patrols.create_planned(s, principal=principal_of(s, "dispatcher.sterea"), zone_id=self.zone_id,
                                       organisation_id=self.orgs[team] if team else None, shift_start=at(start, day),
                                       shift_end=at(end, day), crew_size=crew, required_skills=list(skills),
                                       capability=capability, risk_category=category, plan_key="test")
            s.commit()
            return int(p.id)

    def get(self, patrol_id: int) -> Patrol:
        with self.session() as s:
            return s.get(Patrol, patrol_id)


def build_world(engine: Engine, settings: Settings) -> World:
    world = World(engine, settings)
    with world.session() as s:
        world.zone_id = s.scalar(select(Zone.id).where(Zone.code == MANTOUDI))
        for key, name in TEAMS.items():
            world.orgs[key] = s.scalar(select(Organisation.id).where(Organisation.name_en == name))
        for username in USERS:
            world.principals[username] = principal_of(s, username)
    return world
