"""The permissions table: which role may do which action, and over which scope of organisations.

This table is the single source of truth: the dependencies check it, ``docs/permissions.md`` is
rendered from it (``iolaos docs permissions``) and the authorisation tests are driven by it.

Scopes, narrowest first:
- ``self``: only objects that are the caller themself (their own account or volunteer record);
- ``own``: objects of the caller's organisation;
- ``tree``: the caller's organisation and every organisation below it;
- ``region``: organisations whose region is the caller organisation's region (a national
  organisation, with no region, sees every region);
- ``all``: everything.
"""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    """How far a permission reaches."""

    SELF = "self"
    OWN = "own"
    TREE = "tree"
    REGION = "region"
    ALL = "all"


ACTIONS: dict[str, str] = {
    "organisation.read": "see organisations and their jurisdiction",
    "organisation.write": "create organisations below one's own, edit them, set jurisdiction",
    "user.read": "see accounts (names, roles, status)",
    "user.write": "create accounts, change roles, disable, revoke sign-ins",
    "volunteer.read": "see volunteers: name, status, skills, availability",
    "volunteer.contact": "see volunteers' phone, e-mail and home base",
    "volunteer.write": "register volunteers, edit them, their skills and availability",
    "volunteer.location": "see volunteers' live positions",
    "audit.read": "read the audit journal and activity logs",
    "incident.report": "report an incident (smoke, fire, suspicious activity…)",
    "incident.read": "see incidents led or reported by organisations in scope",
    "incident.manage": "move incidents led by organisations in scope along their lifecycle",
    "responsibility.handover": "hand patrols and incidents over between people of organisations in scope",
    "risk.write": "set zones' fire-risk categories (API and import) for zones in scope",
    "coverage.read": "see the coverage policy, coverage reports and the equity view for zones in scope",
    "coverage.write": "edit the coverage policy (a region's own, or the national one)",
    "plan.write": "plan patrols for zones in scope from the risk map: preview, commit, cancel",
    "patrol.read": "see patrols, their crews, proposals and the reasons for them",
    "assignment.respond": "accept or decline proposals for the organisation's volunteers",
    "assignment.override": "put volunteers on patrols or take them off directly, with a reason",
    "patrol.operate": "check crews in and out, start and end patrols, set their field status",
    "alert.read": "see safety alerts (SOS, lost contact, out of zone) of patrols one may see",
    "alert.manage": "acknowledge safety alerts of patrols in scope",
    "recognition.read": "see contribution statements (hours on patrol, high-risk days, confirmed sightings)",
    "warning.read": "see public warnings of organisations in scope (with region scope also those for the region's "
                    "area): drafts, approvals and every message sent",
    "warning.issue": "draft, publish, update and cancel public warnings (CAP): for incidents the organisation leads, "
                     "from the risk map for zones of its region (fire service), or, for civil protection, anywhere "
                     "in its region",
    "warning.approve": "approve another person's warning revision when four-eyes is on (same authority as "
                       "warning.issue)",
}

S = Scope
PERMISSIONS: dict[str, dict[str, Scope]] = {
    "admin": {
        "organisation.read": S.TREE, "organisation.write": S.TREE, "user.read": S.TREE, "user.write": S.TREE,
        "volunteer.read": S.TREE, "volunteer.contact": S.TREE, "volunteer.write": S.TREE, "audit.read": S.TREE,
        "incident.read": S.TREE, "risk.write": S.TREE, "coverage.read": S.TREE, "coverage.write": S.TREE,
        "patrol.read": S.TREE,
        "alert.read": S.TREE, "recognition.read": S.TREE,
        "warning.read": S.TREE,
    },
    "dispatcher": {
        "organisation.read": S.REGION, "user.read": S.OWN, "volunteer.read": S.REGION,
        "volunteer.contact": S.REGION, "volunteer.location": S.REGION, "incident.report": S.OWN,
        "incident.read": S.REGION, "incident.manage": S.REGION, "responsibility.handover": S.REGION,
        "risk.write": S.REGION, "coverage.read": S.REGION, "coverage.write": S.REGION, "plan.write": S.REGION,
        "patrol.read": S.REGION, "assignment.override": S.REGION,
        "patrol.operate": S.REGION, "alert.read": S.REGION, "alert.manage": S.REGION,
        "recognition.read": S.REGION,
        "warning.read": S.REGION, "warning.issue": S.OWN, "warning.approve": S.OWN,
    },
    "officer": {
        "organisation.read": S.REGION, "user.read": S.OWN, "volunteer.read": S.REGION, "incident.report": S.OWN,
        "incident.read": S.REGION, "incident.manage": S.OWN, "responsibility.handover": S.OWN,
        "coverage.read": S.REGION, "patrol.read": S.REGION,
        "alert.read": S.REGION,
        "warning.read": S.REGION, "warning.issue": S.OWN, "warning.approve": S.OWN,
    },
    "coordinator": {
        "organisation.read": S.REGION, "user.read": S.OWN, "volunteer.read": S.REGION,
        "volunteer.location": S.REGION, "incident.report": S.OWN, "incident.read": S.REGION,
        "incident.manage": S.OWN, "responsibility.handover": S.OWN,
        "coverage.read": S.REGION, "plan.write": S.OWN, "patrol.read": S.REGION,
        "alert.read": S.REGION, "recognition.read": S.REGION,
        "warning.read": S.REGION,
    },
    "reviewer": {
        "organisation.read": S.REGION, "user.read": S.REGION, "volunteer.read": S.REGION, "audit.read": S.REGION,
        "incident.read": S.REGION,
        "coverage.read": S.REGION, "patrol.read": S.REGION,
        "alert.read": S.REGION, "recognition.read": S.REGION,
        "warning.read": S.REGION,
    },
    "leader": {
        "organisation.read": S.OWN, "user.read": S.OWN, "user.write": S.OWN, "volunteer.read": S.OWN,
        "volunteer.contact": S.OWN, "volunteer.write": S.OWN, "volunteer.location": S.OWN,
        "incident.report": S.OWN, "incident.read": S.OWN, "responsibility.handover": S.OWN,
        "patrol.read": S.OWN, "assignment.respond": S.OWN,
        "patrol.operate": S.OWN, "alert.read": S.OWN, "recognition.read": S.OWN,
    },
    "volunteer": {
        "organisation.read": S.OWN, "user.read": S.SELF, "volunteer.read": S.SELF, "volunteer.contact": S.SELF,
        "incident.report": S.OWN, "incident.read": S.OWN,
        "patrol.read": S.SELF,
        "alert.read": S.SELF, "recognition.read": S.SELF,
    },
}

