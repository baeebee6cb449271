"""Queries over the audit journal, scoped to what the reviewer may read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from iolaos import i18n
from iolaos.auth.models import User
from iolaos.auth.principal import Principal, ensure_in_scope, organisation_ids
from iolaos.errors import InvalidInput, NotFound
from iolaos.journal.models import AuditRecord
from iolaos.kit import csvsafe
from iolaos.kit.time import iso
from iolaos.organisations.models import Organisation

MAX_EXPORT_ROWS = 200_000


@dataclass(frozen=True)
class AuditFilter:
    """What a reviewer asks for; every field narrows the result."""

    since: datetime | None = None
    until: datetime | None = None
    organisation_id: int | None = None
    actor_user_id: int | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    action: str | None = None


def _query(session: Session, principal: Principal, flt: AuditFilter) -> Any:
    principal.scope("audit.read")
    if flt.since and flt.until and flt.until < flt.since:
        raise InvalidInput("until must not be before since", code="invalid_range")
    query = select(AuditRecord)
    allowed = organisation_ids(session, principal, "audit.read")
    if allowed is not None:
        query = query.where(col(AuditRecord.actor_organisation_id).in_(allowed))
    if flt.organisation_id is not None:
        ensure_in_scope(session, principal, "audit.read", flt.organisation_id, what="organisation")
        query = query.where(col(AuditRecord.actor_organisation_id) == flt.organisation_id)
    for column, value in ((col(AuditRecord.actor_user_id), flt.actor_user_id),
                          (col(AuditRecord.subject_type), flt.subject_type),
                          (col(AuditRecord.subject_id), flt.subject_id)):
        if value is not None:
            query = query.where(column == value)
    if flt.action:
        query = query.where(col(AuditRecord.action).startswith(flt.action.rstrip("*"))) if flt.action.endswith("*") \
            else query.where(col(AuditRecord.action) == flt.action)
    if flt.since:
        query = query.where(col(AuditRecord.occurred_at) >= flt.since)
    if flt.until:
        query = query.where(col(AuditRecord.occurred_at) < flt.until)
    return query


def page(session: Session, principal: Principal, flt: AuditFilter, *, after: int, limit: int
         ) -> tuple[list[AuditRecord], int | None]:
    """Records in seq order after the cursor, and the cursor of the next page (None at the end)."""
    query = _query(session, principal, flt).where(AuditRecord.seq > after).order_by(AuditRecord.seq).limit(limit + 1)
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].seq if more and rows else None)


def iter_all(session: Session, principal: Principal, flt: AuditFilter, *, batch: int = 2000) -> Iterator[AuditRecord]:
    """Every matching record in seq order, read in batches (for exports)."""
    after, sent = 0, 0
    base = _query(session, principal, flt)
    while sent < MAX_EXPORT_ROWS:
        rows = list(session.scalars(base.where(AuditRecord.seq > after).order_by(AuditRecord.seq).limit(batch)))
        if not rows:
            return
        yield from rows
        after, sent = rows[-1].seq, sent + len(rows)


# Personal data inside audit payloads (user.create, volunteer.update…): shown only to roles with the right to
# personal contact data (volunteer.contact), as /users and /volunteers do. The stored record and its hash are
# unchanged; only what is served is redacted.
PERSONAL_KEYS = frozenset({"email", "phone", "national_id", "home_base"})
REDACTED = "[redacted]"


def sees_personal_data(principal: Principal) -> bool:
    """True when the caller's role may read personal contact data."""
    return principal.can("volunteer.contact")


def redact(value: Any) -> Any:
    """``value`` with every personal field (at any depth) replaced by a marker; None stays None."""
    if isinstance(value, dict):
        return {k: (REDACTED if k in PERSONAL_KEYS and v is not None else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def record_out(record: AuditRecord, *, personal: bool = True) -> dict[str, Any]:
    """An audit record as served; without ``personal`` its payload's personal fields are redacted."""
    data = json.loads(record.data)
    return {
        "seq": record.seq, "occurred_at": iso(record.occurred_at), "actor_user_id": record.actor_user_id,
        "actor_organisation_id": record.actor_organisation_id, "actor_role": record.actor_role,
        "actor_name": record.actor_name, "action": record.action,
        "action_label": i18n.label("action", record.action),  # in the request's language, from the catalogue
        "subject_type": record.subject_type,
        "subject_id": record.subject_id, "data": data if personal else redact(data), "hash": record.hash,
    }


CSV_COLUMNS = ["seq", "occurred_at", "actor_name", "actor_role", "actor_user_id", "actor_organisation_id", "action",
               "subject_type", "subject_id", "data", "hash"]


def csv_lines(records: Iterator[AuditRecord], *, personal: bool = True) -> Iterator[str]:
    """CSV text, header first, one line per record (spreadsheet formulas neutralised by kit/csvsafe)."""

    def rows() -> Iterator[list[Any]]:
        for record in records:
            row = record_out(record, personal=personal)
            row["data"] = json.dumps(row["data"], ensure_ascii=False, sort_keys=True)
            yield [row[c] for c in CSV_COLUMNS]

    return csvsafe.lines(CSV_COLUMNS, rows())


def organisation_and_people(session: Session, principal: Principal, organisation_id: int
                            ) -> tuple[Organisation, list[User]]:
    """The unit of an activity log and its personnel, after the scope check."""
    principal.scope("audit.read")
    ensure_in_scope(session, principal, "audit.read", organisation_id, what="organisation")
    org = session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound("no such organisation")
    people = list(session.scalars(select(User).where(col(User.organisation_id) == org.id)
                                  .order_by(col(User.full_name))))
    return org, people
