"""Organisation names beside their ids in payloads, in the request's language, read in one query."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlmodel import Session, col

from iolaos import i18n
from iolaos.organisations.models import Organisation

if TYPE_CHECKING:
    from iolaos.planning.schemas import PatrolOut


def names(session: Session, ids: Iterable[int | None], lang: str | None = None) -> dict[int, str]:
    """id → name (Greek or English) of the given organisations."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    lang = lang or i18n.current_language()
    rows = session.execute(select(col(Organisation.id), col(Organisation.name_el), col(Organisation.name_en))
                           .where(col(Organisation.id).in_(wanted)))
    return {r.id: (r.name_el if lang == "el" else r.name_en) or r.name_el for r in rows}


def fill_patrols(session: Session, patrols: list[PatrolOut]) -> list[PatrolOut]:
    """Set the executing organisation's and each crew member's organisation name."""
    found = names(session, [p.executing_organisation_id for p in patrols]
                  + [c.organisation_id for p in patrols for c in p.crew])
    for patrol in patrols:
        patrol.executing_organisation_name = found.get(patrol.executing_organisation_id or 0)
        for member in patrol.crew:
            member.organisation_name = found.get(member.organisation_id)
    return patrols
