"""Rules for organisations: validation, hierarchy, jurisdiction, and scoped reads."""

from __future__ import annotations

import re

from sqlalchemy import delete, select
from sqlmodel import Session, col

from iolaos.auth import service as auth_service
from iolaos.auth.principal import Principal, ensure_in_scope, organisation_ids
from iolaos.errors import Conflict, InvalidInput, NotFound
from iolaos.journal import service as journal
from iolaos.kit.ids import saved_id
from iolaos.kit.time import utcnow
from iolaos.organisations.models import ACTION_CATEGORIES, Organisation, OrganisationZone
from iolaos.organisations.schemas import (
    REGISTRY_PATTERN,
    OrganisationCreate,
    OrganisationOut,
    OrganisationUpdate,
)
from iolaos.zones.models import Zone


def _check_volunteer_fields(kind: str, registry_number: str | None, categories: list[str]) -> None:
    """Volunteer organisations carry a registry number and action categories; others must not."""
    if kind == "volunteer_org":
        if not registry_number or not re.fullmatch(REGISTRY_PATTERN, registry_number):
            raise InvalidInput("a volunteer organisation needs a registry number of 1–6 digits",
                               code="invalid_registry_number")
        if not categories:
            raise InvalidInput("a volunteer organisation needs at least one action category (FPA, FFA)",
                               code="invalid_action_categories")
    elif registry_number or categories:
        raise InvalidInput("only volunteer organisations have a registry number and action categories",
                           code="invalid_input")


def _categories_text(categories: list[str]) -> str:
    """Action categories as stored: each once, in the order of ACTION_CATEGORIES."""
    return ",".join(c for c in ACTION_CATEGORIES if c in categories)


def _zones_by_code(session: Session, codes: list[str]) -> list[Zone]:
    found = {z.code: z for z in session.scalars(select(Zone).where(col(Zone.code).in_(codes)))} if codes else {}
    missing = sorted(set(codes) - set(found))
    if missing:
        raise InvalidInput({"message": "unknown zone codes", "codes": missing}, code="unknown_zone")
    return [found[c] for c in dict.fromkeys(codes)]


def _region_id(session: Session, code: str | None) -> int | None:
    if code is None:
        return None
    zone = session.scalar(select(Zone).where(col(Zone.code) == code))
    if zone is None or zone.kind != "region":
        raise InvalidInput(f"{code!r} is not a region code", code="unknown_zone")
    return zone.id


def _registry_free(session: Session, registry_number: str | None, own_id: int | None = None) -> None:
    if registry_number is None:
        return
    other = session.scalar(select(col(Organisation.id)).where(col(Organisation.registry_number) == registry_number))
    if other is not None and other != own_id:
        raise Conflict("another organisation has this registry number", code="duplicate_registry_number")


def create(session: Session, *, principal: Principal, data: OrganisationCreate) -> Organisation:
    """Create an organisation inside the caller's tree, journalled."""
    parent_id = data.parent_id or principal.organisation_id
    ensure_in_scope(session, principal, "organisation.write", parent_id, what="parent organisation")
    _check_volunteer_fields(data.kind, data.registry_number, list(data.action_categories))
    _registry_free(session, data.registry_number)
    parent = session.get_one(Organisation, parent_id)  # it exists: the scope check above found it
    region_id = _region_id(session, data.region_code) if data.region_code else parent.region_id
    if parent.region_id is not None and region_id != parent.region_id:
        raise InvalidInput("an organisation works in the region of the organisation above it", code="invalid_region")
    org = Organisation(kind=data.kind, name_el=data.name_el, name_en=data.name_en, parent_id=parent_id,
                       region_id=region_id, registry_number=data.registry_number,
                       action_categories=_categories_text(data.action_categories))
    session.add(org)
    session.flush()
    _set_zones(session, org, _zones_by_code(session, data.zone_codes))
    journal.record(session, actor=principal.actor, action="organisation.create", subject_type="organisation",
                   subject_id=saved_id(org), data=data.model_dump(mode="json"),
                   topics=[f"org:{org.id}", f"org:{parent_id}"])
    return org


