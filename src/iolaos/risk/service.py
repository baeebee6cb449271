"""Rules for the risk map: zones in a caller's scope, audited batches of levels, the published map."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import CTE, Select, func, literal, select
from sqlmodel import Session, col

from iolaos.auth.actor import Actor
from iolaos.auth.permissions import Scope
from iolaos.auth.principal import Principal
from iolaos.errors import Forbidden, InvalidInput
from iolaos.journal import service as journal
from iolaos.kit.ids import saved_id
from iolaos.kit.tables import table_of
from iolaos.organisations.models import OrganisationZone
from iolaos.risk import importer
from iolaos.risk.models import CATEGORIES, RiskLevel
from iolaos.risk.schemas import ChangeOut, LevelIn, LevelOut
from iolaos.zones.models import Zone


@dataclass(frozen=True)
class ZoneInfo:
    """A zone without its geometry."""

    id: int
    code: str
    kind: str
    name_el: str
    name_en: str
    parent_id: int | None


@dataclass
class ZoneTree:
    """All zones and their hierarchy (a few hundred rows)."""

    by_id: dict[int, ZoneInfo]
    children: dict[int, list[int]]
    _by_code: dict[str, int] | None = field(default=None, repr=False, compare=False)

    def below(self, roots: set[int]) -> set[int]:
        """The roots and every zone under them."""
        found, stack = set(roots), list(roots)
        while stack:
            for child in self.children.get(stack.pop(), []):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return found

    def region_of(self, zone_id: int) -> ZoneInfo | None:
        """The region a zone lies in (itself for a region)."""
        zone = self.by_id.get(zone_id)
        while zone is not None and zone.kind != "region":
            zone = self.by_id.get(zone.parent_id) if zone.parent_id is not None else None
        return zone

    def ancestors(self, zone_id: int) -> list[int]:
        """Parent, grandparent, … of a zone."""
        out, zone = [], self.by_id.get(zone_id)
        while zone is not None and zone.parent_id is not None:
            out.append(zone.parent_id)
            zone = self.by_id.get(zone.parent_id)
        return out

    def leaves(self) -> list[int]:
        """Zones without children (municipalities, or their sectors where there are sectors)."""
        return sorted(z for z in self.by_id if z not in self.children)

    def by_code(self) -> dict[str, int]:
        """Zone ids by code (built once per tree: topic checks ask for it once per topic)."""
        if self._by_code is None:
            self._by_code = {z.code: z.id for z in self.by_id.values()}
        return self._by_code


def zone_tree(session: Session) -> ZoneTree:
    """Every zone (no geometry) with the parent → children map; cached for the request's session."""
    cached = session.info.get("iolaos_zone_tree")
    if cached is not None:
        return cached
    rows = session.execute(select(col(Zone.id), col(Zone.code), col(Zone.kind), col(Zone.name_el), col(Zone.name_en),
                                  col(Zone.parent_id)))
    by_id = {r[0]: ZoneInfo(*r) for r in rows}
    children: dict[int, list[int]] = {}
    for zone in by_id.values():
        if zone.parent_id is not None:
            children.setdefault(zone.parent_id, []).append(zone.id)
    tree = ZoneTree(by_id, children)
    session.info["iolaos_zone_tree"] = tree
    return tree


def zones_in_scope(session: Session, principal: Principal, action: str) -> set[int] | None:
    """Zone ids ``action`` reaches for this caller; None means every zone.

    ``region``/``tree``: the caller organisation's region and everything in it (a national
    organisation: all); ``own``/``self``: the organisation's jurisdiction zones and what lies in them.
    """
    scope = principal.scope(action)
    if scope is Scope.ALL:
        return None
    tree = zone_tree(session)
    if scope in (Scope.REGION, Scope.TREE):
        return None if principal.region_id is None else tree.below({principal.region_id})
    own = set(session.scalars(select(col(OrganisationZone.zone_id))
                              .where(col(OrganisationZone.organisation_id) == principal.organisation_id)))
    return tree.below(own)


def topics_for(tree: ZoneTree, zone_ids: set[int]) -> list[str]:
    """Live topics of changes to these zones: each zone, its region, and ``risk``."""
    topics = {"risk"}
    for zone_id in zone_ids:
        topics.add(f"zone:{tree.by_id[zone_id].code}")
        region = tree.region_of(zone_id)
        if region is not None:
            topics.add(f"region:{region.code}")
    return sorted(topics)


