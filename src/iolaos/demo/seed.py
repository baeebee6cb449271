"""Demo actors: agencies of Attica and Central Greece, volunteer organisations and their people.

Passwords are random for every database and returned once, to be printed at start-up; only
their argon2id hashes are stored.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import timedelta

import shapely
from sqlalchemy import func, select
from sqlmodel import Session, col

from iolaos.auth.actor import system_actor
from iolaos.auth.models import User
from iolaos.auth.passwords import hash_password
from iolaos.journal import service as journal
from iolaos.kit.ids import saved_id
from iolaos.kit.time import utcnow
from iolaos.organisations.models import Organisation, OrganisationZone
from iolaos.volunteers.models import Availability, Volunteer, VolunteerSkill
from iolaos.zones.models import Zone

ACTOR = system_actor("demo")

# (key, kind, name_el, name_en, parent key, region code, municipality codes, demo users)
AGENCIES = [
    ("gscp", "civil_protection", "Γενική Γραμματεία Πολιτικής Προστασίας", "General Secretariat for Civil Protection",
     None, None, [], [("admin", "admin", "Ελένη Παπαδοπούλου")]),
    ("fire_attica", "fire_service", "Περιφερειακή Διοίκηση Πυροσβεστικών Υπηρεσιών Αττικής",
     "Fire Service Regional Command of Attica", "gscp", "GR-I", [],
     [("dispatcher.attica", "dispatcher", "Γιώργος Αντωνίου"), ("officer.attica", "officer", "Νίκος Κωστόπουλος")]),
    ("fire_sterea", "fire_service", "Περιφερειακή Διοίκηση Πυροσβεστικών Υπηρεσιών Στερεάς Ελλάδας",
     "Fire Service Regional Command of Central Greece", "gscp", "GR-H", [],
     [("dispatcher.sterea", "dispatcher", "Μαρία Σταθοπούλου")]),
    ("police_attica", "police", "Γενική Περιφερειακή Αστυνομική Διεύθυνση Αττικής", "Attica Police Directorate",
     "gscp", "GR-I", [], [("officer.police", "officer", "Δημήτρης Λαμπρόπουλος")]),
    ("region_attica", "region", "Περιφέρεια Αττικής", "Region of Attica", "gscp", "GR-I", [],
     [("reviewer.attica", "reviewer", "Αικατερίνη Βλάχου")]),
    ("region_sterea", "region", "Περιφέρεια Στερεάς Ελλάδας", "Region of Central Greece", "gscp", "GR-H", [],
     [("reviewer.sterea", "reviewer", "Σοφία Μαργαρίτη")]),
    ("mun_athens", "municipality", "Δήμος Αθηναίων", "Municipality of Athens", "region_attica", "GR-I", ["9186"], []),
    ("mun_marathon", "municipality", "Δήμος Μαραθώνος", "Municipality of Marathon", "region_attica", "GR-I",
     ["9220"], [("coordinator.marathon", "coordinator", "Παναγιώτης Ζαφειρίου")]),
    ("mun_mantoudi", "municipality", "Δήμος Μαντουδίου - Λίμνης - Αγίας Άννας",
     "Municipality of Mantoudi-Limni-Agia Anna", "region_sterea", "GR-H", ["9153"],
     [("coordinator.mantoudi", "coordinator", "Ευάγγελος Τσιρίγος")]),
]

# (key, name_el, name_en, region, home municipality, action categories)
VOLUNTEER_ORGS = [
    ("penteli", "Εθελοντική Ομάδα Δασοπροστασίας Πεντέλης", "Penteli Forest Protection Volunteers", "GR-I", "9176",
     "FPA,FFA"),
    ("parnitha", "Εθελοντές Δασοπυροσβέστες Φυλής - Πάρνηθας", "Fyli-Parnitha Volunteer Firefighters", "GR-I",
     "9232", "FPA,FFA"),
    ("hymettus", "Ομάδα Προστασίας Υμηττού", "Hymettus Protection Team", "GR-I", "9187", "FPA"),
    ("marathon", "Εθελοντική Ομάδα Πολιτικής Προστασίας Μαραθώνα", "Marathon Civil Protection Volunteers", "GR-I",
     "9220", "FPA,FFA"),
    ("dionysos", "Εθελοντές Δασοπροστασίας Διονύσου", "Dionysos Forest Volunteers", "GR-I", "9217", "FPA"),
    ("saronikos", "Ομάδα Εθελοντών Σαρωνικού", "Saronikos Volunteers", "GR-I", "9225", "FPA"),
    ("north_evia", "Εθελοντική Ομάδα Βόρειας Εύβοιας", "North Evia Volunteer Team", "GR-H", "9150", "FPA,FFA"),
    ("limni", "Εθελοντές Δασοπροστασίας Λίμνης Ευβοίας", "Limni Evia Forest Volunteers", "GR-H", "9153", "FPA,FFA"),
    ("chalkida", "Ομάδα Πολιτικής Προστασίας Χαλκίδας", "Chalkida Civil Protection Team", "GR-H", "9155", "FPA"),
    ("lamia", "Εθελοντική Ομάδα Διάσωσης Λαμίας", "Lamia Volunteer Rescue Team", "GR-H", "9160", "FPA,FFA"),
]

FIRST = ["Γιάννης", "Μαρία", "Κώστας", "Ελένη", "Νίκος", "Κατερίνα", "Δημήτρης", "Σοφία", "Γιώργος", "Αννα",
         "Παναγιώτης", "Βασιλική", "Χρήστος", "Δέσποινα", "Αλέξανδρος", "Ιωάννα", "Μιχάλης", "Φωτεινή", "Σπύρος",
         "Ευαγγελία", "Θανάσης", "Χαρά", "Στέλιος", "Αγγελική"]
LAST = ["Παπαδόπουλος", "Γεωργίου", "Οικονόμου", "Δημητρίου", "Ιωάννου", "Καραγιάννης", "Νικολάου", "Μαυρίδης",
        "Αθανασίου", "Βασιλείου", "Κωνσταντίνου", "Πετρόπουλος", "Σταύρου", "Χριστοδούλου", "Αλεξίου", "Ραφτόπουλος"]
SKILLS = ["first_aid", "driver_4x4", "wildfire_basic", "radio", "chainsaw", "navigation", "drone", "water_tender"]
VOLUNTEERS_PER_ORG = 30


@dataclass(frozen=True)
class DemoAccount:
    """A demo sign-in, shown once."""

    username: str
    role: str
    organisation: str
    password: str


def seeded(session: Session) -> bool:
    """True when the demo actors exist already."""
    return (session.scalar(select(func.count()).select_from(Organisation)) or 0) > 0


def seed(session: Session, *, rng: random.Random | None = None) -> list[DemoAccount]:
    """Create the demo organisations, accounts and volunteers; returns the accounts with passwords."""
    rng = rng or random.Random(1821)
    zones = {z.code: z for z in session.scalars(select(Zone))}
    orgs: dict[str, Organisation] = {}
    accounts: list[DemoAccount] = []
    for key, kind, name_el, name_en, parent, region, municipalities, users in AGENCIES:
        jurisdiction = [zones[c] for c in municipalities]
        above = orgs.get(parent) if parent is not None else None
        region_zone = zones.get(region) if region is not None else None
        org = _org(session, kind, name_el, name_en, above, region_zone, jurisdiction)
        orgs[key] = org
        accounts += [_user(session, org, username, role, full_name) for username, role, full_name in users]
    for index, (key, name_el, name_en, region, home, categories) in enumerate(VOLUNTEER_ORGS):
        org = _org(session, "volunteer_org", name_el, name_en, orgs["gscp"], zones[region], [zones[home]],
                   registry=str(1000 + index * 37), categories=categories)
        org.radio_channels = f"VHF {3 + index % 5}, VHF 16"
        leader = _user(session, org, f"leader.{key}", "leader", f"{rng.choice(FIRST)} {rng.choice(LAST)}")
        accounts.append(leader)
        member = _user(session, org, f"volunteer.{key}", "volunteer", f"{rng.choice(FIRST)} {rng.choice(LAST)}")
        accounts.append(member)
        _volunteers(session, org, zones[home], rng, linked_usernames=[leader.username, member.username])
    journal.record(session, actor=ACTOR, action="demo.seed", subject_type="demo", subject_id="actors",
                   data={"organisations": len(orgs) + len(VOLUNTEER_ORGS), "accounts": len(accounts)})
    return accounts


def _org(session: Session, kind: str, name_el: str, name_en: str, parent: Organisation | None,
         region: Zone | None, jurisdiction: list[Zone], *, registry: str | None = None,
         categories: str = "") -> Organisation:
    org = Organisation(kind=kind, name_el=name_el, name_en=name_en, parent_id=parent.id if parent else None,
                       region_id=region.id if region else None, registry_number=registry,
                       action_categories=categories)
    session.add(org)
    session.flush()
    session.add_all([OrganisationZone(organisation_id=saved_id(org), zone_id=saved_id(z)) for z in jurisdiction])
    journal.record(session, actor=ACTOR, action="organisation.create", subject_type="organisation",
                   subject_id=saved_id(org),
                   data={"kind": kind, "name_el": name_el, "name_en": name_en}, topics=[f"org:{org.id}"])
    return org


def _user(session: Session, org: Organisation, username: str, role: str, full_name: str) -> DemoAccount:
    password = secrets.token_urlsafe(12)
    user = User(username=username, full_name=full_name, password_hash=hash_password(password),
                organisation_id=saved_id(org), role=role)
    session.add(user)
    session.flush()
    journal.record(session, actor=ACTOR, action="user.create", subject_type="user", subject_id=saved_id(user),
                   data={"username": username, "role": role, "organisation_id": org.id})
    return DemoAccount(username, role, org.name_en, password)


def _volunteers(session: Session, org: Organisation, home: Zone, rng: random.Random,
                linked_usernames: list[str]) -> None:
    linked = [session.scalars(select(User).where(col(User.username) == u)).one() for u in linked_usernames]
    points = _random_points(home, VOLUNTEERS_PER_ORG, rng)
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    for i, point in enumerate(points):
        user = linked[i] if i < len(linked) else None
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"  # drawn for everyone, so the rest of the demo is unchanged
        # An account and its volunteer record are one person: the audit trail and the ICS forms must agree.
        volunteer = Volunteer(organisation_id=saved_id(org), user_id=user.id if user else None,
                              full_name=user.full_name if user else name,
                              phone=f"+30 69{rng.randint(10000000, 99999999)}", home_base=point,
                              status=rng.choice(["available"] * 6 + ["off_duty", "unavailable"]))
        session.add(volunteer)
        if user is not None:
            user.phone = volunteer.phone
        session.flush()
        for skill in rng.sample(SKILLS, rng.randint(1, 4)):
            expiry = (now + timedelta(days=rng.randint(-60, 700))).date() if skill != "navigation" else None
            session.add(VolunteerSkill(volunteer_id=saved_id(volunteer), skill=skill, valid_until=expiry))
        for day in range(7):
            if rng.random() < 0.6:
                start = now + timedelta(days=day, hours=rng.choice([6, 8, 14]) - now.hour)
                end = start + timedelta(hours=8)
                session.add(Availability(volunteer_id=saved_id(volunteer), starts_at=start, ends_at=end))
    session.flush()
    journal.record(session, actor=ACTOR, action="volunteer.import", subject_type="organisation",
                   subject_id=saved_id(org),
                   data={"volunteers": len(points)}, topics=[f"org:{org.id}"])


def _random_points(zone: Zone, n: int, rng: random.Random) -> list[shapely.Point]:
    minx, miny, maxx, maxy = zone.geom.bounds
    shapely.prepare(zone.geom)
    found: list[shapely.Point] = []
    while len(found) < n:
        point = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if zone.geom.contains(point):
            found.append(point)
    return found
