"""序时进度 for cumulative targets: completion against the expected share of the year, gap, light."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from expectations.models import Comparator, Target
from tasks.evaluate.compare import complies, lower_is_better
from tasks.evaluate.config import LIGHT_ZH, Thresholds, light_for_gap
from tasks.evaluate.numbers import HUNDRED, fmt_num, q2
from tasks.evaluate.projection import project_cumulative
from tasks.evaluate.result import Evaluation


def linear_share(month: int) -> Decimal:
    """Share of the plan year elapsed at the end of `month` (序时进度, linear): June → 6/12."""
    if not 1 <= month <= 12:
        raise ValueError(f"month {month} must be 1–12")
    return Decimal(month) / Decimal(12)


def seasonal_share(previous_ytd: dict[int, Decimal], month: int) -> Decimal | None:
    """Last year's year-to-date at `month` over its year-end total: the seasonal expected share.

    None unless last year has both that month and December with a positive total; clipped to [0, 1].
    """
    total = previous_ytd.get(12)
    reached = previous_ytd.get(month)
    if total is None or reached is None or total <= 0:
        return None
    return min(max(reached / total, Decimal(0)), Decimal(1))


def whole_unit_share(share: Decimal, target_value: Decimal) -> Decimal:
    """The expected share when a target counts indivisible things (1 hospital, 3 kindergartens, 40 000 jobs):
    a unit is due only once its whole time has passed, so floor(target × share) units are expected.

    For a big target this differs from `share` by less than one unit; for a target of 1 nothing is due before
    the year's end, and a target of 2 expects its first unit at mid-year (linear 序时进度 would call 0 of 2 in
    January 17 points behind). A non-integer target (120.26 km) is divisible: `share` unchanged.
    """
    if target_value <= 0 or target_value != target_value.to_integral_value():
        return share
    return (target_value * share).to_integral_value(rounding=ROUND_FLOOR) / target_value


def completion_pct(ytd: Decimal, target: Decimal) -> Decimal:
    """Year-to-date as a percentage of the annual target (unrounded)."""
    if target == 0:
        raise ValueError("a cumulative target of 0 has no completion percentage")
    return ytd / target * HUNDRED


def schedule_gap(completion: Decimal, expected: Decimal, comparator: Comparator) -> Decimal:
    """Percentage points behind schedule (positive = behind, negative = ahead; fact_target_status's sign).

    For a ceiling (≤) on a cumulative count, using it up faster than time is being behind.
    """
    return completion - expected if lower_is_better(comparator) else expected - completion


def evaluate_cumulative(target: Target, target_value: Decimal, ytd: dict[int, Decimal],
                        previous_ytd: dict[int, Decimal], thresholds: Thresholds, unit: str,
                        where: str, period: str, whole_units: bool = False) -> Evaluation:
    """Progress of one cumulative series at its latest reported month (`ytd` must not be empty).

    `previous_ytd` is last year's series for the same target and county (empty when not dropped); it gives
    the seasonal profile when it covers the month and December. `whole_units`: the target counts
    indivisible things, so a floor target expects whole units only (see whole_unit_share).
    """
    month = max(ytd)
    value = ytd[month]
    season = seasonal_share(previous_ytd, month)
    share, method = (season, "seasonal") if season is not None else (linear_share(month), "linear")
    whole_note = ""
    if whole_units and not lower_is_better(target.comparator):
        whole = whole_unit_share(share, target_value)
        if (share - whole) * HUNDRED >= Decimal("0.5"):
            whole_note = f"（目标按整数计，截至{month}月应完成{fmt_num(whole * target_value, 0)}{unit}）"
        share = whole
    completion = completion_pct(value, target_value)
    expected = share * HUNDRED
    gap = schedule_gap(completion, expected, target.comparator)
    light = light_for_gap(q2(gap) or Decimal(0), thresholds)
    increments = ([ytd[1]] if 1 in ytd else []) + [ytd[m] - ytd[m - 1] for m in sorted(ytd) if m - 1 in ytd]
    proj = project_cumulative(value, share, increments, 12 - month, thresholds)
    will_meet: bool | None = None
    reached = complies(value, target.comparator, target_value)
    if reached != lower_is_better(target.comparator):
        will_meet = reached  # a floor already reached, or a ceiling already broken: a count cannot fall back
    elif proj is not None:
        will_meet = complies(proj.point, target.comparator, target_value)
    basis = "上年同期进度" if method == "seasonal" else "序时进度"
    points = fmt_num(abs(gap), 1)
    relation = "持平" if points == "0" else f"落后{points}个百分点" if gap > 0 else f"超出{points}个百分点"
    detail = (f"{target.name_zh}（{where}）截至{month}月累计{fmt_num(value)}{unit}，"
              f"年度目标{fmt_num(target_value)}{unit}，完成{fmt_num(completion, 1)}%，"
              f"{basis}{fmt_num(expected, 1)}%{whole_note}，{relation}（{LIGHT_ZH[light]}）")
    if proj is not None:
        verdict = {True: "预计能完成目标", False: "预计不能完成目标", None: "无法判断"}[will_meet]
        detail += (f"；按此进度预计全年{fmt_num(proj.point, 0)}{unit}"
                   f"（约{fmt_num(proj.low, 0)}–{fmt_num(proj.high, 0)}），{verdict}")
    return Evaluation(light=light, method=method, detail_zh=detail + "。", period=period, value=value,
                      target_value=target_value, completion_pct=q2(completion), expected_pct=q2(expected),
                      gap_points=q2(gap), projection=q2(proj.point) if proj else None,
                      projection_low=q2(proj.low) if proj else None,
                      projection_high=q2(proj.high) if proj else None,
                      will_meet=will_meet)
