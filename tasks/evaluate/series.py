"""From the observation frame to per-series views: what was known on `as_of`, and year-to-date by month.

Observations are current values: columns target_id, county_code, period ("YYYY-MM"), value (Decimal or
float), basis ("ytd" 累计 / "month" 当月), source_sha256, source_name, department, recorded_at.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd

from tasks.evaluate.numbers import period_of, to_decimal

OBSERVATION_COLUMNS: tuple[str, ...] = ("target_id", "county_code", "period", "value", "basis")
OPTIONAL_COLUMNS: tuple[str, ...] = ("source_sha256", "source_name", "department", "recorded_at")


def prepare_observations(observations: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Observations known on `as_of`, with Decimal values and integer year/month columns.

    Rows recorded after `as_of` (end of that day) or for a period after as_of's month are dropped, as are rows
    without a value (a missing value is never 0). When several rows share target × county × period × basis the
    most recently recorded one wins (a revision supersedes). Raises ValueError naming missing columns.
    """
    missing = [c for c in OBSERVATION_COLUMNS if c not in observations.columns]
    if missing and observations.empty:
        observations = pd.DataFrame({c: pd.Series(dtype=object) for c in OBSERVATION_COLUMNS})
    elif missing:
        raise ValueError(f"观测数据缺少列 {missing} / observations lack columns {missing}")
    frame = observations.copy()
    for col in OPTIONAL_COLUMNS:
        if col not in frame.columns:
            frame[col] = None
    frame["value"] = frame["value"].map(to_decimal).astype(object)
    frame = frame[frame["value"].notna()]
    periods = frame["period"].astype(str)
    bad = ~periods.str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])")
    if bad.any():
        bad_values = sorted(periods[bad].unique())[:5]
        raise ValueError(f"期别应为 YYYY-MM / period must be YYYY-MM, got {bad_values}")
    frame["period"] = periods
    frame["year"] = periods.str.slice(0, 4).astype(int)
    frame["month"] = periods.str.slice(5, 7).astype(int)
    frame["basis"] = frame["basis"].fillna("ytd").astype(str)
    odd = sorted(set(frame["basis"]) - {"ytd", "month"})
    if odd:
        raise ValueError(f"口径应为 ytd（累计）或 month（当月）/ basis must be ytd or month, got {odd[:5]}")
    recorded = local_dates(frame["recorded_at"])
    known = recorded.isna() | (recorded <= pd.Timestamp(as_of))
    frame = frame[known & (frame["period"] <= period_of(as_of.year, as_of.month))]
    frame = frame.assign(_rec=recorded[frame.index]).sort_values("_rec", na_position="first", kind="stable")
    frame = frame.drop_duplicates(["target_id", "county_code", "period", "basis"], keep="last")
    frame = frame.drop(columns="_rec").sort_values(["target_id", "county_code", "period"])
    return frame.reset_index(drop=True)


def local_dates(column: pd.Series) -> pd.Series:
    """Timestamps as midnight of their local (Asia/Shanghai) date; aware stamps are converted, naive ones
    are taken as local already. Unparseable or missing values become NaT."""
    if column.isna().all():
        return pd.Series(pd.NaT, index=column.index, dtype="datetime64[ns]")
    stamps = pd.to_datetime(column, errors="coerce", utc=True)
    if isinstance(column.dtype, pd.DatetimeTZDtype) or _has_tz(column):
        local = stamps.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    else:
        local = stamps.dt.tz_localize(None)  # naive stamps are taken as local time already
    return local.dt.normalize()


def _has_tz(column: pd.Series) -> bool:
    first = column.dropna()
    return bool(len(first)) and getattr(first.iloc[0], "tzinfo", None) is not None


@dataclass
class Points:
    """One target × county series as plain dicts: value per (year, month, basis), and the source row
    (period, value, source_name, source_sha256, recorded_at) of each value, for evidence."""

    values: dict[tuple[int, int, str], Decimal] = field(default_factory=dict)
    sources: dict[tuple[int, int, str], dict[str, Any]] = field(default_factory=dict)

    def records(self, year: int) -> list[dict[str, Any]]:
        """Source rows of `year`, oldest period first."""
        return [self.sources[k] for k in sorted(self.sources) if k[0] == year]


def group_points(obs: pd.DataFrame) -> dict[tuple[str, str], Points]:
    """Prepared observations (see prepare_observations) → Points per (target_id, county_code).

    One pass over the columns; every later per-series question is a dict lookup, not a DataFrame filter.
    """
    out: dict[tuple[str, str], Points] = {}
    columns = [obs[c].tolist() for c in ("target_id", "county_code", "year", "month", "basis", "value",
                                         "period", "source_name", "source_sha256", "recorded_at")]
    for tid, code, year, month, basis, value, period, name, sha, recorded in zip(*columns, strict=True):
        points = out.setdefault((tid, code), Points())
        key = (int(year), int(month), basis)
        points.values[key] = value
        points.sources[key] = {"period": period, "value": value, "source_name": name, "source_sha256": sha,
                               "recorded_at": recorded}
    return out


def ytd_by_month(points: Points, year: int, first_month: int = 1) -> dict[int, Decimal]:
    """Year-to-date value per month of `year` for one series.

    Reported 累计 (ytd) values are taken as given; 当月 (month) values are summed from `first_month` (the
    reporting calendar's first month) while the months are contiguous, re-anchoring on any reported ytd
    value. A gap in the months stops the derivation: a missing month is unknown, never zero.
    """
    ytd = month_values(points, year, "ytd")
    monthly = month_values(points, year, "month")
    if not monthly:
        return ytd
    running: Decimal | None = Decimal(0)
    out = dict(ytd)
    for month in range(1, 13):
        if month in ytd:
            running = ytd[month]
        elif month in monthly and running is not None:
            running = running + monthly[month]
            out[month] = running
        elif month >= first_month:
            running = None  # an expected month is missing: later sums would be wrong
    return dict(sorted(out.items()))


def month_values(points: Points, year: int, basis: str) -> dict[int, Decimal]:
    """Reported values of one basis per month of `year`, in month order."""
    return {m: v for (y, m, b), v in sorted(points.values.items()) if y == year and b == basis}


def latest_month(points: Points, year: int) -> int | None:
    """The latest month of `year` with any reported value."""
    months = [m for (y, m, _b) in points.values if y == year]
    return max(months) if months else None