# Which roles an organisation of each kind may hold.
ROLES_BY_ORG_KIND: dict[str, tuple[str, ...]] = {
    "fire_service": ("admin", "dispatcher", "officer"),
    "police": ("admin", "dispatcher", "officer"),
    "municipality": ("admin", "coordinator"),
    "region": ("admin", "coordinator", "reviewer"),
    "civil_protection": ("admin", "dispatcher", "coordinator", "reviewer"),
    "forest_service": ("admin", "officer", "coordinator"),
    "volunteer_org": ("leader", "volunteer"),
}

# Roles a leader may hand out inside their own volunteer organisation.
LEADER_GRANTABLE = ("leader", "volunteer")


def scope_for(role: str, action: str) -> Scope | None:
    """The scope ``role`` has for ``action``, or None when it may not do it at all."""
    if action not in ACTIONS:
        raise KeyError(f"unknown action {action!r}")
    return PERMISSIONS.get(role, {}).get(action)


def render_markdown() -> str:
    """The permissions table as Markdown (docs/permissions.md)."""
    roles = list(PERMISSIONS)
    lines = [
        "# Permissions",
        "",
        "Generated from `src/iolaos/auth/permissions.py` by `iolaos docs permissions`; do not edit by hand.",
        "A test fails when this file and the table disagree.",
        "",
        "Scopes: **self** (the caller's own record), **own** (the caller's organisation), **tree** (it and every",
        "organisation below it), **region** (organisations of the caller organisation's region; a national",
        "organisation sees all regions), **all**. A dash means the role may not do it (HTTP 403). Objects",
        "outside the scope answer 404, as if they did not exist.",
        "",
        "| action | meaning | " + " | ".join(roles) + " |",
        "|---|---|" + "---|" * len(roles),
    ]
    for action, meaning in ACTIONS.items():
        cells = [str(PERMISSIONS[r].get(action, "–")) for r in roles]
        lines.append(f"| `{action}` | {meaning} | " + " | ".join(cells) + " |")
    lines += ["", "## Roles each kind of organisation may hold", "", "| organisation kind | roles |", "|---|---|"]
    lines += [f"| {kind} | {', '.join(roles)} |" for kind, roles in ROLES_BY_ORG_KIND.items()]
    lines += _location_markdown()
    lines += [
        "",
        "Public without a token: `/healthz`, `/readyz`, sign-in, the API docs, and zones with their published "
        "fire-risk levels (read-only reference data, under `/api/v1/zones`).",
        "",
        "Public warnings (`/api/v1/cap/…`: the Atom feed, the JSON index and each CAP message) are public too, and "
        "hold only what an authorised person published as a warning (`warning.issue`; docs/warnings.md). "
        "Incidents and reports are not public data: no report reaches the public feed.",
        "",
    ]
    return "\n".join(lines)


_LOCATES = {
    Scope.SELF: "never",
    Scope.OWN: "it holds the patrol, or (while the patrol is live) executes it",
    Scope.TREE: "it or an organisation below it holds the patrol or (while live) executes it",
    Scope.REGION: "the patrol's zone is in its region, or an organisation of its region holds it or (while live) "
                  "executes it",
    Scope.ALL: "always",
}


def _location_markdown() -> list[str]:
    """The location rules (``patrols.visibility.LOCATION_RULES``) and what each role's scope locates."""
    from iolaos.patrols.visibility import LOCATION_RULES  # imported here: patrols builds on this table

    lines = ["", "## Location", "", "Decided by `src/iolaos/patrols/visibility.py` for REST, live updates and "
             "replay alike.", ""]
    lines += [f"{n}. {rule}" for n, rule in enumerate(LOCATION_RULES, start=1)]
    lines += ["", "| role | `volunteer.location` | locates a patrol it may see when the caller's organisation… |",
              "|---|---|---|"]
    for role, grants in PERMISSIONS.items():
        scope = grants.get("volunteer.location")
        lines.append(f"| {role} | {scope or '–'} | {_LOCATES[scope] if scope else 'never'} |")
    return lines
