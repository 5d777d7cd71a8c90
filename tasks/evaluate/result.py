"""The outcome of evaluating one target × county series (one row of the status frame, minus the keys)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

STATUS_COLUMNS: tuple[str, ...] = (
    "target_id", "county_code", "as_of", "period", "value", "target_value", "completion_pct",
    "expected_pct", "gap_points", "light", "projection", "projection_low", "projection_high", "will_meet",
    "method", "detail_zh",
)


@dataclass(frozen=True)
class Evaluation:
    """What one evaluator concluded; percentages and projections are Decimal rounded to 2 places.

    gap_points is percentage points behind schedule (positive = behind), as fact_target_status stores it;
    light is green / yellow / red / grey (grey = no data or no baseline); method is linear / seasonal /
    level / budget / milestone / increase; detail_zh is the one-paragraph explanation with the numbers.
    """

    light: str
    method: str
    detail_zh: str
    period: str | None = None
    value: Decimal | None = None
    target_value: Decimal | None = None
    completion_pct: Decimal | None = None
    expected_pct: Decimal | None = None
    gap_points: Decimal | None = None
    projection: Decimal | None = None
    projection_low: Decimal | None = None
    projection_high: Decimal | None = None
    will_meet: bool | None = None
