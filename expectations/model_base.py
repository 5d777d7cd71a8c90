"""Shared pieces of the catalog models: the strict base model, id patterns and the enumerations.

Split from expectations.models (which re-exports everything here) so target and catalog models stay small.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

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
