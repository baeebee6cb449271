"""The patrol's state machine: every transition of a patrol or an assignment, in one table.

Each row says what it moves (a patrol or one crew member's assignment), from which statuses to which, who may
make it (the permission the caller's role must hold, and for leaders whose organisation) and in which time window
relative to the shift. ``patrols/service.py`` is the only code that changes a patrol's status or crew and it asks
this table before each change; docs/patrols.md is rendered from it (tests/patrols/test_docs.py keeps them equal).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from iolaos.config import Settings
from iolaos.errors import Conflict
from iolaos.kit.time import as_utc

PATROL_STATUSES = ("planned", "staffed", "active", "completed", "cancelled", "expired")
ASSIGNMENT_STATUSES = ("proposed", "accepted", "declined", "checked_in", "checked_out", "cancelled", "expired")
HOLDING = ("proposed", "accepted", "checked_in")
"""Assignments that hold a crew place."""
CREW_NOW = ("accepted", "checked_in")
"""Assignments that make someone part of the crew as it is now (a proposal does not)."""
OPEN = ("planned", "staffed")
"""Patrols not yet out: crews can still change."""

# Who may make a transition.
OPERATOR = "operator"
"""A leader of the executing organisation (or of the crew member concerned, for check-in and check-out), or a
dispatcher whose patrol.operate scope covers the zone; decided by the crew as it is now."""
VOLUNTEER_LEADER = "volunteer_leader"
"""A leader (or coordinator) of the volunteer's own organisation, within assignment.respond."""
DISPATCHER = "dispatcher"
"""A role holding the permission over the patrol's zone (dispatchers, officers, civil protection)."""
SYSTEM = "system"
"""The service itself: the planner, or the expiry sweep."""

WHO_TEXT = {
    OPERATOR: "leader of the executing organisation, or a dispatcher over the zone",
    VOLUNTEER_LEADER: "leader of the volunteer's organisation",
    DISPATCHER: "dispatcher over the zone",
    SYSTEM: "the service (planner or expiry sweep)",
}


@dataclass(frozen=True)
class Bound:
    """A moment relative to the shift: ``anchor`` (shift_start or shift_end) minus the minutes a setting holds."""

    anchor: str
    setting: str | None = None

    def at(self, start: datetime, end: datetime, settings: Settings) -> datetime:
        base = as_utc(start if self.anchor == "shift_start" else end)
        minutes = float(getattr(settings, self.setting)) if self.setting else 0.0
        return base - timedelta(minutes=minutes)

    def text(self, settings: Settings) -> str:
        label = self.anchor.replace("_", " ")
        if not self.setting:
            return label
        return f"{label} − {getattr(settings, self.setting):g} min (IOLAOS_{self.setting.upper()})"


@dataclass(frozen=True)
class Transition:
    """One move of the state machine."""

    name: str
    subject: str  # "patrol" or "assignment"
    sources: tuple[str, ...]
    target: str
    who: str
    permission: str | None
    action: str  # the journal action it records
    opens: Bound | None = None
    closes: Bound | None = None
    overridable: tuple[str, ...] = ()
    """Rules a dispatcher may override with a reason (journalled with the rule's name)."""

    def window_text(self, settings: Settings) -> str:
        if self.opens and self.closes:
            return f"from {self.opens.text(settings)} until {self.closes.text(settings)}"
        if self.opens:
            return f"from {self.opens.text(settings)}"
        if self.closes:
            return f"until {self.closes.text(settings)}"
        return "any time"


_START_LEAD = Bound("shift_start", "patrol_start_lead_minutes")
_CHECKIN_LEAD = Bound("shift_start", "patrol_checkin_lead_minutes")
_END = Bound("shift_end")