def set_levels(session: Session, *, principal: Principal, items: list[LevelIn]) -> ChangeOut:
    """Store a batch from the API: all or nothing, every bad item listed, zones in the caller's scope only."""
    principal.scope("risk.write")
    lines = [importer.Line(n, i.zone_code, i.date, i.category, i.note) for n, i in enumerate(items, start=1)]
    tree = zone_tree(session)
    checked = importer.check(lines, tree.by_code(), unit="item")
    allowed = zones_in_scope(session, principal, "risk.write")
    outside = sorted({c.zone_code for c in checked if allowed is not None and c.zone_id not in allowed})
    if outside:
        raise Forbidden({"message": "these zones are outside your area", "zone_codes": outside},
                        code="zone_out_of_scope")
    return store(session, actor=principal.actor, checked=checked, source="api")


def import_lines(session: Session, *, actor: Actor, lines: list[importer.Line], source: str) -> ChangeOut:
    """Store checked lines of a file (the command line is trusted with every zone)."""
    checked = importer.check(lines, zone_tree(session).by_code())
    return store(session, actor=actor, checked=checked, source=source)


def store(session: Session, *, actor: Actor, checked: list[importer.Checked], source: str) -> ChangeOut:
    """Append a row for every changed category, journalled and published as one event."""
    tree = zone_tree(session)
    current = _latest(session, {(c.zone_id, c.day) for c in checked})
    new_rows = [RiskLevel(zone_id=c.zone_id, day=c.day, category=c.category, source=source[:120], note=c.note,
                          issued_by_user_id=actor.user_id, issued_by_organisation_id=actor.organisation_id)
                for c in checked if current.get((c.zone_id, c.day)) is None
                or current[(c.zone_id, c.day)].category != c.category]
    session.add_all(new_rows)
    session.flush()
    if new_rows:
        changes = [{"zone": tree.by_id[r.zone_id].code, "date": r.day.isoformat(), "category": r.category,
                    "before": getattr(current.get((r.zone_id, r.day)), "category", None)} for r in new_rows]
        journal.record(session, actor=actor, action="risk.set", subject_type="risk_map",
                       subject_id=",".join(sorted({r.day.isoformat() for r in new_rows}))[:80],
                       data={"source": source, "changes": changes},
                       topics=topics_for(tree, {r.zone_id for r in new_rows}), event_kind="risk.changed",
                       payload={"levels": [to_out(tree, r).model_dump(mode="json") for r in new_rows]})
    return ChangeOut(created=len(new_rows), unchanged=len(checked) - len(new_rows),
                     levels=[to_out(tree, r) for r in new_rows])


def _latest(session: Session, keys: set[tuple[int, date]]) -> dict[tuple[int, date], RiskLevel]:
    """The row in force for each (zone, day) asked for."""
    days = {d for _, d in keys}
    zones = {z for z, _ in keys}
    if not keys:
        return {}
    found: dict[tuple[int, date], RiskLevel] = {}
    rows = session.scalars(select(RiskLevel).where(col(RiskLevel.day).in_(days), col(RiskLevel.zone_id).in_(zones))
                           .order_by(col(RiskLevel.id)))
    for row in rows:
        found[(row.zone_id, row.day)] = row  # later ids win
    return found


@dataclass(frozen=True)
class Effective:
    """A zone's category on a day and the entry it comes from (the zone's own, or its nearest ancestor's)."""

    zone_id: int
    row: RiskLevel

    @property
    def category(self) -> int:
        """The category in force."""
        return self.row.category

    @property
    def inherited(self) -> bool:
        """True when the category is an ancestor's (a region's covers its municipalities and their sectors)."""
        return self.row.zone_id != self.zone_id


def zone_closure() -> CTE:
    """(ancestor, descendant, depth) for every zone and each of its ancestors, itself at depth 0 (SQL)."""
    zone = table_of(Zone)
    closure = select(zone.c.id.label("anc"), zone.c.id.label("des"), literal(0).label("depth")).cte(
        "zone_closure", recursive=True)
    return closure.union_all(select(closure.c.anc, zone.c.id, closure.c.depth + 1)
                             .join(zone, zone.c.parent_id == closure.c.des))


