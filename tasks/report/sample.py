"""Deterministic demo data for the report: a month with some good news and every kind of problem.

`sample_report_data(catalog, as_of)` works with any catalog (the real one or `demo_catalog()`): cumulative
targets get paces that put them ahead, on schedule, yellow and red; level targets meet or miss; the budget
target gets an air-days allowance per county; there is an open progress alert, an anomaly alert, a resolved
alert (not shown), a quarantined file with located checks, a file loaded with warnings and a lagging
department.
Links assume the report is written to data/reports/<as_of>/ (so ../../raw/<dept>/_receipts/… is the receipt).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd

from expectations.models import Catalog, Comparator, Kind, Scope, Target
from tasks.report.data import DEFAULT_BAND_POINTS, ReportData
from tasks.report.sample_evidence import evidence_frames

PACES = (Decimal("1.4"), Decimal("1.0"), Decimal("0.72"), Decimal("0.35"), Decimal("1.05"), Decimal("0.9"))
COUNTY_PACE = tuple(Decimal(p) for p in ("1.1", "1.0", "0.55", "1.2", "0.95", "0.8"))
LEVEL_MISS = (Decimal("0.92"), Decimal("1.12"), Decimal("0.97"))  # × target: meets, misses, meets
YELLOW, RED = Decimal(10), Decimal(30)
ONE = Decimal("0.1")


def latest_period(as_of: dt.date, year: int) -> tuple[str, int]:
    """The month whose data a report on `as_of` rests on: the previous month, within the plan year."""
    month = as_of.month - 1 if as_of.year == year else (12 if as_of.year > year else 1)
    month = max(month, 1)
    return f"{year}-{month:02d}", month


def light_for_gap(gap: Decimal) -> str:
    """Yinchuan-style lights on the gap to schedule (Settings defaults: yellow > 10, red > 30 behind)."""
    if gap < -RED:
        return "red"
    if gap < -YELLOW:
        return "yellow"
    return "green"


def _status(target: Target, county: str, period: str, as_of: dt.date, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"target_id": target.id, "county_code": county, "as_of": as_of, "period": period,
                           "value": None, "target_value": target.value, "completion_pct": None,
                           "expected_pct": None, "gap_points": None, "light": "grey", "projection": None,
                           "projection_low": None, "projection_high": None, "will_meet": None,
                           "method": "demo", "detail_zh": ""}
    row.update(values)
    return row


def _ytd(goal: Decimal, pace: Decimal, month: int) -> Decimal:
    # Spring starts slow, so the cumulative line bends the way real drops do.
    value = goal * pace * month / 12 * (Decimal("0.9") + Decimal(month) / 60)
    return value.quantize(Decimal(1), ROUND_HALF_UP)


def _cumulative(target: Target, index: int, codes: list[str], pref: str, month: int, period: str,
                as_of: dt.date) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Year-to-date history and status per county (summed into the prefecture), or the prefecture alone."""
    goal = target.value or Decimal(0)
    pace = PACES[index % len(PACES)]
    expected = (Decimal(100) * month / 12).quantize(ONE)
    year = period[:4]
    weights = [Decimal(1) + Decimal(i % 4) / 4 for i in range(len(codes))]
    total_w = sum(weights, Decimal(0))
    parts = [(code, goal * w / total_w, pace * COUNTY_PACE[i % len(COUNTY_PACE)])
             for i, (code, w) in enumerate(zip(codes, weights, strict=True))]
    history: list[dict[str, Any]] = []
    status: list[dict[str, Any]] = []
    for code, share, county_pace in parts:
        history += [{"target_id": target.id, "county_code": code, "period": f"{year}-{m:02d}",
                     "value": _ytd(share, county_pace, m)} for m in range(1, month + 1)]
        latest = _ytd(share, county_pace, month)
        status.append(_progress_row(target, code, share, latest, expected, month, period, as_of))
    for m in range(1, month + 1):
        total = (sum((_ytd(share, p, m) for _, share, p in parts), Decimal(0)) if parts
                 else _ytd(goal, pace * Decimal("0.93"), m))
        history.append({"target_id": target.id, "county_code": pref, "period": f"{year}-{m:02d}",
                        "value": total})
    status.append(_progress_row(target, pref, goal, history[-1]["value"], expected, month, period, as_of))
    return history, status


def _progress_row(target: Target, county: str, goal: Decimal, ytd: Decimal, expected: Decimal, month: int,
                  period: str, as_of: dt.date) -> dict[str, Any]:
    goal = goal.quantize(Decimal("0.01"))
    completion = (ytd * 100 / goal).quantize(ONE) if goal else None
    gap = (completion - expected) if completion is not None else None
    projection = (ytd * 12 / month).quantize(Decimal(1))
    light = light_for_gap(gap) if gap is not None else "grey"
    word = {"green": "进度正常", "yellow": "进度滞后", "red": "进度严重滞后", "grey": "无目标值"}[light]
    return _status(target, county, period, as_of, value=ytd, target_value=goal, completion_pct=completion,
                   expected_pct=expected, gap_points=gap, light=light, projection=projection,
                   projection_low=(projection * Decimal("0.9")).quantize(Decimal(1)),
                   projection_high=(projection * Decimal("1.1")).quantize(Decimal(1)),
                   will_meet=bool(projection >= goal), method="linear_ytd",
                   detail_zh=f"累计完成{completion}%，序时进度{expected}%，{word}")


