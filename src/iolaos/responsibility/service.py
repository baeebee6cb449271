"""Rules for responsibility: one holder from creation on, handovers as new rows, queries in time."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlmodel import Session, col

from iolaos import i18n
from iolaos.auth.actor import Actor
from iolaos.auth.models import User
from iolaos.auth.principal import Principal, organisation_ids
from iolaos.errors import Conflict, Forbidden, InvalidInput, NotFound
from iolaos.journal import service as journal
from iolaos.kit.ids import saved_id
from iolaos.kit.time import utcnow
from iolaos.organisations.models import Organisation
from iolaos.responsibility import subjects
from iolaos.responsibility.models import Responsibility
from iolaos.responsibility.schemas import HoldingOut as Holding  # one declaration of a holding's fields

HOLDER_ROLES = ("admin", "dispatcher", "officer", "coordinator", "leader")


def assign_initial(session: Session, *, actor: Actor, ref: subjects.SubjectRef, holder_user_id: int | None,
                   holder_organisation_id: int, reason: str) -> Responsibility:
    """The first holder of a new subject, written in the creating transaction."""
    return _append(session, actor=actor, ref=ref, holder_user_id=holder_user_id,
                   holder_organisation_id=holder_organisation_id, reason=reason, action="responsibility.assign")


def _append(session: Session, *, actor: Actor, ref: subjects.SubjectRef, holder_user_id: int | None,
            holder_organisation_id: int, reason: str, action: str, granted: dict | None = None) -> Responsibility:
    record = journal.record(
        session, actor=actor, action=action, subject_type=ref.subject_type, subject_id=ref.subject_id,
        data={"holder_user_id": holder_user_id, "holder_organisation_id": holder_organisation_id, "reason": reason,
              **({"granted": granted} if granted else {})},
        topics=ref.topics,
    )
    row = Responsibility(subject_type=ref.subject_type, subject_id=ref.subject_id, holder_user_id=holder_user_id,
                         holder_organisation_id=holder_organisation_id, since=record.occurred_at,
                         granted_by_user_id=actor.user_id, reason=reason, audit_seq=record.seq)
    session.add(row)
    session.flush()
    return row


def current_rows(session: Session, subject_type: str, subject_ids: set[int]) -> dict[int, Responsibility]:
    """The row in force now for each of many subjects (one query; lists would otherwise ask once per row)."""
    found: dict[int, Responsibility] = {}
    if not subject_ids:
        return found
    rows = session.scalars(select(Responsibility).where(col(Responsibility.subject_type) == subject_type,
                                                        col(Responsibility.subject_id).in_(sorted(subject_ids)))
                           .order_by(col(Responsibility.since).desc(), col(Responsibility.id).desc()))
    for row in rows:
        found.setdefault(int(row.subject_id), row)
    return found


def current_row(session: Session, subject_type: str, subject_id: int, at: datetime | None = None
                ) -> Responsibility | None:
    """The row in force at ``at`` (now when omitted)."""
    query = select(Responsibility).where(col(Responsibility.subject_type) == subject_type,
                                         col(Responsibility.subject_id) == subject_id)
    if at is not None:
        query = query.where(col(Responsibility.since) <= at)
    return session.scalars(query.order_by(col(Responsibility.since).desc(), col(Responsibility.id).desc())
                           .limit(1)).first()


def handover(session: Session, *, principal: Principal, subject_type: str, subject_id: int, to_user_id: int,
             reason: str) -> Responsibility:
    """Hand a subject to another person: by its holder, or by someone with authority over both sides."""
    ref = subjects.load(session, principal, subject_type, subject_id)
    current = current_row(session, subject_type, subject_id)
    if current is None:
        raise Conflict("this subject has no holder yet", code="no_holder")
    target = session.get(User, to_user_id)
    if target is None or not target.is_active:
        raise NotFound("no such user")
    _check_authority(session, principal, current, target)
    if target.role not in HOLDER_ROLES:
        raise InvalidInput(f"a {target.role} cannot hold responsibility; roles that can: {', '.join(HOLDER_ROLES)}",
                           code="invalid_holder")
    if current.holder_user_id == target.id:
        raise Conflict("this person already holds it", code="already_holder")
    granted = subjects.receive(session, subject_type, subject_id, saved_id(target), target.role)
    return _append(session, actor=principal.actor, ref=ref, holder_user_id=saved_id(target),
                   holder_organisation_id=target.organisation_id, reason=reason, action="responsibility.handover",
                   granted=granted)


def take(session: Session, *, principal: Principal, ref: subjects.SubjectRef, reason: str) -> Responsibility | None:
    """The caller takes a subject their organisation holds without a named person (e.g. on acknowledge)."""
    current = current_row(session, ref.subject_type, ref.subject_id)
    if current is None or current.holder_user_id is not None or \
            current.holder_organisation_id != principal.organisation_id:
        return None
    return _append(session, actor=principal.actor, ref=ref, holder_user_id=principal.user_id,
                   holder_organisation_id=principal.organisation_id, reason=reason, action="responsibility.take")


def _check_authority(session: Session, principal: Principal, current: Responsibility, target: User) -> None:
    """The holder may hand over to anyone they can see; others need authority over both organisations."""
    is_holder = current.holder_user_id == principal.user_id or (
        current.holder_user_id is None and current.holder_organisation_id == principal.organisation_id
        and principal.can("responsibility.handover"))
    if is_holder:
        visible = organisation_ids(session, principal, "organisation.read")
        if visible is not None and target.organisation_id not in visible:
            raise NotFound("no such user")
        return
    allowed = organisation_ids(session, principal, "responsibility.handover")
    if allowed is not None and target.organisation_id not in allowed:
        raise NotFound("no such user")
    if allowed is not None and current.holder_organisation_id not in allowed:
        raise Forbidden("only the holder, or someone with authority over both sides, may hand over",
                        code="not_holder")


def _may_hand_to(session: Session, principal: Principal, current: Responsibility) -> set[int] | Literal[False] | None:
    """Organisations whose people the caller may hand this subject to (None: any), or False if they may not."""
    is_holder = current.holder_user_id == principal.user_id or (
        current.holder_user_id is None and current.holder_organisation_id == principal.organisation_id
        and principal.can("responsibility.handover"))
    if is_holder:
        return organisation_ids(session, principal, "organisation.read")
    if not principal.can("responsibility.handover"):
        return False
    allowed = organisation_ids(session, principal, "responsibility.handover")
    if allowed is not None and current.holder_organisation_id not in allowed:
        return False
    return allowed


def candidates(session: Session, principal: Principal, subject_type: str, subject_id: int, *, limit: int = 500
               ) -> list[tuple[User, str]]:
    """People the caller may hand the subject to now, with their organisation's name (empty if they may not)."""
    subjects.load(session, principal, subject_type, subject_id)
    current = current_row(session, subject_type, subject_id)
    if current is None:
        return []
    scope = _may_hand_to(session, principal, current)
    if scope is False:
        return []
    query = (select(User, col(Organisation.name_el), col(Organisation.name_en))
             .join(Organisation, col(Organisation.id) == User.organisation_id)
             .where(col(User.is_active), col(User.role).in_(subjects.roles_that_can_hold(subject_type, HOLDER_ROLES)),
                    col(Organisation.active)))
    if current.holder_user_id is not None:
        query = query.where(col(User.id) != current.holder_user_id)
    if scope is not None:
        query = query.where(col(User.organisation_id).in_(sorted(scope) or [-1]))
    greek = i18n.current_language() == "el"
    rows = session.execute(query.order_by(col(Organisation.name_el), col(User.full_name), col(User.id)).limit(limit))
    return [(user, name_el if greek else name_en) for user, name_el, name_en in rows]


