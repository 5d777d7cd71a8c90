"""The model of one measurable target and its data-quality bounds (re-exported by expectations.models)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import Field, field_validator, model_validator

from expectations.model_base import ASCII_ID, Comparator, Direction, FieldProblem, Frequency, Kind, Scope, Strict


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
