"""Budget targets: an allowance used up over the year (97.2% good-air days allows ~10 non-good days).

The warning is about pace: using the allowance faster than time passes (yellow) or using it up (red, the
target can no longer be met this year).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from expectations.models import Comparator, Target
from tasks.evaluate.config import GREEN, LIGHT_ZH, RED, YELLOW
from tasks.evaluate.numbers import HUNDRED, days_in_year, fmt_num, month_end, q2
from tasks.evaluate.result import Evaluation


@dataclass(frozen=True)
class BudgetStatus:
    """Allowance bookkeeping: usable in the year, used so far, and usable by now."""

    allowed: Decimal
    used: Decimal
    remaining: Decimal
    elapsed_share: Decimal  # fraction of the year elapsed, 0–1
    pace_allowance: Decimal  # the part time has released so far (whole units, rounded up)
    projected_use: Decimal | None  # used / elapsed share: the year's use at this pace
    light: str
    will_meet: bool


def budget_status(used: Decimal, allowed: Decimal, elapsed_share: Decimal) -> BudgetStatus:
    """Pace check of an allowance: green within pace, yellow when used faster than time, red when exceeded.

    The pace allowance is rounded up to whole units because budgets are counted in days or events: one bad
    day in the first week of January is not "faster than time".
    """
    if not Decimal(0) <= elapsed_share <= Decimal(1):
        raise ValueError(f"elapsed share {elapsed_share} must lie in [0, 1]")
    pace = Decimal(math.ceil(allowed * elapsed_share))
    remaining = allowed - used
    light = RED if used > allowed else YELLOW if used > pace else GREEN
    projected = used / elapsed_share if elapsed_share > 0 else None
    will_meet = used <= allowed and (projected is None or projected <= allowed)
    return BudgetStatus(allowed, used, remaining, elapsed_share, pace, projected, light, will_meet)


def allowance_days(target_ratio_pct: Decimal, year_days: int) -> Decimal:
    """Whole days a ratio floor leaves for non-good days: floor(365 × (100 − 97.2) / 100) = 10."""
    return (Decimal(year_days) * (HUNDRED - target_ratio_pct) / HUNDRED).to_integral_value(ROUND_FLOOR)


@dataclass(frozen=True)
class GoodDaysBudget:
    """The non-good-days allowance implied by a good-days ratio target (优良天数比率)."""

    ratio_pct: Decimal | None  # good / valid × 100 so far (None before any valid day)
    allowed_bad_days: int
    bad_days: int
    max_achievable_pct: Decimal  # the year's ratio if every remaining day is good
    budget: BudgetStatus


def good_days_budget(good_days: int, valid_days: int, target_ratio_pct: Decimal, year_days: int,
                     elapsed_days: int) -> GoodDaysBudget:
    """Remaining non-good-day allowance of a county from its good and valid day counts so far.

    allowed = floor(year_days × (100 − target) / 100): 97.2% over 365 days allows 10 non-good days.
    """
    if not 0 <= good_days <= valid_days <= elapsed_days <= year_days:
        raise ValueError(
            f"需要 0 ≤ 优良天数({good_days}) ≤ 有效天数({valid_days}) ≤ 已过天数({elapsed_days})"
            f" ≤ 全年天数({year_days}) / need 0 ≤ good ≤ valid ≤ elapsed ≤ year days")
    allowed = int(allowance_days(target_ratio_pct, year_days))
    bad = valid_days - good_days
    ahead = year_days - elapsed_days
    horizon = valid_days + ahead
    best = Decimal(good_days + ahead) / Decimal(horizon) * HUNDRED if horizon else HUNDRED
    ratio = Decimal(good_days) / Decimal(valid_days) * HUNDRED if valid_days else None
    status = budget_status(Decimal(bad), Decimal(allowed), Decimal(elapsed_days) / Decimal(year_days))
    return GoodDaysBudget(ratio, allowed, bad, best, status)


def evaluate_budget(target: Target, target_value: Decimal, ytd: Decimal, year: int, month: int, unit: str,
                    where: str, period: str) -> Evaluation:
    """A budget target at its latest month.

    A floor on a ratio (≥ 97.2%) is read as an allowance of the complement: the days used so far are
    estimated as (100 − ratio)% of the days elapsed. A ceiling (≤ N) is an allowance of N used by the value.
    In the status row completion_pct is the share of the allowance used, expected_pct the share of the
    year elapsed, gap_points their difference (positive = used faster than time) and projection the
    year's use at this pace.
    """
    elapsed_days = (month_end(year, month).toordinal() - month_end(year - 1, 12).toordinal())
    year_days = days_in_year(year)
    share = Decimal(elapsed_days) / Decimal(year_days)
    if target.comparator in (Comparator.GE, Comparator.GT):
        allowed = allowance_days(target_value, year_days)
        used = ((HUNDRED - ytd) / HUNDRED * elapsed_days).to_integral_value()
        what = f"累计{fmt_num(ytd)}{unit}，折合已用约{fmt_num(used)}天"
        unit_of_allowance = "天"
    else:
        allowed, used, what = target_value, ytd, f"累计已用{fmt_num(ytd)}{unit}"
        unit_of_allowance = unit
    status = budget_status(used, allowed, share)
    used_pct = used / allowed * HUNDRED if allowed else None
    au = unit_of_allowance
    used_text = fmt_num(used_pct, 1) if used_pct is not None else "—"
    detail = (f"{target.name_zh}（{where}）截至{month}月{what}，全年额度{fmt_num(allowed)}{au}，"
              f"剩余{fmt_num(status.remaining)}{au}；时间过去{fmt_num(share * HUNDRED, 1)}%，"
              f"额度已用{used_text}%（{LIGHT_ZH[status.light]}）。")
    gap = used_pct - share * HUNDRED if used_pct is not None else None
    return Evaluation(light=status.light, method="budget", detail_zh=detail, period=period, value=ytd,
                      target_value=target_value, completion_pct=q2(used_pct),
                      expected_pct=q2(share * HUNDRED),
                      gap_points=q2(gap), projection=q2(status.projected_use), projection_low=None,
                      projection_high=None, will_meet=status.will_meet)
