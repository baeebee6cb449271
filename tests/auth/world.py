"""What the demo database holds, read straight from the tables, and the scope rules restated for tests.

The scope rules here are written from the documentation (docs/permissions.md), independently of
``iolaos.auth.principal``, so that the tests check the implementation instead of repeating it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import insert, select, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from iolaos.auth.models import AuthToken, User
from iolaos.auth.permissions import PERMISSIONS
from iolaos.kit.time import utcnow
from iolaos.models import import_all_models

# Tables left out of snapshots: zones (large, public and read-only) and the journal (compared by its length).
UNGUARDED_TABLES = {"zone", "audit_record", "event"}


@dataclass(frozen=True)
class Org:
    """One organisation row."""

    id: int
    kind: str
    parent_id: int | None
    region_id: int | None
    name_en: str


@dataclass(frozen=True)
class Account:
    """One account row."""

    id: int
    username: str
    organisation_id: int
    role: str


@dataclass
class World:
    """The demo organisations, accounts and volunteers."""

    orgs: dict[int, Org]
    accounts: dict[str, Account]
    volunteers: dict[int, list[int]] = field(default_factory=dict)  # organisation id -> volunteer ids
    volunteer_users: dict[int, int] = field(default_factory=dict)  # volunteer id -> linked user id
    # Objects other features make for the sweep: kind -> id -> the organisations involved with it.
    objects: dict[str, dict[int, set[int]]] = field(default_factory=dict)

    def org_of(self, username: str) -> Org:
        """The organisation of a demo account."""
        return self.orgs[self.accounts[username].organisation_id]

    def org_named(self, name_en: str) -> Org:
        """An organisation by its English name."""
        return next(o for o in self.orgs.values() if o.name_en == name_en)

    def users_of(self, org_ids: set[int]) -> list[Account]:
        """Accounts of these organisations, by id."""
        return sorted((a for a in self.accounts.values() if a.organisation_id in org_ids), key=lambda a: a.id)

    def volunteers_of(self, org_ids: set[int]) -> list[int]:
        """Volunteer ids of these organisations."""
        return sorted(v for oid in org_ids for v in self.volunteers.get(oid, []))

    def region_orgs(self, region_code: str) -> set[int]:
        """Organisations of a region, by the region's zone code (read from a demo organisation's region)."""
        anchor = {"GR-I": "dispatcher.attica", "GR-H": "dispatcher.sterea"}[region_code]
        region = self.org_of(anchor).region_id
        return {o.id for o in self.orgs.values() if o.region_id == region}

    def descendants(self, root: int) -> set[int]:
        """``root`` and every organisation below it."""
        found = {root}
        changed = True
        while changed:
            below = {o.id for o in self.orgs.values() if o.parent_id in found}
            changed = not below <= found
            found |= below
        return found

    def reach(self, username: str, action: str) -> set[int]:
        """Organisations whose objects ``action`` reaches for this account (empty when the role lacks it).

        ``self`` counts as the caller's own organisation: it never reaches beyond it.
        """
        account = self.accounts[username]
        scope = PERMISSIONS[account.role].get(action)
        own = self.orgs[account.organisation_id]
        if scope is None:
            return set()
        if scope in ("own", "self"):
            return {own.id}
        if scope == "tree":
            return self.descendants(own.id)
        if scope == "region" and own.region_id is not None:
            return {o.id for o in self.orgs.values() if o.region_id == own.region_id} | {own.id}
        return set(self.orgs)

    def reach_any(self, username: str) -> set[int]:
        """Organisations any permission of the account reaches."""
        found: set[int] = set()
        for action in PERMISSIONS[self.accounts[username].role]:
            found |= self.reach(username, action)
        return found

    def foreign(self, username: str) -> set[int]:
        """Organisations no permission of the account reaches: their objects must answer 404."""
        return set(self.orgs) - self.reach_any(username)


def load_world(engine: Engine) -> World:
    """Read organisations, accounts and volunteers from the database."""
    with engine.connect() as conn:
        orgs = {r.id: Org(r.id, r.kind, r.parent_id, r.region_id, r.name_en) for r in conn.execute(
            text("SELECT id, kind, parent_id, region_id, name_en FROM organisation"))}
        accounts = {r.username: Account(r.id, r.username, r.organisation_id, r.role) for r in conn.execute(
            text("SELECT id, username, organisation_id, role FROM app_user"))}
        world = World(orgs, accounts)
        for r in conn.execute(text("SELECT id, organisation_id, user_id FROM volunteer ORDER BY id")):
            world.volunteers.setdefault(r.organisation_id, []).append(r.id)
            if r.user_id is not None:
                world.volunteer_users[r.id] = r.user_id
    return world


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table (but the zones, which no request changes) and the journal's length.

    Equal snapshots mean nothing changed, in this feature's tables or any other's.
    """
    import_all_models()
    rows: dict[str, list[tuple]] = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in UNGUARDED_TABLES:
                continue
            order = list(table.primary_key.columns) or list(table.columns)[:1]
            rows[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
        rows["audit_record"] = [tuple(conn.execute(text("SELECT count(*), max(seq) FROM audit_record")).one())]
    return rows


def audit_count(engine: Engine) -> int:
    """How many audit records the journal holds."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM audit_record")).scalar_one()


def issue_token(engine: Engine, username: str, *, ttl: timedelta = timedelta(hours=1)) -> str:
    """A bearer token of ``username`` stored exactly as sign-in stores it (its SHA-256), without the password.

    For tests about what a signed-in caller may do; tests about signing in use the HTTP sign-in.
    """
    plain = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        user_id = conn.execute(select(User.id).where(User.username == username)).scalar_one()
        conn.execute(insert(AuthToken).values(token_hash=hashlib.sha256(plain.encode()).hexdigest(), user_id=user_id,
                                              created_at=utcnow(), expires_at=utcnow() + ttl))
    return plain
