"""Multi-year progress: the Statistics Canada / Open SDG progress measure (sdg-build ProgressMeasure.py).

With a target: R = s·d·CAGR(base→current) / |CAGR(base→target)|; statuses target_achieved, then
R ≥ 0.95 substantial, ≥ 0.60 moderate, ≥ 0 limited, < 0 deterioration. Without a target the observed growth
g = s·d·CAGR is compared with 1.5% / 0.5% / 0, reduced near a natural limit. d = +1 when higher is better;
s = −1 when the base value is negative. Unlike Open SDG, the direction is never defaulted.
"""

from __future__ import annotations

from dataclasses import dataclass

TARGET_ACHIEVED = "target_achieved"
SUBSTANTIAL = "substantial_progress"
MODERATE = "moderate_progress"
LIMITED = "limited_progress"
DETERIORATION = "deterioration"
NOT_AVAILABLE = "not_available"

WITH_TARGET_THRESHOLDS = (0.95, 0.60, 0.0)
NO_TARGET_THRESHOLDS = (0.015, 0.005, 0.0)


def cagr(current: float, base: float, current_year: float, base_year: float) -> float:
    """Compound annual growth rate from base to current."""
    return float((current / base) ** (1 / (current_year - base_year)) - 1)


def limit_coefficient(base: float, limit: float) -> float:
    """C that shrinks the no-target thresholds as the base value approaches a natural limit L."""
    base, limit = abs(base), abs(limit)
    if base >= 2 * limit:
        return 1.0
    if base <= limit:
        return float(1 - (base / limit) ** 4.44)
    return float(1 - ((2 * limit - base) / limit) ** 4.44)


@dataclass(frozen=True)
class ProgressMeasure:
    """One series' result, with the components Open SDG writes to indicator_calculation_components.yml."""

    progress_value: float | None
    status: str
    score: float | None
    target_achieved: bool
    coefficient: float = 1.0


def progress_measure(base_value: float, base_year: int, current_value: float, current_year: int, *,
                     higher_is_better: bool, target: float | None = None, target_year: int | None = None,
                     limit: float | None = None) -> ProgressMeasure:
    """Statistics Canada progress measure of one series.

    Oracle (Canadian CIF 1-1-1): 14.5 (2015) → 10.4 (2023) toward 7.25 (2030), lower is better → R = 0.90109,
    moderate progress, score 2.15070. A zero base or target becomes 0.001, as in sdg-build; base and current
    of opposite signs, or fewer than two years, give not_available.
    """
    direction = 1 if higher_is_better else -1
    base = 0.001 if base_value == 0 else base_value
    achieved = target is not None and (current_value - target) * direction >= 0
    if (base > 0 > current_value) or (base < 0 < current_value) or current_year - base_year < 1:
        status = TARGET_ACHIEVED if achieved else NOT_AVAILABLE
        return ProgressMeasure(None, status, 5.0 if achieved else None, achieved)
    sign = -1 if base < 0 else 1
    observed = cagr(current_value, base, current_year, base_year)
    if target is not None:
        if target_year is None:
            raise ValueError("a target needs its target_year")
        goal = 0.001 if target == 0 else target
        required = cagr(goal, base, target_year, base_year)
        value = sign * direction * observed / abs(required)
        status = TARGET_ACHIEVED if achieved else _status(value, WITH_TARGET_THRESHOLDS)
        return ProgressMeasure(value, status, 5.0 if achieved else _score_with_target(value), achieved)
    coeff = limit_coefficient(base, limit) if limit is not None else 1.0
    value = sign * direction * observed
    thresholds = tuple(t * coeff for t in NO_TARGET_THRESHOLDS)
    score = _score_no_target(value, coeff, thresholds)
    return ProgressMeasure(value, _status(value, thresholds), score, False, coeff)


def _status(value: float, thresholds: tuple[float, ...]) -> str:
    high, med, low = thresholds
    if value >= high:
        return SUBSTANTIAL
    if value >= med:
        return MODERATE
    if value >= low:
        return LIMITED
    return DETERIORATION


def _score_with_target(value: float) -> float:
    if value >= 0.6:
        return min(7.1429 * value - 4.2857, 5.0)
    return max(4.1667 * value - 2.5, -5.0)


def _score_no_target(value: float, coeff: float, thresholds: tuple[float, ...]) -> float:
    high, med, low = thresholds
    if value < low:
        return max(125 * value - 2.5, -5.0)
    if coeff == 0:
        return 5.0  # the limit is reached and held
    if value >= high:
        return min(500 * value / coeff - 5, 5.0)
    if value >= med:
        return 250 * value / coeff - 1.25
    return 500 * value / coeff - 2.5


def status_from_score(score: float | None, target_achieved: bool = False) -> str:
    """Aggregate status from a (mean) score in [−5, 5], as Open SDG does for several series."""
    if target_achieved:
        return TARGET_ACHIEVED
    if score is None:
        return NOT_AVAILABLE
    if score >= 2.5:
        return SUBSTANTIAL
    if score >= 0:
        return MODERATE
    if score >= -2.5:
        return LIMITED
    return DETERIORATION
