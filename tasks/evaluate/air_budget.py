"""The good-air-days allowance (优良天数余量): a floor on a share of days read as an allowance of the others.

The plan asks each county for ≥ 97.2% good-air days over the year; that leaves floor(2.8% × 365) = 10
non-good days (366-day years: floor(10.248) = 10). Which targets get this treatment is the catalog's word
(`Target.days_budget`), and the allowance comes from the target itself (`Target.target_for(county)`): no new
figure is invented.

Days used are estimated from the reported ratios: a ratio says nothing about how many days were valid, so
the calendar days a figure covers stand in for its valid days, and bad days ≈ (100 − ratio)/100 × days
(exact Decimal, summed over the figures, rounded half-up once at the end: half a day counts as used). A
year-to-date ratio covers 1 January to the end of its month; monthly ratios add their months; a reported
year-to-date figure re-anchors the sum. Months nobody reported are not covered: they are unknown, never
counted as good days, so the pace compares the days used with the days covered. When an observation carries
the air-quality feed's counts (tasks.aq writes `valid_days=N; … good_days=M` into the note), bad days are
counted exactly as valid − good instead.

The light compares the share of the allowance used with the share of the year covered, in percentage
points, with the same thresholds as 序时进度 (Thresholds: yellow beyond 10 points, red beyond 30):
- red when the allowance is exceeded, or used up while days remain (any further bad day misses the target);
- green while the days used stay within the whole days time has released (ceil(allowed × elapsed share):
  one bad day in January is not "faster than time"), or within the yellow threshold;
- yellow when used faster than time by more than the yellow threshold, red beyond the red threshold.
Any pace faster than time would run out before the year's end if it went on; the thresholds say how much
faster is worth a warning, as they do for schedules. The projection is the year's bad days at this pace
(used / elapsed share); will_meet says whether it stays within the allowance.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from expectations.models import Catalog, Target
from tasks.evaluate.budget import allowance_days
from tasks.evaluate.config import GREEN, LIGHT_ZH, RED, YELLOW, Thresholds
from tasks.evaluate.numbers import HUNDRED, county_label, days_in_year, fmt_num, month_end, period_of, q2
from tasks.evaluate.result import STATUS_COLUMNS
from tasks.evaluate.series import prepare_observations
from tasks.evaluate.status import apply_memory

BUDGET_METHOD = "budget"
COUNTS_PATTERN = r"valid_days=(?P<valid>\d+)\b.*?good_days=(?P<good>\d+)\b"


@dataclass(frozen=True)
class DayShare:
    """One reported figure of a share-of-days target: its month, basis (ytd 累计 / month 当月), the ratio in
    percent and, when the air-quality feed gave them, the valid and good day counts behind it."""

    month: int
    basis: str
    ratio_pct: Decimal
    valid_days: int | None = None
    good_days: int | None = None


@dataclass(frozen=True)
class DaysBudget:
    """A county's allowance of non-qualifying days as of its latest reported month.

    days_elapsed is the calendar days the figures cover (see the module docstring); bad_days_exact the
    estimate before rounding; used_share is used / allowed (None when nothing is allowed), elapsed_share
    days_elapsed / year_days, both 0–1; gap_points (used − elapsed) × 100, positive = used faster than time;
    counted says every figure came with day counts (no estimate); uncovered lists months up to the latest
    that no figure covers.
    """

    year: int
    month: int
    days_elapsed: int
    year_days: int
    ratio_pct: Decimal
    bad_days_exact: Decimal
    bad_days_used: int
    bad_days_allowed: int
    remaining: int
    used_share: Decimal | None
    elapsed_share: Decimal
    gap_points: Decimal | None
    projected_bad_days: Decimal
    light: str
    will_meet: bool
    counted: bool
    uncovered: tuple[int, ...]


def days_budget_targets(catalog: Catalog) -> list[Target]:
    """The catalog's targets whose complement is tracked as an allowance of days (Target.days_budget)."""
    return [t for t in catalog.targets if t.days_budget]


