"""Grant rules: nobody grants a permission they do not hold, and an account is re-enabled only at the level
that disabled it.

An outside review found an admin without location rights creating a dispatcher in its own organisation,
who then read every position and phone number: the admin had, in effect, granted itself those rights. Now
each action of the new role, over the organisations it would reach for the new account, must be within what
the caller reaches for that action, or what the account already had (a demotion grants nothing new). Only
the command line's superuser (``iolaos users create-admin``, no caller) is exempt.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlmodel import Session, col

from iolaos.auth.permissions import PERMISSIONS
from iolaos.auth.principal import Principal, organisation_ids
from iolaos.errors import Forbidden
from iolaos.journal.models import AuditRecord
from iolaos.kit.ids import id_column, saved_id
from iolaos.organisations.models import Organisation

# Who may lift a disablement: the level of the one who disabled, or a higher one. The command line is above all.
LEVELS = {"leader": 1, "admin": 2, "system": 3}


def _as_holder(org: Organisation, role: str) -> Principal:
    """A principal with ``role`` in ``org``, to ask what that role would reach there."""
    return Principal(user_id=0, username="", full_name="", role=role, organisation_id=saved_id(org),
                     organisation_kind=org.kind, region_id=org.region_id)


def check_grant(session: Session, principal: Principal, org: Organisation, role: str, *,
                current_role: str | None = None) -> None:
    """403 when giving ``role`` in ``org`` would hand out an action, or a reach, the caller does not hold."""
    every: set[int] | None = None
    missing = []
    grantee = _as_holder(org, role)
    before = _as_holder(org, current_role) if current_role else None
    for action in PERMISSIONS.get(role, {}):
        reach = organisation_ids(session, grantee, action)
        held = organisation_ids(session, principal, action) if principal.can(action) else set()
        if before is not None and before.can(action):
            had = organisation_ids(session, before, action)
            held = None if had is None or held is None else held | had
        if held is None:
            continue
        if reach is None:
            every = every if every is not None else set(session.scalars(select(id_column(Organisation.id))))
            reach = every
        if not reach <= held:
            missing.append(action)
    if missing:
        raise Forbidden(f"you cannot grant the role {role!r}: it holds permissions you do not hold "
                        f"({', '.join(missing)})", code="grant_exceeds_own")


def disabled_by_level(session: Session, user_id: int) -> int:
    """The level of whoever last disabled the account (0 when the journal names no one)."""
    rows = session.execute(
        select(col(AuditRecord.actor_role), col(AuditRecord.data))
        .where(col(AuditRecord.subject_type) == "user", col(AuditRecord.subject_id) == str(user_id),
               col(AuditRecord.action) == "user.update")
        .order_by(col(AuditRecord.seq).desc()))
    for actor_role, data in rows:
        if json.loads(data).get("after", {}).get("is_active") is False:
            return LEVELS.get(actor_role, LEVELS["system"] if actor_role not in PERMISSIONS else 0)
    return 0


def check_reenable(session: Session, principal: Principal, user_id: int) -> None:
    """403 when the account was disabled at a level above the caller's."""
    if disabled_by_level(session, user_id) > LEVELS.get(principal.role, 0):
        raise Forbidden("this account was disabled at a higher level; only that level may re-enable it",
                        code="reenable_level")