def chain(session: Session, subject_type: str, subject_id: int) -> list[Holding]:
    """Every holder of the subject in order, with the period each held it."""
    rows = session.execute(
        select(Responsibility, col(User.full_name),
               col(Organisation.name_el) if i18n.current_language() == "el" else col(Organisation.name_en))
        .join(Organisation, col(Organisation.id) == Responsibility.holder_organisation_id)
        .outerjoin(User, col(User.id) == Responsibility.holder_user_id)
        .where(col(Responsibility.subject_type) == subject_type, col(Responsibility.subject_id) == subject_id)
        .order_by(col(Responsibility.since), col(Responsibility.id))
    ).all()
    out: list[Holding] = []
    for index, (row, user_name, org_name) in enumerate(rows):
        until = rows[index + 1][0].since if index + 1 < len(rows) else None
        out.append(Holding(holder_user_id=row.holder_user_id, holder_name=user_name,
                           holder_organisation_id=row.holder_organisation_id, holder_organisation_name=org_name,
                           since=row.since, until=until, granted_by_user_id=row.granted_by_user_id,
                           reason=row.reason, audit_seq=row.audit_seq))
    return out


def holder_at(session: Session, principal: Principal, subject_type: str, subject_id: int, at: datetime | None
              ) -> Holding | None:
    """The holding in force at ``at`` (now when omitted), after checking the caller may see the subject."""
    subjects.load(session, principal, subject_type, subject_id)
    moment = at or utcnow()
    for holding in reversed(chain(session, subject_type, subject_id)):
        if holding.since <= moment:
            return holding
    return None