def days_budget_light(used: int, allowed: int, elapsed_share: Decimal, thresholds: Thresholds) -> str:
    """Light of an allowance of days: exceeded or used up early → red; within the whole days time has
    released → green; otherwise by the points used faster than time (yellow/red thresholds)."""
    if not Decimal(0) < elapsed_share <= Decimal(1):
        raise ValueError(f"elapsed share {elapsed_share} must lie in (0, 1]")
    if used > allowed or (0 < allowed <= used and elapsed_share < 1):
        return RED
    if elapsed_share == 1 or used <= math.ceil(allowed * elapsed_share):
        return GREEN
    gap = (Decimal(used) / Decimal(allowed) - elapsed_share) * HUNDRED
    return RED if gap > thresholds.red_gap_points else YELLOW if gap > thresholds.yellow_gap_points else GREEN


def _days_in_month(year: int, month: int) -> int:
    return month_end(year, month).day


def _bad_days(share: DayShare, days: int) -> tuple[Decimal, bool]:
    """Bad days behind one figure covering `days` calendar days, and whether they were counted."""
    if share.valid_days is not None and share.good_days is not None \
            and 0 <= share.good_days <= share.valid_days <= days:
        return Decimal(share.valid_days - share.good_days), True
    return (HUNDRED - share.ratio_pct) / HUNDRED * days, False


def days_budget(shares: Iterable[DayShare], target_pct: Decimal, year: int,
                thresholds: Thresholds | None = None) -> DaysBudget | None:
    """The allowance of non-qualifying days implied by a floor of `target_pct` percent, from one county's
    figures of `year` (None without any). See the module docstring for the estimate and the light.

    Raises ValueError for a ratio outside 0–100 or a month outside 1–12 (the data cannot be read as days).
    """
    thresholds = thresholds or Thresholds()
    by_month: dict[tuple[int, str], DayShare] = {}
    for share in shares:
        if not 1 <= share.month <= 12 or not Decimal(0) <= share.ratio_pct <= HUNDRED:
            raise ValueError(f"比率 {share.ratio_pct}（{share.month}月）应在0–100之间 / a share of days must lie "
                             f"in 0–100 for a month 1–12, got {share.ratio_pct} for month {share.month}")
        by_month[(share.month, share.basis)] = share
    if not by_month:
        return None
    covered, bad, counted = 0, Decimal(0), True
    months_covered: set[int] = set()
    for month in range(1, 13):
        ytd, single = by_month.get((month, "ytd")), by_month.get((month, "month"))
        if ytd is not None:
            covered = month_end(year, month).timetuple().tm_yday
            bad, counted = _bad_days(ytd, covered)
            months_covered = set(range(1, month + 1))
        elif single is not None:
            days = _days_in_month(year, month)
            more, exact = _bad_days(single, days)
            covered, bad, counted = covered + days, bad + more, counted and exact
            months_covered.add(month)
    latest = max(m for m, _ in by_month)
    year_days = days_in_year(year)
    allowed = int(allowance_days(target_pct, year_days))
    used = int(bad.to_integral_value(ROUND_HALF_UP))
    elapsed = Decimal(covered) / Decimal(year_days)
    used_share = Decimal(used) / Decimal(allowed) if allowed else None
    gap = (used_share - elapsed) * HUNDRED if used_share is not None else None
    projected = Decimal(used * year_days) / Decimal(covered)  # used / elapsed share, one division
    will_meet = used <= allowed and (elapsed == 1 or projected <= allowed)
    ratio = (Decimal(covered) - bad) / Decimal(covered) * HUNDRED
    return DaysBudget(year=year, month=latest, days_elapsed=covered, year_days=year_days, ratio_pct=ratio,
                      bad_days_exact=bad, bad_days_used=used, bad_days_allowed=allowed, remaining=allowed - used,
                      used_share=used_share, elapsed_share=elapsed, gap_points=gap, projected_bad_days=projected,
                      light=days_budget_light(used, allowed, elapsed, thresholds), will_meet=will_meet,
                      counted=counted, uncovered=tuple(m for m in range(1, latest + 1) if m not in months_covered))


def _months_zh(months: tuple[int, ...]) -> str:
    return "、".join(str(m) for m in months) + "月"


