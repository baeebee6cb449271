"""Wire shapes of coverage policy, plans, patrols, assignments and coverage reports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from iolaos.i18n import coded
from iolaos.kit.strict import Day
from iolaos.patrols.models import CAPABILITIES

SkillCode = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z0-9_]{2,40}$")]
Shift = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):(00|15|30|45)-([01]\d|2[0-3]):(00|15|30|45)$")]
Capability = Literal[CAPABILITIES]  # type: ignore[valid-type]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]
ZoneCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
# Reasons the planner wrote are stored as catalogue keys; they are shown in the request's language.
ShownReason = Annotated[str, AfterValidator(lambda text: coded.render(text) or text)]


class RuleIn(BaseModel):
    """What one risk category requires in each zone."""

    model_config = ConfigDict(extra="forbid")

    category: int = Field(ge=1, le=5)
    patrols_per_zone: int = Field(ge=0, le=20, description="patrols per zone in each shift")
    crew_size: int = Field(ge=1, le=20)
    required_skills: list[SkillCode] = Field(default_factory=list, max_length=20,
                                             description="one crew place per entry needs that skill")
    capability: Capability = "prevention"
    shifts: list[Shift] = Field(default_factory=list, max_length=12, description="local times, e.g. 06:00-10:00")


class RuleOut(RuleIn):
    """A rule in force and where it comes from (default, national or region)."""

    origin: str
    updated_at: datetime | None


class PolicyIn(BaseModel):
    """New versions of some categories' rules; region omitted: the caller's region (or national)."""

    model_config = ConfigDict(extra="forbid")

    region_code: ZoneCode | None = None
    rules: list[RuleIn] = Field(min_length=1, max_length=5)


class PolicyOut(BaseModel):
    """The policy in force for a region (or nationally)."""

    region_code: str | None
    rules: list[RuleOut]


class PlanIn(BaseModel):
    """Commit the plan of a day (for a region within your scope)."""

    model_config = ConfigDict(extra="forbid")

    date: Day
    region_code: ZoneCode | None = None
    fingerprint: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = Field(
        default=None, description="from the preview: refuse when the inputs changed since")


class CrewOut(BaseModel):
    """A volunteer on a patrol (proposed or later)."""

    assignment_id: int | None = None
    volunteer_id: int
    volunteer_name: str | None
    organisation_id: int
    organisation_name: str | None = Field(default=None, description="in the request's language")
    status: str
    slot_skill: str | None = None
    travel_km: float | None = None
    reasons: list[ShownReason]
    decline_reason: str | None = None


class OpenPlaceOut(BaseModel):
    """A crew place nobody could fill, and why."""

    skill: str | None
    reason: ShownReason


class PatrolOut(BaseModel):
    """A patrol with its crew and open places."""

    key: str
    patrol_id: int | None
    zone_code: str
    zone_name_el: str
    zone_name_en: str
    risk_category: int | None
    colour: str | None
    shift_start: datetime
    shift_end: datetime
    capability: str
    crew_size: int
    required_skills: list[str]
    status: str
    field_status: str | None = Field(default=None, description="the crew's situation once out: on_patrol, "
                                     "returning, needs_help (none before start; null in a preview)")
    executing_organisation_id: int | None
    executing_organisation_name: str | None = Field(default=None, description="in the request's language")
    plan_key: str | None = None
    crew: list[CrewOut]
    open_places: list[OpenPlaceOut]


class ObjectiveOut(BaseModel):
    """The plan's objective: coverage first, then travel, fairness and cohesion."""

    coverage: int = Field(description="risk-weighted filled places")
    filled: int
    places: int
    travel_km: float
    fairness: float
    cohesion: float
    secondary: float


ChangeKind = Literal["upgrade", "recategorise", "cancel", "keep_surplus"]


class PlanChangeOut(BaseModel):
    """What a (re-)plan does to a patrol already planned, and why."""

    kind: ChangeKind
    patrol_id: int
    zone_code: str
    shift_start: datetime
    risk_category: int | None
    reason: str


class PlanOut(BaseModel):
    """A plan: previewed (nothing written) or committed."""

    date: date
    region_code: str | None
    committed: bool
    plan_key: str | None
    fingerprint: str
    objective: ObjectiveOut
    patrols: list[PatrolOut]
    changes: list[PlanChangeOut] = Field(default_factory=list, description="upgrades, new categories and surplus "
                                         "patrols: unstaffed ones are cancelled, staffed ones kept")
    seconds: float


class DecisionIn(BaseModel):
    """Decline or remove, with a reason."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason


class OverrideIn(BaseModel):
    """A dispatcher puts a volunteer on a patrol directly."""

    model_config = ConfigDict(extra="forbid")

    volunteer_id: int = Field(ge=1, le=2**31 - 1)
    reason: Reason
    override: list[Literal["availability", "distance", "area"]] = Field(
        default_factory=list, max_length=3, description="rules the dispatcher overrides, named in the journal with "
                                                        "the reason (docs/patrols.md); skills and rest never")


class CoverageRow(BaseModel):
    """Required vs staffed crew places of one zone on one day."""

    date: date
    zone_code: str
    zone_name_el: str
    region_code: str | None
    category: int | None
    required: int
    planned: int = Field(description="places on patrols (any status but cancelled)")
    proposed: int
    staffed: int = Field(description="accepted or checked-in places")
    ratio: float
    inherited: bool | None = Field(default=None, description="the category is an ancestor zone's (null: none)")
    need_hours: float = Field(default=0.0, description="person-hours the policy requires for the category")
    planned_hours: float = Field(default=0.0, description="person-hours of places on patrols (not cancelled)")
    staffed_hours: float = Field(default=0.0, description="person-hours of accepted or checked-in/out places")
    patrolled_hours: float = Field(default=0.0, description="person-hours between check-in and check-out")
    weighted_shortfall: float = Field(default=0.0, description="risk weight × need hours not staffed")


class ZoneTotal(BaseModel):
    """One zone's coverage report rows summed over a period."""

    start: date
    end: date
    zone_code: str
    zone_name_el: str
    region_code: str | None
    category: int | None = Field(description="the highest category of the period")
    days: int = Field(description="zone-days with crew places required")
    required: int
    planned: int
    proposed: int
    staffed: int
    ratio: float
    need_hours: float
    staffed_hours: float
    weighted_shortfall: float


class FlaggedZone(BaseModel):
    """A zone under-covered on a high-risk day."""

    date: date
    zone_code: str
    zone_name_el: str
    category: int
    required: int
    staffed: int
    ratio: float


class EquityOut(BaseModel):
    """How evenly staffed/required is spread across municipalities."""

    start: date
    end: date
    region_code: str | None
    municipalities: int
    mean_ratio: float
    gini: float = Field(description="0: every municipality equally covered; 1: all coverage in one")
    distribution: list[ZoneTotal] = Field(description="per zone, its coverage report rows summed over the period")
    flagged: list[FlaggedZone]
