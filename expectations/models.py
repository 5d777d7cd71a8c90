"""Typed models of the target catalog.

The catalog is the plan as data: every measurable target, the departments that own them, the counties they
are broken down to, the units values come in and the reporting calendar. YAML files under a catalog directory
are parsed once, strictly (unknown keys are errors), into these models; the rest of minsheng takes models,
never dicts.

Fields added for this plan beyond the first sketch: `Department.county` (the county a county government
answers for), `CanonicalUnit.to_base` (exact conversion between canonical units of one dimension, e.g. ‰ → %)
and `Target.source_text` (the plan's words a target is read from, verbatim, so every figure can be traced).
`Target.days_budget` marks a floor on a share of days (优良天数比例 ≥ 97.2%) whose complement is also tracked
as an allowance of non-good days used up over the year (about 10 of 365): the plan's own target, read twice.
A milestone (comparator done) is reported as 1 when done and 0 when not yet done, in unit 项 (item).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal, Inexact, localcontext
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

ASCII_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
SLUG = re.compile(r"^[a-z][a-z0-9_]*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class FieldProblem(ValueError):
    """A cross-field inconsistency in one record; `field` names the field to fix (its line is reported)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class Comparator(StrEnum):
    """How an observed value is judged against the target value."""

    GE = ">="  # 达到/以上/不低于, and a bare figure such as 建设30个 (a floor to reach)
    GT = ">"  # 超过
    LE = "<="  # 控制在/以内/以下/不超过
    LT = "<"  # 小于
    APPROX = "~"  # 左右/稳定在: within ±tolerance of value
    DONE = "done"  # milestone: reported done or not
    INCREASE = "increase"  # 较上年提高: above the previous year's value


class Direction(StrEnum):
    """Which way is better; never defaulted."""

    HIGHER = "higher_is_better"
    LOWER = "lower_is_better"
    BAND = "closer_is_better"
    DONE = "done_is_better"


class Kind(StrEnum):
    CUMULATIVE = "cumulative"  # year-to-date count that only grows (jobs created, projects built, money)
    LEVEL = "level"  # a rate, ratio, concentration or stock observed at a point (unemployment rate, coverage)
    BUDGET = "budget"  # an allowance that is used up over the year (non-good air days allowed by 97.2%)
    MILESTONE = "milestone"  # a deliverable that is done or not done by a deadline


class Frequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ANNUAL = "annual"


class Scope(StrEnum):
    PREFECTURE = "prefecture"  # one value for the whole prefecture (全州)
    COUNTIES = "counties"  # one value per county listed in `counties` (or all counties)


class CountyKind(StrEnum):
    PREFECTURE = "prefecture"
    COUNTY = "county"  # a county or county-level city
    ZONE = "zone"  # a development zone such as 楚雄高新区


class Program(Strict):
    """One of the plan's 8 livelihood projects (民生工程) or 10 practical actions (惠民实事)."""

    id: str
    name_zh: str
    name_en: str
    ref: str = Field(description="section of the plan, e.g. 一(一)3")
    group: str = Field(description="projects (8项民生工程) or actions (10件惠民实事)")

    @field_validator("id")
    @classmethod
    def _ascii(cls, v: str) -> str:
        if not SLUG.match(v):
            raise ValueError(f"program id {v!r} must be lowercase ascii (a-z, 0-9, _)")
        return v


class Department(Strict):
    """A lead department or responsible unit; `slug` is also its drop folder name under data/raw/."""

    slug: str
    name_zh: str
    name_en: str
    aliases: list[str] = []
    kind: str = Field("department", description="department, group, company or county_government")
    due_workday: int | None = Field(None, ge=1, le=23, description="overrides the calendar's default due day")
    county: str | None = Field(None, pattern=r"^\d{6}$", description="code of a county_government's county")

    @field_validator("slug")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG.match(v):
            raise ValueError(f"department slug {v!r} must be lowercase ascii (a-z, 0-9, _)")
        return v


class County(Strict):
    """A county-level unit (or the prefecture itself) with its administrative code and aliases."""

    code: str = Field(pattern=r"^\d{6}$")
    name_zh: str
    name_en: str
    kind: CountyKind
    aliases: list[str] = []
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    former_names: list[str] = Field([], description="names used before a renaming (禄丰县 → 禄丰市 in 2021)")


class Unit(Strict):
    """A unit as written in plans and drops, mapped to a canonical unit by an exact factor."""

    symbol: str = Field(description="as written, e.g. 万人, 亿元, %, ‰, /10万, 微克/立方米")
    canonical: str = Field(description="canonical unit id, e.g. person, yuan, percent, per_100k")
    factor: Decimal = Field(description="canonical value = written value × factor")
    aliases: list[str] = []


class CanonicalUnit(Strict):
    id: str
    name_zh: str
    name_en: str
    dimension: str = Field(description="units convert only within one dimension")
    to_base: Decimal | None = Field(
        None, gt=0, description="value in the dimension's base unit = value × to_base (None: the only "
        "unit of its dimension); lets 5‰ be compared with a % target exactly")