def effective_query(start: date, end: date, closure: CTE | None = None) -> Select:
    """THE definition of a zone's category on a day, as SQL: for every zone and day in [start, end] that has one,
    the row in force of its own entry, else of its nearest ancestor's (columns zone_id, day, level_id, category,
    depth; depth 0 means own). Every answer about risk comes from this query, one day or a whole season.
    Pass ``closure`` to share one :func:`zone_closure` with the rest of a statement."""
    closure = zone_closure() if closure is None else closure
    latest = (select(col(RiskLevel.zone_id), col(RiskLevel.day), func.max(col(RiskLevel.id)).label("level_id"))
              .where(col(RiskLevel.day) >= start, col(RiskLevel.day) <= end)
              .group_by(col(RiskLevel.zone_id), col(RiskLevel.day))
              .subquery("latest"))
    ranked = (select(closure.c.des.label("zone_id"), latest.c.day, latest.c.level_id, closure.c.depth,
                     func.row_number().over(partition_by=(closure.c.des, latest.c.day),
                                            order_by=closure.c.depth).label("rank"))
              .join(closure, closure.c.anc == latest.c.zone_id).subquery("ranked"))
    level = table_of(RiskLevel)
    return (select(ranked.c.zone_id, ranked.c.day, ranked.c.level_id, level.c.category, ranked.c.depth)
            .join(level, level.c.id == ranked.c.level_id).where(ranked.c.rank == 1))


def effective_levels(session: Session, day: date) -> dict[int, Effective]:
    """Every zone's effective level on ``day`` (own entry, else the nearest ancestor's), by
    :func:`effective_query`; REST, OGC, CAP, planning, coverage reports and the pages all ask this."""
    picked = effective_query(day, day).subquery("picked")
    rows = session.execute(select(picked.c.zone_id, RiskLevel).join(RiskLevel, col(RiskLevel.id) == picked.c.level_id))
    return {zone_id: Effective(zone_id, row) for zone_id, row in rows}


def effective_level(session: Session, zone_id: int, day: date) -> Effective | None:
    """One zone's effective level on ``day`` (None when neither it nor an ancestor has one)."""
    return effective_levels(session, day).get(zone_id)


def effective(session: Session, day: date) -> dict[int, int]:
    """Category per zone on ``day`` (the category-only view of :func:`effective_levels`)."""
    return {z: e.category for z, e in effective_levels(session, day).items()}


def published_map(session: Session, day: date, *, kind: str | None = None, region: str | None = None
                  ) -> list[LevelOut]:
    """The effective level of every zone on ``day`` (own or inherited), ordered by zone code, optionally of one
    kind or within one region."""
    tree = zone_tree(session)
    within = None
    if region is not None:
        region_id = tree.by_code().get(region)
        if region_id is None:
            raise InvalidInput(f"unknown zone code {region!r}", code="unknown_zone")
        within = tree.below({region_id})
    out = [to_out(tree, e.row, zone_id=z) for z, e in effective_levels(session, day).items()
           if (kind is None or tree.by_id[z].kind == kind) and (within is None or z in within)]
    return sorted(out, key=lambda o: o.zone_code)


def history(session: Session, zone: Zone, *, day: date | None = None, limit: int = 100) -> list[LevelOut]:
    """Every level that applied to a zone (its own and its ancestors', marked inherited), newest day first;
    within a day the one in force comes first (own before inherited, nearest ancestor first, newest first)."""
    tree = zone_tree(session)
    zone_id = saved_id(zone)
    chain = [zone_id, *tree.ancestors(zone_id)]
    query = select(RiskLevel).where(col(RiskLevel.zone_id).in_(chain))
    if day is not None:
        query = query.where(col(RiskLevel.day) == day)
    rows = sorted(session.scalars(query), key=lambda r: (-r.day.toordinal(), chain.index(r.zone_id), -(r.id or 0)))
    return [to_out(tree, r, zone_id=zone_id) for r in rows[:limit]]


def to_out(tree: ZoneTree, row: RiskLevel, *, zone_id: int | None = None) -> LevelOut:
    """A level as it applies to ``zone_id`` (default: the row's own zone), with colours and where it comes from."""
    zone = tree.by_id[zone_id if zone_id is not None else row.zone_id]
    origin = tree.by_id[row.zone_id]
    label_en, label_el, colour, hex_colour = CATEGORIES[row.category]
    return LevelOut(zone_code=zone.code, zone_kind=zone.kind, zone_name_el=zone.name_el, zone_name_en=zone.name_en,
                    date=row.day, category=row.category, label_en=label_en, label_el=label_el, colour=colour,
                    hex=hex_colour, source=row.source, issued_at=row.issued_at,
                    inherited=origin.id != zone.id, from_zone_code=origin.code)
