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
from collections.abc import Mapping
from decimal import Decimal, Inexact, localcontext
from typing import Any

from pydantic import Field, PrivateAttr, field_validator

from expectations.model_base import (
    ASCII_ID,
    SLUG,
    Comparator,
    CountyKind,
    Direction,
    FieldProblem,
    Frequency,
    Kind,
    Scope,
    Strict,
)
from expectations.target_model import Bounds, Target

__all__ = ["ASCII_ID", "SLUG", "Bounds", "Calendar", "CanonicalUnit", "Catalog", "Comparator", "County", "CountyKind",
           "Department", "Direction", "FieldProblem", "Frequency", "Kind", "Program", "Scope", "Strict", "Target",
           "Unit"]


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