class Bounds(Strict):
    """Data-quality bounds in canonical units: a value outside them is an error, not a miss."""

    min: Decimal | None = None
    max: Decimal | None = None


class Target(Strict):
    """One measurable target of the plan."""

    id: str = Field(description="stable ascii id, <program>.<name>")
    name_zh: str = Field(description="the plan's own wording")
    aliases: list[str] = []
    name_en: str
    program: str
    ref: str = Field(description="the plan's section reference, e.g. 一(一)3(1)")
    lead_departments: list[str] = Field(min_length=1)
    responsible_units: list[str] = []
    responsible_groups: list[str] = Field([], description="leading groups / joint meetings, as text")
    counties_responsible: bool = Field(False, description="10县市人民政府 are responsible units")
    unit_written: str = Field(description="unit as the plan writes it, e.g. 万人")
    unit: str = Field(description="canonical unit id")
    comparator: Comparator
    value: Decimal | None = Field(None, description="target in canonical units (None for done/increase)")
    tolerance: Decimal | None = Field(None, description="± band for comparator ~ (左右/稳定在)")
    direction: Direction
    kind: Kind
    scope: Scope = Scope.PREFECTURE
    counties: list[str] = Field([], description="county codes covered when scope is counties; [] = all")
    county_values: dict[str, Decimal] = Field({}, description="per-county targets where the plan gives them")
    additive: bool = Field(False, description="county parts sum to the prefecture total (counts, money)")
    frequency: Frequency = Frequency.MONTHLY
    deadline: dt.date | None = Field(None, description="milestone deadline; default end of the plan year")
    bounds: Bounds = Bounds()
    source_text: str = Field("", description="the plan's words this target is read from, verbatim")
    notes: str = ""
    days_budget: bool = Field(
        False, description="a level floor on a share of days (percent, >= or >): its complement is also "
        "tracked as the year's allowance of non-qualifying days (97.2% of 365 days leaves 10)")

    @property
    def lead_department(self) -> str:
        return self.lead_departments[0]

    @field_validator("id")
    @classmethod
    def _ascii(cls, v: str) -> str:
        if not ASCII_ID.match(v):
            raise ValueError(f"target id {v!r} must be dotted lowercase ascii, e.g. employment.new_jobs")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Target:
        needs_value = self.comparator not in {Comparator.DONE, Comparator.INCREASE}
        if needs_value and self.value is None and not self.county_values:
            raise FieldProblem("value", f"comparator {self.comparator.value} needs a value or county_values")
        if not needs_value and (self.value is not None or self.county_values):
            raise FieldProblem("value", f"comparator {self.comparator.value} takes no value")
        if self.comparator == Comparator.APPROX and (self.tolerance is None or self.tolerance <= 0):
            raise FieldProblem("tolerance", "comparator ~ (左右/稳定在) needs an explicit positive tolerance")
        if self.comparator != Comparator.APPROX and self.tolerance is not None:
            raise FieldProblem("tolerance", "a tolerance is only meaningful with comparator ~")
        if self.comparator == Comparator.DONE and self.kind != Kind.MILESTONE:
            raise FieldProblem("kind", "comparator done is only for kind milestone")
        if self.kind == Kind.MILESTONE and self.comparator != Comparator.DONE:
            raise FieldProblem("comparator", "kind milestone needs comparator done")
        expected = {
            Comparator.GE: Direction.HIGHER,
            Comparator.GT: Direction.HIGHER,
            Comparator.INCREASE: Direction.HIGHER,
            Comparator.LE: Direction.LOWER,
            Comparator.LT: Direction.LOWER,
            Comparator.APPROX: Direction.BAND,
            Comparator.DONE: Direction.DONE,
        }[self.comparator]
        if self.kind != Kind.BUDGET and self.direction != expected:
            raise FieldProblem("direction", f"direction {self.direction.value} contradicts comparator "
                               f"{self.comparator.value} (expected {expected.value})")
        lo, hi = self.bounds.min, self.bounds.max
        if lo is not None and hi is not None and lo > hi:
            raise FieldProblem("bounds", f"bounds min {lo} exceeds max {hi}")
        for field, values in (("value", [self.value] if self.value is not None else []),
                              ("county_values", list(self.county_values.values()))):
            for v in values:
                if (lo is not None and v < lo) or (hi is not None and v > hi):
                    raise FieldProblem(field, f"target value {v} lies outside the bounds [{lo}, {hi}]")
        if self.county_values and self.scope != Scope.COUNTIES:
            raise FieldProblem("county_values", "county_values need scope: counties")
        if self.days_budget and not (self.kind == Kind.LEVEL and self.unit == "percent"
                                     and self.comparator in {Comparator.GE, Comparator.GT}):
            raise FieldProblem("days_budget", "days_budget needs kind level, unit percent and comparator >= or > "
                               "(a floor on a share of days, e.g. 优良天数比例 ≥ 97.2%)")
        if self.kind == Kind.MILESTONE and self.deadline is None:
            raise FieldProblem("deadline", "a milestone needs a deadline (the year's end if none given)")
        return self

    def target_for(self, county_code: str | None) -> Decimal | None:
        """The target value that applies to a county (its own value where the plan gives one)."""
        if county_code is not None and county_code in self.county_values:
            return self.county_values[county_code]
        return self.value


