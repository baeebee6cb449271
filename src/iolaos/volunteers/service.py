"""Rules for volunteers: one organisation each, managed by that organisation's leaders."""

from __future__ import annotations

import itertools

from shapely.geometry import Point as ShapelyPoint
from sqlalchemy import delete, select
from sqlmodel import Session, col

from iolaos.auth.models import User
from iolaos.auth.principal import Principal, ensure_in_scope, organisation_ids
from iolaos.errors import Conflict, Forbidden, InvalidInput, NotFound
from iolaos.journal import service as journal
from iolaos.kit.ids import saved_id
from iolaos.kit.time import utcnow
from iolaos.organisations.models import Organisation
from iolaos.volunteers.models import Availability, Volunteer, VolunteerSkill
from iolaos.volunteers.schemas import Point, Skill, VolunteerCreate, VolunteerOut, VolunteerUpdate, Window


def _point(value: Point | None):
    return None if value is None else ShapelyPoint(*value.coordinates)


def _topics(v: Volunteer) -> list[str]:
    return [f"org:{v.organisation_id}", f"volunteer:{v.id}"]


def _target_org(session: Session, principal: Principal, org_id: int | None) -> Organisation:
    """The volunteer organisation to register in: the caller's own, or ``org_id`` within their scope."""
    principal.scope("volunteer.write")
    if org_id is None:
        own = session.get_one(Organisation, principal.organisation_id)
        if own.kind != "volunteer_org":
            raise Forbidden("volunteers are registered by their own volunteer organisation; "
                            "use /organisations/{org_id}/volunteers", code="forbidden")
        return own
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound("no such organisation")
    ensure_in_scope(session, principal, "volunteer.write", saved_id(org), what="organisation")
    if org.kind != "volunteer_org":
        raise InvalidInput("volunteers belong to volunteer organisations", code="not_a_volunteer_org")
    return org


def create(session: Session, *, principal: Principal, data: VolunteerCreate, org_id: int | None = None
           ) -> Volunteer:
    """Register a volunteer in the caller's own volunteer organisation, or in ``org_id`` within their scope."""
    org = _target_org(session, principal, org_id)
    _unique_identity(session, data.national_id, data.user_id, saved_id(org))
    volunteer = Volunteer(organisation_id=saved_id(org), user_id=data.user_id, national_id=data.national_id,
                          full_name=data.full_name, phone=data.phone, email=data.email,
                          home_base=_point(data.home_base), status=data.status)
    session.add(volunteer)
    session.flush()
    _replace_skills(session, volunteer, data.skills)
    _replace_windows(session, volunteer, data.availability)
    journal.record(session, actor=principal.actor, action="volunteer.create", subject_type="volunteer",
                   subject_id=saved_id(volunteer), data={"full_name": data.full_name, "status": data.status,
                                                         "skills": [s.skill for s in data.skills]},
                   topics=_topics(volunteer), payload={"id": volunteer.id, "status": data.status})
    return volunteer


def _unique_identity(session: Session, national_id: str | None, user_id: int | None, org_id: int) -> None:
    """A person is a volunteer of exactly one organisation."""
    if national_id and session.scalar(select(col(Volunteer.id)).where(col(Volunteer.national_id) == national_id)):
        raise Conflict("this person is already registered as a volunteer", code="already_a_volunteer")
    if user_id is None:
        return
    user = session.get(User, user_id)
    if user is None or user.organisation_id != org_id:
        raise InvalidInput("user_id must be an account of your organisation", code="invalid_user")
    if session.scalar(select(col(Volunteer.id)).where(col(Volunteer.user_id) == user_id)):
        raise Conflict("this account is already linked to a volunteer", code="already_a_volunteer")


def get_visible(session: Session, principal: Principal, volunteer_id: int, *, action: str = "volunteer.read"
                ) -> Volunteer:
    """One volunteer in the caller's scope for ``action``; 404 otherwise."""
    principal.scope(action)
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound("no such volunteer")
    ensure_in_scope(session, principal, action, volunteer.organisation_id,
                    is_self=volunteer.user_id is not None and volunteer.user_id == principal.user_id,
                    what="volunteer")
    return volunteer


def list_visible(session: Session, principal: Principal, *, status: str | None, organisation_id: int | None,
                 limit: int, offset: int) -> list[Volunteer]:
    """Volunteers in the caller's read scope."""
    scope = principal.scope("volunteer.read")
    query = select(Volunteer).order_by(col(Volunteer.id))
    if scope == "self":
        query = query.where(col(Volunteer.user_id) == principal.user_id)
    else:
        allowed = organisation_ids(session, principal, "volunteer.read")
        if allowed is not None:
            query = query.where(col(Volunteer.organisation_id).in_(allowed))
    if status:
        query = query.where(col(Volunteer.status) == status)
    if organisation_id:
        query = query.where(col(Volunteer.organisation_id) == organisation_id)
    return list(session.scalars(query.limit(limit).offset(offset)))