TRANSITIONS: dict[str, Transition] = {t.name: t for t in (
    Transition("propose", "assignment", ("none",), "proposed", SYSTEM, "plan.write", "patrol.plan", closes=_END),
    Transition("assign", "assignment", ("none", "declined", "cancelled", "expired"), "accepted", DISPATCHER,
               "assignment.override", "assignment.override", closes=_END,
               overridable=("availability", "distance", "area")),
    Transition("accept", "assignment", ("proposed",), "accepted", VOLUNTEER_LEADER, "assignment.respond",
               "assignment.accept", closes=_END),
    Transition("decline", "assignment", ("proposed", "accepted"), "declined", VOLUNTEER_LEADER,
               "assignment.respond", "assignment.decline", closes=_END),
    Transition("remove", "assignment", ("proposed", "accepted"), "cancelled", DISPATCHER, "assignment.override",
               "assignment.remove", closes=_END),
    Transition("check_in", "assignment", ("accepted",), "checked_in", OPERATOR, "patrol.operate",
               "patrol.check_in", opens=_CHECKIN_LEAD, closes=_END),
    Transition("check_out", "assignment", ("checked_in",), "checked_out", OPERATOR, "patrol.operate",
               "patrol.check_out"),
    Transition("withdraw", "assignment", ("proposed",), "expired", SYSTEM, "plan.write", "assignment.withdraw"),
    Transition("expire_assignment", "assignment", ("proposed", "accepted"), "expired", SYSTEM, None,
               "assignment.expire", opens=_END),
    Transition("staff", "patrol", ("planned",), "staffed", SYSTEM, None, "assignment.accept"),
    Transition("unstaff", "patrol", ("staffed",), "planned", SYSTEM, None, "assignment.decline"),
    Transition("start", "patrol", ("planned", "staffed"), "active", OPERATOR, "patrol.operate", "patrol.start",
               opens=_START_LEAD, closes=_END, overridable=("minimum_crew", "required_skills")),
    Transition("field_status", "patrol", ("active",), "active", OPERATOR, "patrol.operate", "patrol.field_status"),
    Transition("end", "patrol", ("active",), "completed", OPERATOR, "patrol.operate", "patrol.end"),
    Transition("cancel", "patrol", ("planned", "staffed"), "cancelled", DISPATCHER, "plan.write", "patrol.cancel"),
    Transition("replan_cancel", "patrol", ("planned", "staffed"), "cancelled", SYSTEM, "plan.write",
               "patrol.cancel", closes=_END),
    Transition("upgrade", "patrol", ("planned", "staffed"), "planned", SYSTEM, "plan.write", "patrol.upgrade",
               closes=_END),
    Transition("recategorise", "patrol", ("planned", "staffed"), "planned", SYSTEM, "plan.write",
               "patrol.recategorise", closes=_END),
    Transition("release", "assignment", ("checked_in",), "expired", SYSTEM, None, "patrol.expire", opens=_END),
    Transition("expire", "patrol", ("planned", "staffed"), "expired", SYSTEM, None, "patrol.expire", opens=_END),
)}


def allowed_now(subject: str, status: str) -> list[str]:
    """Names of the transitions that may start from ``status`` (for 409 answers and the pages)."""
    return [t.name for t in TRANSITIONS.values() if t.subject == subject and status in t.sources
            and t.who != SYSTEM]


def expect(name: str, status: str) -> Transition:
    """The transition, if ``status`` is one it may start from; 409 ``illegal_transition`` otherwise."""
    move = TRANSITIONS[name]
    if status not in move.sources:
        raise Conflict({"message": f"cannot {name.replace('_', ' ')} from {status}", "status": status,
                        "allowed": allowed_now(move.subject, status)}, code="illegal_transition")
    return move


def in_window(name: str, *, start: datetime, end: datetime, now: datetime, settings: Settings) -> None:
    """409 ``outside_window`` when ``now`` is outside the transition's window relative to the shift."""
    move = TRANSITIONS[name]
    opens = move.opens.at(start, end, settings) if move.opens else None
    closes = move.closes.at(start, end, settings) if move.closes else None
    if (opens is not None and now < opens) or (closes is not None and now >= closes):
        raise Conflict({"message": f"{name.replace('_', ' ')} is allowed {move.window_text(settings)}",
                        "opens": opens.isoformat() if opens else None,
                        "closes": closes.isoformat() if closes else None, "now": now.isoformat()},
                       code="outside_window")


def render_markdown(settings: Settings) -> str:
    """The table as docs/patrols.md shows it."""
    rows = ["| transition | moves | from | to | who | permission | window | journal action | overridable |",
            "|---|---|---|---|---|---|---|---|---|"]
    for t in TRANSITIONS.values():
        rows.append(f"| `{t.name}` | {t.subject} | {', '.join(t.sources)} | {t.target} | {WHO_TEXT[t.who]} | "
                    f"{t.permission or '–'} | {t.window_text(settings)} | `{t.action}` | "
                    f"{', '.join(t.overridable) or '–'} |")
    return "\n".join(rows) + "\n"


BEGIN, END = "<!-- generated from src/iolaos/patrols/machine.py: begin -->", "<!-- generated: end -->"


def render_diagrams() -> str:
    """Mermaid state diagrams of the patrol and of one assignment."""
    out = []
    for subject in ("patrol", "assignment"):
        lines = ["```mermaid", "stateDiagram-v2"]
        for t in TRANSITIONS.values():
            if t.subject != subject:
                continue
            for source in t.sources:
                start = "[*]" if source == "none" else source
                if start != t.target:
                    lines.append(f"    {start} --> {t.target}: {t.name}")
        out.append("\n".join([*lines, "```"]))
    return "\n\n".join(out) + "\n"


def render_section(settings: Settings) -> str:
    """The generated part of docs/patrols.md (between its markers)."""
    return f"{BEGIN}\n\n{render_diagrams()}\n{render_markdown(settings)}\n{END}"


def rewrite_doc(text: str, settings: Settings) -> str:
    """``text`` with its generated section replaced by the table as the code has it now."""
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return head + render_section(settings) + tail