def _level(target: Target, index: int, pref: str, period: str, as_of: dt.date) -> dict[str, Any]:
    goal = target.value or Decimal(0)
    value = (goal * LEVEL_MISS[index % len(LEVEL_MISS)]).quantize(Decimal("0.01"))
    lower_better = target.comparator in (Comparator.LE, Comparator.LT)
    meets = value <= goal if lower_better else value >= goal
    light = "green" if meets else "red"
    return _status(target, pref, period, as_of, value=value, target_value=goal, light=light, projection=value,
                   will_meet=meets, method="level_latest",
                   detail_zh="最新值达到目标" if meets else "最新值未达到目标，需加大工作力度")


def _budget(target: Target, codes: list[str], pref: str, period: str,
            as_of: dt.date) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    goal = target.value or Decimal("97.2")
    elapsed = (as_of - dt.date(as_of.year, 1, 1)).days
    allowed = (Decimal(365) * (100 - goal) / 100).to_integral_value(rounding="ROUND_FLOOR")
    used_cycle = (2, 4, 7, 11, 3, 5, 1, 6, 9, 2)
    rows, budget = [], []
    for i, code in enumerate(codes):
        used = used_cycle[i % len(used_cycle)]
        ratio = (Decimal(elapsed - used) * 100 / elapsed).quantize(ONE) if elapsed else None
        pro_rata = allowed * elapsed / 365
        light = "red" if used >= allowed else ("yellow" if used > pro_rata else "green")
        rows.append(_status(target, code, period, as_of, value=ratio, target_value=goal, light=light,
                            will_meet=used < allowed, method="budget",
                            detail_zh=f"已用非优良天数{used}天，全年允许{allowed}天"))
        budget.append({"county_code": code, "days_elapsed": elapsed, "bad_days_used": used,
                       "bad_days_allowed": allowed})
    return rows, pd.DataFrame(budget)


def _milestone(target: Target, index: int, pref: str, period: str, as_of: dt.date) -> dict[str, Any]:
    done = index % 2 == 0
    deadline = target.deadline or dt.date(as_of.year, 12, 31)
    return _status(target, pref, period, as_of, value=Decimal(1) if done else None, target_value=None,
                   light="green" if done else "yellow", will_meet=done or None, method="milestone",
                   detail_zh="已完成" if done else f"尚未完成，截止{deadline.isoformat()}")


def sample_report_data(catalog: Catalog, as_of: dt.date) -> ReportData:
    """A deterministic, demo-like month of status, history, alerts, drops, checks and lag for `catalog`."""
    period, month = latest_period(as_of, catalog.year)
    pref = catalog.prefecture_code
    status: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    air: pd.DataFrame | None = None
    counters = {kind: 0 for kind in Kind}
    air_target = _air_target(catalog)
    for position, target in enumerate(catalog.targets):
        index = counters[target.kind]
        counters[target.kind] += 1
        if position % 7 == 6:
            continue  # nobody reported it: the report must show it grey (无数据)
        per_county = target.scope == Scope.COUNTIES or target.additive
        codes = (target.counties or catalog.county_codes) if per_county else []
        if target is air_target:
            rows, air = _budget(target, codes, pref, period, as_of)
            status += rows
        elif target.kind == Kind.CUMULATIVE and target.value is not None:
            more_history, more_status = _cumulative(target, index, codes, pref, month, period, as_of)
            history += more_history
            status += more_status
        elif target.kind == Kind.LEVEL and target.value is not None:
            status.append(_level(target, index, pref, period, as_of))
        elif target.kind == Kind.MILESTONE:
            status.append(_milestone(target, index, pref, period, as_of))
    status_frame = pd.DataFrame(status)
    red = status_frame[(status_frame["light"] == "red") & (status_frame["county_code"] == pref)]
    red_target = catalog.target(str(red["target_id"].iloc[0])) if not red.empty else catalog.targets[0]
    frames = evidence_frames(catalog, as_of, period, status_frame, red_target, _sha)
    return ReportData(as_of=as_of, status=status_frame, history=pd.DataFrame(history), air_budget=air,
                      schedule_band_points=DEFAULT_BAND_POINTS, **frames)


def _air_target(catalog: Catalog) -> Target | None:
    """The good-air-days target whose allowance the burn-down shows: a budget target, else the 优良 ratio."""
    budgets = [t for t in catalog.targets if t.kind == Kind.BUDGET]
    named = [t for t in catalog.targets if "优良" in t.name_zh and t.unit == "percent"]
    chosen = budgets or named
    return chosen[0] if chosen else None


def _sha(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()