def update(session: Session, *, principal: Principal, volunteer_id: int, data: VolunteerUpdate) -> Volunteer:
    """Change a volunteer's details, journalled with the fields changed."""
    volunteer = get_visible(session, principal, volunteer_id, action="volunteer.write")
    changes = data.model_dump(exclude_unset=True)
    for key in changes:
        value = getattr(data, key)
        setattr(volunteer, key, _point(value) if key == "home_base" else value)
    volunteer.updated_at = utcnow()
    session.flush()
    journal.record(session, actor=principal.actor, action="volunteer.update", subject_type="volunteer",
                   subject_id=saved_id(volunteer), data={"changed": sorted(changes), "status": volunteer.status},
                   topics=_topics(volunteer), payload={"id": volunteer.id, "status": volunteer.status})
    return volunteer


def set_skills(session: Session, *, principal: Principal, volunteer_id: int, skills: list[Skill]) -> Volunteer:
    """Replace a volunteer's skills and certifications."""
    volunteer = get_visible(session, principal, volunteer_id, action="volunteer.write")
    _replace_skills(session, volunteer, skills)
    journal.record(session, actor=principal.actor, action="volunteer.skills", subject_type="volunteer",
                   subject_id=saved_id(volunteer), data={"skills": [s.model_dump(mode="json") for s in skills]},
                   topics=_topics(volunteer))
    return volunteer


def set_availability(session: Session, *, principal: Principal, volunteer_id: int, windows: list[Window]
                     ) -> Volunteer:
    """Replace a volunteer's availability windows."""
    volunteer = get_visible(session, principal, volunteer_id, action="volunteer.write")
    _replace_windows(session, volunteer, windows)
    journal.record(session, actor=principal.actor, action="volunteer.availability", subject_type="volunteer",
                   subject_id=saved_id(volunteer), data={"windows": [w.model_dump(mode="json") for w in windows]},
                   topics=_topics(volunteer))
    return volunteer


def _replace_skills(session: Session, volunteer: Volunteer, skills: list[Skill]) -> None:
    names = [s.skill for s in skills]
    if len(names) != len(set(names)):
        raise InvalidInput("a skill is listed twice", code="duplicate_skill")
    session.execute(delete(VolunteerSkill).where(col(VolunteerSkill.volunteer_id) == volunteer.id))
    session.add_all([VolunteerSkill(volunteer_id=saved_id(volunteer), skill=s.skill, valid_until=s.valid_until)
                     for s in skills])
    session.flush()


def _replace_windows(session: Session, volunteer: Volunteer, windows: list[Window]) -> None:
    ordered = sorted(windows, key=lambda w: w.starts_at)
    for first, second in itertools.pairwise(ordered):
        if second.starts_at < first.ends_at:
            raise InvalidInput("availability windows overlap", code="overlapping_windows")
    session.execute(delete(Availability).where(col(Availability.volunteer_id) == volunteer.id))
    session.add_all([Availability(volunteer_id=saved_id(volunteer), starts_at=w.starts_at, ends_at=w.ends_at)
                     for w in ordered])
    session.flush()


def to_out(session: Session, principal: Principal, volunteers: list[Volunteer]) -> list[VolunteerOut]:
    """Volunteers as the caller may see them, with skills and windows in two queries."""
    ids = [saved_id(v) for v in volunteers]
    skills: dict[int, list[Skill]] = {}
    windows: dict[int, list[Window]] = {}
    if ids:
        for row in session.scalars(select(VolunteerSkill).where(col(VolunteerSkill.volunteer_id).in_(ids))
                                   .order_by(col(VolunteerSkill.skill))):
            skills.setdefault(row.volunteer_id, []).append(Skill(skill=row.skill, valid_until=row.valid_until))
        for window in session.scalars(select(Availability).where(col(Availability.volunteer_id).in_(ids))
                                      .order_by(col(Availability.starts_at))):
            windows.setdefault(window.volunteer_id, []).append(Window(starts_at=window.starts_at,
                                                                      ends_at=window.ends_at))
    contact_orgs = organisation_ids(session, principal, "volunteer.contact") if principal.can("volunteer.contact") \
        else set()
    return [_out(v, skills.get(saved_id(v), []), windows.get(saved_id(v), []),
                 _sees_contact(principal, v, contact_orgs)) for v in volunteers]


def _sees_contact(principal: Principal, v: Volunteer, contact_orgs: set[int] | None) -> bool:
    if not principal.can("volunteer.contact"):
        return False
    if principal.scope("volunteer.contact") == "self":
        return v.user_id == principal.user_id
    return contact_orgs is None or v.organisation_id in contact_orgs


def _out(v: Volunteer, skills: list[Skill], windows: list[Window], contact: bool) -> VolunteerOut:
    home = Point(coordinates=(v.home_base.x, v.home_base.y)) if contact and v.home_base is not None else None
    return VolunteerOut(id=saved_id(v), organisation_id=v.organisation_id, full_name=v.full_name, status=v.status,
                        user_id=v.user_id, skills=skills, availability=windows, contact_visible=contact,
                        phone=v.phone if contact else None, email=v.email if contact else None, home_base=home,
                        updated_at=v.updated_at)
