"""What every ICS form needs: local times, who prepared it, organisation names, who may see contact numbers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session, col

from iolaos import i18n
from iolaos.auth.principal import Principal, organisation_ids
from iolaos.kit.ids import saved_id
from iolaos.kit.time import utcnow
from iolaos.organisations.models import Organisation

ATHENS = ZoneInfo("Europe/Athens")


def local(moment: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """A moment in Europe/Athens, as printed on the forms."""
    return moment.astimezone(ATHENS).strftime(fmt) if moment else "—"


def organisations(session: Session, ids: Iterable[int | None]) -> dict[int, Organisation]:
    """id → organisation, in one query."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {saved_id(o): o for o in session.scalars(select(Organisation).where(col(Organisation.id).in_(wanted)))}


def org_name(org: Organisation | None, lang: str) -> str:
    """An organisation's name in ``lang``."""
    if org is None:
        return "—"
    return org.name_el if lang == "el" else org.name_en


def contact_scope(session: Session, principal: Principal) -> set[int] | Literal[False] | None:
    """Organisations whose people's phone numbers the caller may print (None: all, False: none)."""
    if not principal.can("volunteer.contact"):
        return False
    return organisation_ids(session, principal, "volunteer.contact")


def may_contact(scope: set[int] | Literal[False] | None, organisation_id: int | None) -> bool:
    """True when a phone number of someone in ``organisation_id`` may be printed."""
    return scope is None or (scope is not False and organisation_id in scope)


def prepared_by(session: Session, principal: Principal, lang: str, now: datetime | None = None) -> dict[str, Any]:
    """Block "prepared by": name, ICS position, agency, date/time."""
    org = session.get(Organisation, principal.organisation_id)
    return {"name": principal.full_name, "position": i18n.label("ics_position", principal.role, lang),
            "agency": org_name(org, lang), "at": local(now or utcnow())}
