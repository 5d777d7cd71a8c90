"""target_status: one status row per target × county as of a date (the rows of fact_target_status)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd

from expectations.models import Catalog, Comparator, Kind, Scope, Target
from tasks.evaluate.budget import evaluate_budget
from tasks.evaluate.compare import series_target_value
from tasks.evaluate.config import GREEN, GREY, RED, YELLOW, Thresholds
from tasks.evaluate.level import evaluate_increase, evaluate_level, level_ytd
from tasks.evaluate.milestone import evaluate_milestone
from tasks.evaluate.numbers import county_label, period_of, unit_label
from tasks.evaluate.progress import evaluate_cumulative
from tasks.evaluate.result import STATUS_COLUMNS, Evaluation
from tasks.evaluate.series import (
    Points,
    group_points,
    latest_month,
    month_values,
    prepare_observations,
    ytd_by_month,
)

EMPTY = Points()
DEFAULT_METHOD = {Kind.CUMULATIVE: "linear", Kind.LEVEL: "level", Kind.BUDGET: "budget",
                  Kind.MILESTONE: "milestone"}


def target_status(observations: pd.DataFrame, catalog: Catalog, as_of: dt.date,
                  thresholds: Thresholds | None = None, previous: pd.DataFrame | None = None) -> pd.DataFrame:
    """Status of every catalog target × county on `as_of` (columns: result.STATUS_COLUMNS).

    Rows cover each target's scope (the prefecture, or its counties) plus any other county that reported it;
    a series without usable data is grey. `period` is the latest reported month; for a series without data
    it is the month of as_of clipped to the plan year, so it is never empty. `previous` is the last stored
    status frame (target_id, county_code, light): a red that has caught up turns yellow for one round
    before green (瓯海 三色预警 practice). Allowance rows of days-budget targets come from
    tasks.evaluate.air_budget.days_budget_status, not from here.
    """
    thresholds = thresholds or Thresholds()
    obs = prepare_observations(observations, as_of)
    obs = obs[obs["target_id"].isin({t.id for t in catalog.targets})]
    groups = group_points(obs)
    observed = obs.loc[obs["year"] == catalog.year, ["target_id", "county_code"]].drop_duplicates()
    extra: dict[str, list[str]] = {}
    for tid, code in zip(observed["target_id"], observed["county_code"], strict=True):
        extra.setdefault(tid, []).append(code)
    fallback = min(max(period_of(as_of.year, as_of.month), period_of(catalog.year, 1)), period_of(catalog.year, 12))
    rows = []
    for target in catalog.targets:
        codes = dict.fromkeys([*_scope_codes(target, catalog), *extra.get(target.id, [])])
        for code in codes:
            ev = _evaluate(target, code, groups, catalog, as_of, thresholds)
            row = {"target_id": target.id, "county_code": code, "as_of": as_of, **ev.__dict__}
            rows.append({**row, "period": ev.period or fallback})
    status = pd.DataFrame(rows, columns=list(STATUS_COLUMNS))
    if previous is not None and not previous.empty:
        status = apply_memory(status, previous)
    return status


SCHEDULE_METHODS = ("linear", "seasonal", "budget")


def apply_memory(status: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """A series behind schedule, red last time and green now, is shown yellow this time (caught up, not yet
    trusted). Only schedules (序时进度, budgets) catch up; a level that complies now simply complies, and
    calling it yellow would raise a "target missed" alert for a value that meets its target.

    When `previous` has a `method` column, budget rows remember budget rows and the others the others: a
    days-budget target (Target.days_budget) has a level row and an allowance row per county."""
    keys = ["target_id", "county_code"]
    status = status.assign(_lane=status["method"].eq("budget"))
    if "method" in previous.columns:
        previous = previous.assign(_lane=previous["method"].eq("budget"))
        keys = [*keys, "_lane"]
    last = previous.drop_duplicates(keys, keep="last")[[*keys, "light"]].rename(columns={"light": "_prev"})
    merged = status.merge(last, on=keys, how="left")
    caught_up = (merged["_prev"] == RED) & (merged["light"] == GREEN) & merged["method"].isin(SCHEDULE_METHODS)
    merged.loc[caught_up, "light"] = YELLOW
    note = "上期为红灯，本期已追上进度，按规则先转为黄灯。"
    merged.loc[caught_up, "detail_zh"] = merged.loc[caught_up, "detail_zh"] + note
    return merged.drop(columns=["_prev", "_lane"])


def _scope_codes(target: Target, catalog: Catalog) -> list[str]:
    if target.scope == Scope.COUNTIES:
        return list(target.counties or catalog.county_codes)
    return [catalog.prefecture_code]


def counts_whole_units(target: Target, catalog: Catalog) -> bool:
    """Whether a target counts things (persons, items, households, money) rather than a ratio: only counts
    come in whole units."""
    dimensions = {u.id: u.dimension for u in catalog.canonical_units}
    return dimensions.get(target.unit) != dimensions.get("percent", "ratio")


def _first_month(catalog: Catalog) -> int:
    first = catalog.calendar.first_period
    return int(first[5:7]) if int(first[:4]) == catalog.year else 1


def _evaluate(target: Target, code: str, groups: dict[tuple[str, str], Points], catalog: Catalog,
              as_of: dt.date, thresholds: Thresholds) -> Evaluation:
    points = groups.get((target.id, code), EMPTY)
    year, where, unit = catalog.year, county_label(catalog, code), unit_label(catalog, target.unit)
    if target.kind == Kind.MILESTONE:
        return evaluate_milestone(target, points.records(year), as_of, year, where)
    method = "increase" if target.comparator == Comparator.INCREASE else DEFAULT_METHOD[target.kind]
    first_month = _first_month(catalog)
    target_value = series_target_value(target, code, catalog)
    ytd = ytd_by_month(points, year, first_month) if target.kind != Kind.LEVEL else {}
    derived = ""
    if target.kind != Kind.LEVEL and code == catalog.prefecture_code and target.additive:
        ytd, derived = _with_county_sums(target, ytd, groups, catalog, first_month)
    latest = max(latest_month(points, year) or 0, max(ytd, default=0))
    if not latest:
        return Evaluation(light=GREY, method=method, target_value=target_value,
                          detail_zh=f"{target.name_zh}（{where}）尚无{year}年数据。")
    period = period_of(year, latest)
    if target.comparator == Comparator.INCREASE:
        return _increase(target, points, ytd, latest, year, first_month, unit, where)
    if target.kind == Kind.LEVEL:
        monthly = month_values(points, year, "month")
        reported = monthly.get(latest, month_values(points, year, "ytd").get(latest))
        assert reported is not None
        ytd_value = level_ytd(month_values(points, year, "ytd").get(latest), monthly)
        if target_value is None:
            return _no_target(target, where, period, reported)
        return evaluate_level(target, target_value, reported, ytd_value, monthly, latest, thresholds, unit,
                              where, period)
    if latest not in ytd:
        gaps = [m for m in range(first_month, latest)
                if m not in ytd and (year, m, "month") not in points.values]
        return Evaluation(light=GREY, method=method, period=period, target_value=target_value,
                          detail_zh=f"{target.name_zh}（{where}）缺少{'、'.join(f'{m}月' for m in gaps)}"
                                    f"的当月数，无法计算截至{latest}月的累计值，请补报。")
    if target_value is None or target_value == 0:
        return _no_target(target, where, period, ytd[latest])
    if target.kind == Kind.BUDGET:
        ev = evaluate_budget(target, target_value, ytd[latest], year, latest, unit, where, period)
    else:
        previous = ytd_by_month(points, year - 1)
        ev = evaluate_cumulative(target, target_value, ytd, previous, thresholds, unit, where, period,
                                 whole_units=counts_whole_units(target, catalog))
    if derived:
        ev = Evaluation(**{**ev.__dict__, "detail_zh": ev.detail_zh + derived})
    return ev


def _no_target(target: Target, where: str, period: str, value: Decimal) -> Evaluation:
    method = DEFAULT_METHOD[target.kind]
    return Evaluation(light=GREY, method=method, period=period, value=value,
                      detail_zh=f"{target.name_zh}（{where}）没有分解到本级的目标值，仅记录数值。")


def _with_county_sums(target: Target, ytd: dict[int, Decimal], groups: dict[tuple[str, str], Points],
                      catalog: Catalog, first_month: int) -> tuple[dict[int, Decimal], str]:
    """Fill months without a 全州 figure by the sum of all counties, when every county has that month."""
    parts = [ytd_by_month(groups.get((target.id, c), EMPTY), catalog.year, first_month)
             for c in (target.counties or catalog.county_codes)]
    common = set.intersection(*(set(p) for p in parts)) if parts else set()
    filled = {m: sum((p[m] for p in parts), Decimal(0)) for m in common if m not in ytd}
    if not filled:
        return ytd, ""
    note = f"（全州数由{len(parts)}个县市数相加得出）" if max(filled) >= max(ytd, default=0) else ""
    return dict(sorted({**ytd, **filled}.items())), note


def _increase(target: Target, points: Points, ytd: dict[int, Decimal], month: int, year: int,
              first_month: int, unit: str, where: str) -> Evaluation:
    """较上年提高: cumulative vs last year's same month; a level vs last year's final value."""
    if target.kind != Kind.LEVEL and ytd:
        last = max(ytd)
        same_month = ytd_by_month(points, year - 1, first_month).get(last)
        same_period = period_of(year - 1, last) if same_month is not None else None
        return evaluate_increase(target, ytd[last], same_month, same_period, unit, where,
                                 period_of(year, last))
    value = _level_value(points, year, month)
    assert value is not None
    prev_month = latest_month(points, year - 1)
    base = _level_value(points, year - 1, prev_month) if prev_month else None
    base_period = period_of(year - 1, prev_month) if prev_month else None
    return evaluate_increase(target, value, base, base_period, unit, where, period_of(year, month))


def _level_value(points: Points, year: int, month: int) -> Decimal | None:
    """A level's year-to-date statistic at `month` (reported 累计, else mean of 当月, else the value)."""
    value = level_ytd(month_values(points, year, "ytd").get(month), month_values(points, year, "month"))
    return value if value is not None else points.values.get((year, month, "ytd"))