class Calendar(Strict):
    """When monthly data is due: working day N of the following month (Chinese working days)."""

    year: int
    frequency: Frequency = Frequency.MONTHLY
    due_workday: int = Field(5, ge=1, le=23)
    first_period: str = Field("2021-03", pattern=r"^\d{4}-\d{2}$", description="first month reported")
    last_period: str = Field("2021-12", pattern=r"^\d{4}-\d{2}$")
    timezone: str = "Asia/Shanghai"
    supervision_office: str = Field(description="slug of the office that receives escalations (督查室)")
    data_team: str = Field(description="slug of the team that receives data-quality alerts")


class Catalog(Strict):
    """The whole plan as typed data."""

    plan_zh: str
    plan_en: str
    year: int
    prefecture_code: str
    programs: list[Program]
    departments: list[Department]
    counties: list[County]
    canonical_units: list[CanonicalUnit]
    units: list[Unit]
    calendar: Calendar
    targets: list[Target]

    _by_id: dict[str, Target] = PrivateAttr(default_factory=dict)
    _by_name: dict[str, Target] = PrivateAttr(default_factory=dict)
    _departments_by_slug: dict[str, Department] = PrivateAttr(default_factory=dict)
    _counties_by_code: dict[str, County] = PrivateAttr(default_factory=dict)
    _units_by_symbol: dict[str, Unit] = PrivateAttr(default_factory=dict)
    _canonical_by_id: dict[str, CanonicalUnit] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: object, /) -> None:
        # Indexes built once: the catalog is frozen, and lookups run for every row of every drop.
        self._by_id = {t.id: t for t in self.targets}
        # New dicts, never filled in place: a model_copy shares the original's private attributes.
        # The first target wins a name clash (which the loader's integrity check rejects anyway).
        self._by_name = {name: t for t in reversed(self.targets) for name in (t.id, t.name_zh, *t.aliases)}
        self._departments_by_slug = {d.slug: d for d in self.departments}
        self._counties_by_code = {c.code: c for c in self.counties}
        self._units_by_symbol = {a: u for u in reversed(self.units) for a in (u.symbol, *u.aliases)}
        self._canonical_by_id = {u.id: u for u in self.canonical_units}

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Catalog:
        # The indexes above describe the old lists: rebuild them for the copy (update= may replace targets).
        copy = super().model_copy(update=update, deep=deep)
        copy.model_post_init(None)
        return copy

    def target(self, target_id: str) -> Target:
        return self._by_id[target_id]

    def find_target(self, text: str) -> Target | None:
        """The target whose id, name_zh or alias is exactly `text` (after trimming), or None."""
        return self._by_name.get(text.strip())

    def department(self, slug: str) -> Department:
        return self._departments_by_slug[slug]

    def county(self, code: str) -> County:
        return self._counties_by_code[code]

    def unit(self, written: str) -> Unit | None:
        """The unit written as `written` (its symbol or an alias), or None when units.yaml lacks it."""
        return self._units_by_symbol.get(written.strip())

    def conversion_factor(self, written: str, canonical: str) -> Decimal | None:
        """Exact factor turning a value written in `written` into unit `canonical`; None if impossible.

        `written` may be a symbol, an alias or a canonical id; conversion across canonical units of one
        dimension goes through `to_base` (5‰ → 0.5 in percent, 16/10万 → 0.016 in percent).
        """
        unit = self.unit(written)
        source_id, factor = (unit.canonical, unit.factor) if unit else (written.strip(), Decimal(1))
        source, target = self._canonical_by_id.get(source_id), self._canonical_by_id.get(canonical)
        if source is None or target is None or source.dimension != target.dimension:
            return None
        if source.id == target.id:
            return factor
        if source.to_base is None or target.to_base is None:
            return None
        with localcontext() as ctx:
            ctx.traps[Inexact] = True  # 1 亩 in m² is 666.66…: refuse rather than round a quantity
            try:
                return factor * source.to_base / target.to_base
            except Inexact:
                return None

    def targets_of(self, slug: str) -> list[Target]:
        """Targets a department may submit: those it leads or is a responsible unit of."""
        return [t for t in self.targets if slug in t.lead_departments or slug in t.responsible_units]

    def lead_targets(self, slug: str) -> list[Target]:
        return [t for t in self.targets if slug in t.lead_departments]

    @property
    def county_codes(self) -> list[str]:
        """Codes of the county-level units (not the prefecture, not zones)."""
        return [c.code for c in self.counties if c.kind == CountyKind.COUNTY]

    @property
    def lead_department_slugs(self) -> list[str]:
        seen: dict[str, None] = {}
        for t in self.targets:
            for slug in t.lead_departments:
                seen.setdefault(slug, None)
        return list(seen)
