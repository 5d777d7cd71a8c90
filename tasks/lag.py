"""Lag: data not delivered by its due date (delivery lag) and targets behind schedule (progress lag).

The reporting calendar: month M's data is due on Chinese working day N of month M+1 (N from the catalog
calendar, or the department's own due_workday). Working days come from `chinesecalendar`, which knows the
State Council's holidays and the weekend days made working days (调休), year by year.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pandas as pd

from expectations.models import Catalog, Frequency, Target
from tasks.evaluate.config import RED, YELLOW
from tasks.evaluate.numbers import parse_period, period_of
from tasks.evaluate.series import local_dates

LAG_COLUMNS: tuple[str, ...] = (
    "department", "period", "due_date", "days_overdue", "expected_targets", "missing_targets",
    "consecutive_misses", "escalated",
)
PROGRESS_LAG_COLUMNS: tuple[str, ...] = (
    "target_id", "county_code", "period", "department", "light", "completion_pct", "expected_pct",
    "gap_points", "method", "detail_zh",
)
SUBMITTED_COLUMNS: tuple[str, ...] = ("department", "target_id", "period", "first_recorded_at")
ESCALATE_AFTER = 2  # 南京 practice: the second consecutive miss goes to the supervision office


def is_workday(day: dt.date) -> bool:
    """Chinese working day (holidays off, adjusted weekend working days on); a clear error outside the
    years the installed chinesecalendar knows."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as exc:
        raise ValueError(f"chinesecalendar 不含 {day.year} 年的节假日安排，请升级 chinesecalendar / "
                         f"chinesecalendar has no holiday data for {day.year}; upgrade the package") from exc


def nth_workday(year: int, month: int, n: int) -> dt.date:
    """The n-th Chinese working day (1-based) of the month (year, month)."""
    if n < 1:
        raise ValueError(f"working day number {n} must be ≥ 1")
    day, seen = dt.date(year, month, 1), 0
    while day.month == month:
        if is_workday(day):
            seen += 1
            if seen == n:
                return day
        day += dt.timedelta(days=1)
    raise ValueError(f"{year}-{month:02d} has fewer than {n} working days")


def due_date(year: int, month: int, workday_n: int) -> dt.date:
    """Due date of the data for month (year, month): working day `workday_n` of the following month.

    October 2021 data, day 5 → 2021-11-05; September 2021 data, day 5 → 2021-10-13 (1–7 October are the
    National Day holiday, 9 October is an adjusted working day).
    """
    nxt_year, nxt_month = (year + 1, 1) if month == 12 else (year, month + 1)
    return nth_workday(nxt_year, nxt_month, workday_n)


def expected_in(target: Target, month: int) -> bool:
    """Whether a target's data is expected for a month: monthly always, quarterly at quarter ends,
    annual in December."""
    if target.frequency == Frequency.MONTHLY:
        return True
    if target.frequency == Frequency.QUARTERLY:
        return month % 3 == 0
    return month == 12


def calendar_periods(catalog: Catalog) -> list[str]:
    """The months the reporting calendar expects, first_period..last_period."""
    year, month = parse_period(catalog.calendar.first_period)
    last = catalog.calendar.last_period
    out = []
    while period_of(year, month) <= last:
        out.append(period_of(year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def delivery_lag(catalog: Catalog, submitted: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Lead departments whose monthly data is missing after its due date (one row per department × period).

    `submitted` has department, target_id, period, first_recorded_at (when a value for that target and
    period first arrived, from any department). A period is *missed* when something expected was not in
    by its due date; `consecutive_misses` counts missed periods in a row ending at this one, and the
    second consecutive miss is `escalated` (to the supervision office). Only periods still missing on
    `as_of` (as_of after the due date) produce rows. Columns: LAG_COLUMNS.
    """
    missing_cols = [c for c in SUBMITTED_COLUMNS if c not in submitted.columns]
    if missing_cols:
        raise ValueError(f"报送记录缺少列 {missing_cols} / submitted lacks columns {missing_cols}")
    arrived = submitted.assign(_on=local_dates(submitted["first_recorded_at"]))
    arrived = arrived[arrived["_on"].notna() & (arrived["_on"] <= pd.Timestamp(as_of))]
    first_in = arrived.groupby(["target_id", "period"])["_on"].min().to_dict()
    rows = []
    for slug in catalog.lead_department_slugs:
        n = catalog.department(slug).due_workday or catalog.calendar.due_workday
        targets = catalog.lead_targets(slug)
        streak = 0
        for period in calendar_periods(catalog):
            year, month = parse_period(period)
            expected = [t.id for t in targets if expected_in(t, month)]
            due = due_date(year, month, n)
            if not expected or as_of <= due:
                continue  # nothing due yet (or nothing expected this month): the streak is unchanged
            on = [first_in.get((tid, period)) for tid in expected]
            late = any(d is None or d.date() > due for d in on)
            streak = streak + 1 if late else 0
            missing = [tid for tid, d in zip(expected, on, strict=True) if d is None]
            if missing:
                rows.append({"department": slug, "period": period, "due_date": due,
                             "days_overdue": (as_of - due).days, "expected_targets": expected,
                             "missing_targets": missing, "consecutive_misses": streak,
                             "escalated": streak >= ESCALATE_AFTER})
    return pd.DataFrame(rows, columns=list(LAG_COLUMNS))


def progress_lag(status: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """Status rows behind their time-proportional schedule (yellow/red of linear, seasonal or budget
    methods), with the lead department named. Columns: PROGRESS_LAG_COLUMNS."""
    scheduled = status["method"].isin(["linear", "seasonal", "budget"])
    behind = status[status["light"].isin([YELLOW, RED]) & scheduled]
    lead = {t.id: t.lead_department for t in catalog.targets}
    out = behind.assign(department=behind["target_id"].map(lead))
    return out[list(PROGRESS_LAG_COLUMNS)].reset_index(drop=True)
