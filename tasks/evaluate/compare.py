"""Judging a value against a target value with the plan's comparator."""

from __future__ import annotations

from decimal import Decimal

from expectations.models import Catalog, Comparator, Scope, Target

COMPARATOR_ZH = {
    Comparator.GE: "不低于",
    Comparator.GT: "高于",
    Comparator.LE: "不高于",
    Comparator.LT: "低于",
    Comparator.APPROX: "稳定在",
    Comparator.INCREASE: "高于上年",
    Comparator.DONE: "完成",
}


def complies(value: Decimal, comparator: Comparator, target: Decimal,
             tolerance: Decimal | None = None) -> bool:
    """Whether `value` meets `target` under `comparator` (~: within ± tolerance; increase: > target)."""
    if comparator == Comparator.GE:
        return value >= target
    if comparator in (Comparator.GT, Comparator.INCREASE):
        return value > target
    if comparator == Comparator.LE:
        return value <= target
    if comparator == Comparator.LT:
        return value < target
    if comparator == Comparator.APPROX:
        return abs(value - target) <= (tolerance or Decimal(0))
    raise ValueError(f"comparator {comparator.value} has no numeric test (a milestone is done or not)")


def lower_is_better(comparator: Comparator) -> bool:
    return comparator in (Comparator.LE, Comparator.LT)


def series_target_value(target: Target, code: str, catalog: Catalog) -> Decimal | None:
    """The value one target × county series is judged against: the county's own value where the plan gives
    one, the target's value for the prefecture or a county-scope target, and none for a county part of an
    additive prefecture total (the plan does not split it)."""
    if code in target.county_values or code == catalog.prefecture_code or target.scope == Scope.COUNTIES:
        return target.target_for(code)
    return None if target.additive else target.value