def budget_detail_zh(budget: DaysBudget, where: str, target_pct: Decimal) -> str:
    """The allowance in one Chinese sentence with its numbers (what the status row, alert and report say)."""
    how = ("按监测有效天数统计" if budget.counted
           else f"按累计优良率约{fmt_num(budget.ratio_pct, 1)}%、{budget.days_elapsed}天估算")
    left = (f"已超出{-budget.remaining}天" if budget.remaining < 0 else f"剩余{budget.remaining}天")
    used_pct = fmt_num(budget.used_share * HUNDRED, 1) if budget.used_share is not None else "—"
    if budget.bad_days_used > budget.bad_days_allowed:
        verdict = "已超出额度"
    elif budget.remaining == 0 and budget.elapsed_share < 1 and budget.bad_days_allowed:
        verdict = "额度已用完，再有1天即超出"
    elif budget.projected_bad_days > budget.bad_days_allowed:
        verdict = "将超出额度"
    else:
        verdict = "在额度之内"
    gaps = f"{_months_zh(budget.uncovered)}无数据，未计入；" if budget.uncovered else ""
    return (f"{where}截至{budget.month}月已用去非优良天数{budget.bad_days_used}天（{how}），全年额度"
            f"{budget.bad_days_allowed}天（优良率{fmt_num(target_pct)}%以上），{left}；{gaps}额度已用{used_pct}%，"
            f"时间进度{fmt_num(budget.elapsed_share * HUNDRED, 1)}%，按此速度全年约"
            f"{fmt_num(budget.projected_bad_days, 0)}天，{verdict}（{LIGHT_ZH[budget.light]}）。")


def _shares(frame: pd.DataFrame) -> list[DayShare]:
    valid = pd.to_numeric(frame["_valid"], errors="coerce")
    good = pd.to_numeric(frame["_good"], errors="coerce")
    return [DayShare(int(m), str(b), v, None if pd.isna(n) else int(n), None if pd.isna(g) else int(g))
            for m, b, v, n, g in zip(frame["month"], frame["basis"], frame["value"], valid, good, strict=True)]


def days_budget_status(observations: pd.DataFrame, catalog: Catalog, as_of: dt.date,
                       thresholds: Thresholds | None = None, previous: pd.DataFrame | None = None) -> pd.DataFrame:
    """Allowance rows (method `budget`, columns result.STATUS_COLUMNS) for every days-budget target × county
    that reported in the plan year, as known on `as_of`.

    value = bad days used, target_value = bad days allowed, completion_pct = share of the allowance used,
    expected_pct = share of the year covered, gap_points = their difference (positive = used faster than
    time), projection = the year's bad days at this pace. A series without a target for its county, or
    without data this year, has no row (its level row says so). `previous` as in target_status.
    """
    targets = {t.id: t for t in days_budget_targets(catalog)}
    obs = prepare_observations(observations, as_of)
    obs = obs[obs["target_id"].isin(set(targets)) & (obs["year"] == catalog.year)]
    notes = obs["note"].astype("string") if "note" in obs.columns else pd.Series(pd.NA, index=obs.index,
                                                                                  dtype="string")
    counts = notes.str.extract(COUNTS_PATTERN)
    obs = obs.assign(_valid=counts["valid"], _good=counts["good"])
    rows = []
    for (target_id, code), series in obs.groupby(["target_id", "county_code"], sort=True):
        target = targets[str(target_id)]
        goal = target.target_for(str(code))
        budget = days_budget(_shares(series), goal, catalog.year, thresholds) if goal is not None else None
        if budget is None or goal is None:
            continue
        detail = budget_detail_zh(budget, county_label(catalog, str(code)), goal)
        used_pct = budget.used_share * HUNDRED if budget.used_share is not None else None
        rows.append({"target_id": target.id, "county_code": str(code), "as_of": as_of,
                     "period": period_of(catalog.year, budget.month), "value": Decimal(budget.bad_days_used),
                     "target_value": Decimal(budget.bad_days_allowed), "completion_pct": q2(used_pct),
                     "expected_pct": q2(budget.elapsed_share * HUNDRED), "gap_points": q2(budget.gap_points),
                     "light": budget.light, "projection": q2(budget.projected_bad_days), "projection_low": None,
                     "projection_high": None, "will_meet": budget.will_meet, "method": BUDGET_METHOD,
                     "detail_zh": detail})
    status = pd.DataFrame(rows, columns=list(STATUS_COLUMNS))
    if previous is not None and not previous.empty and not status.empty:
        status = apply_memory(status, previous)
    return status


def elapsed_days(expected_pct: Decimal, year: int) -> int:
    """The days covered, read back from a stored expected_pct (2 places: exact to well under half a day)."""
    return int((expected_pct * days_in_year(year) / HUNDRED).to_integral_value(ROUND_HALF_UP))