def update(session: Session, *, principal: Principal, org_id: int, data: OrganisationUpdate) -> Organisation:
    """Change an organisation's editable fields, journalled with the diff."""
    org = get_visible(session, principal, org_id, action="organisation.write")
    changes = data.model_dump(exclude_unset=True, mode="json")
    registry = changes.get("registry_number", org.registry_number)
    categories = changes.get("action_categories", org.categories)
    _check_volunteer_fields(org.kind, registry, list(categories or []))
    _registry_free(session, registry, org.id)
    if org.id == principal.organisation_id and changes.get("active") is False:
        raise Conflict("you cannot deactivate your own organisation", code="self_lockout")
    before = {k: getattr(org, k) for k in changes if k != "action_categories"}
    # Deactivation revokes its members' tokens, so reactivating later does not bring old sessions back.
    revoked = auth_service.revoke_organisation_tokens(session, saved_id(org)) if (
        changes.get("active") is False and org.active) else 0
    for key, value in changes.items():
        setattr(org, key, _categories_text(value) if key == "action_categories" else value)
    org.updated_at = utcnow()
    session.flush()
    diff = {"before": before, "after": changes} | ({"tokens_revoked": revoked} if revoked else {})
    journal.record(session, actor=principal.actor, action="organisation.update", subject_type="organisation",
                   subject_id=saved_id(org), data=diff, topics=[f"org:{org.id}"])
    return org


def set_jurisdiction(session: Session, *, principal: Principal, org_id: int, zone_codes: list[str]) -> Organisation:
    """Replace the zones an organisation covers."""
    org = get_visible(session, principal, org_id, action="organisation.write")
    _set_zones(session, org, _zones_by_code(session, zone_codes))
    journal.record(session, actor=principal.actor, action="organisation.jurisdiction", subject_type="organisation",
                   subject_id=saved_id(org), data={"zone_codes": zone_codes}, topics=[f"org:{org.id}"])
    return org


def _set_zones(session: Session, org: Organisation, zones: list[Zone]) -> None:
    session.execute(delete(OrganisationZone).where(col(OrganisationZone.organisation_id) == org.id))
    session.add_all([OrganisationZone(organisation_id=saved_id(org), zone_id=saved_id(z)) for z in zones])
    session.flush()


def get_visible(session: Session, principal: Principal, org_id: int, *,
                action: str = "organisation.read") -> Organisation:
    """One organisation the caller may see (or change, with ``action``); 404 otherwise."""
    principal.scope(action)
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound("no such organisation")
    ensure_in_scope(session, principal, action, saved_id(org), what="organisation")
    return org


def list_visible(session: Session, principal: Principal, *, kind: str | None, limit: int, offset: int
                 ) -> list[Organisation]:
    """Organisations in the caller's read scope."""
    allowed = organisation_ids(session, principal, "organisation.read")
    query = select(Organisation).order_by(col(Organisation.id))
    if allowed is not None:
        query = query.where(col(Organisation.id).in_(allowed))
    if kind:
        query = query.where(col(Organisation.kind) == kind)
    return list(session.scalars(query.limit(limit).offset(offset)))


def to_out(session: Session, orgs: list[Organisation]) -> list[OrganisationOut]:
    """Organisations with their region and jurisdiction codes, in two queries."""
    ids = [o.id for o in orgs]
    zone_rows = session.execute(
        select(col(OrganisationZone.organisation_id), col(Zone.code))
        .join(Zone, col(Zone.id) == col(OrganisationZone.zone_id))
        .where(col(OrganisationZone.organisation_id).in_(ids)).order_by(col(Zone.code))
    ).all() if ids else []
    zones: dict[int, list[str]] = {}
    for oid, code in zone_rows:
        zones.setdefault(oid, []).append(code)
    region_ids = {o.region_id for o in orgs if o.region_id}
    regions = dict(session.execute(select(col(Zone.id), col(Zone.code)).where(col(Zone.id).in_(region_ids))).all()) \
        if region_ids else {}
    return [OrganisationOut(id=saved_id(o), kind=o.kind, name_el=o.name_el, name_en=o.name_en, parent_id=o.parent_id,
                            region_code=regions.get(o.region_id), registry_number=o.registry_number,
                            action_categories=o.categories, active=o.active, zone_codes=zones.get(saved_id(o), []),
                            radio_channels=o.radio_channels)
            for o in orgs]
