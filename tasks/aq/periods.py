"""Monthly, yearly and year-to-date statistics of area-days, and the observations they become.

Good-days ratio (优良天数比例) = days with AQI ≤ 100 / valid days × 100, exact Decimal rounded half-even to
`places` decimals. Mean PM2.5 = mean of the area's valid daily PM2.5 values (published, rounded) over the
period (GB 3095-2012: a monthly mean wants ≥ 27 daily values, ≥ 25 in February; an annual one ≥ 324: the count
is kept so a reader can judge). A period without valid days has no value (None), never 0.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pandas as pd

from tasks.aq import standard
from tasks.contracts import NORMALIZED_COLUMNS

GOOD_DAYS_TARGET = "ecology.air_quality_good_days_ratio"
PM25_TARGET = "ecology.pm25_concentration"
METHOD = "HJ 633-2012 / GB 3095-2012 / HJ 663-2013"
_COUNTS = ["valid_days", "good_days", "heavy_days", "pm25_days", "pm25_sum"]


def _flags(area_days: pd.DataFrame) -> pd.DataFrame:
    d = area_days
    aqi = d["aqi"].to_numpy()
    valid = d["valid"].to_numpy(dtype=bool)
    pm25 = d["pm25"].to_numpy()
    return pd.DataFrame({
        "area": d["area"].astype(str).to_numpy(),
        "year": d["date"].dt.year.to_numpy(),
        "month": d["date"].dt.month.to_numpy(),
        "valid_days": valid.astype(np.int64),
        "good_days": (valid & (aqi <= standard.GOOD_MAX)).astype(np.int64),
        "heavy_days": (valid & (aqi > standard.HEAVY_MIN)).astype(np.int64),
        "pm25_days": (~np.isnan(pm25)).astype(np.int64),
        "pm25_sum": np.nan_to_num(pm25).astype(np.int64),  # published daily PM2.5 are integers: exact sums
    })


def summarize(area_days: pd.DataFrame, places: int = 1) -> pd.DataFrame:
    """Per area and year, one row per month plus one for the whole year (month <NA>).

    Columns: area, year, month, valid_days, good_days, good_ratio_pct (Decimal | None), pm25_mean (Decimal |
    None), heavy_days (AQI > 200), pm25_days.
    """
    flags = _flags(area_days)
    monthly = flags.groupby(["area", "year", "month"], sort=True)[_COUNTS].sum().reset_index()
    yearly = flags.groupby(["area", "year"], sort=True)[_COUNTS].sum().reset_index().assign(month=pd.NA)
    rows = pd.concat([monthly, yearly], ignore_index=True)
    rows["month"] = rows["month"].astype("Int64")
    rows = rows.sort_values(["area", "year", "month"], na_position="last", kind="stable").reset_index(drop=True)
    return _finish(rows, places)


def year_to_date(area_days: pd.DataFrame, places: int = 1) -> pd.DataFrame:
    """Per area and month: the year-to-date totals from January of that year through the month."""
    flags = _flags(area_days)
    monthly = flags.groupby(["area", "year", "month"], sort=True)[_COUNTS].sum()
    cumulative = monthly.groupby(level=["area", "year"]).cumsum().reset_index()
    cumulative["month"] = cumulative["month"].astype("Int64")
    return _finish(cumulative, places)


def _finish(rows: pd.DataFrame, places: int) -> pd.DataFrame:
    quantum = Decimal(1).scaleb(-places)
    # A handful of rows per area and month: exact Decimal arithmetic row by row is cheap here.
    rows["good_ratio_pct"] = [
        (Decimal(100 * g) / Decimal(v)).quantize(quantum, ROUND_HALF_EVEN) if v else None
        for g, v in zip(rows["good_days"], rows["valid_days"], strict=True)]
    rows["pm25_mean"] = [
        (Decimal(int(s)) / Decimal(int(n))).quantize(quantum, ROUND_HALF_EVEN) if n else None
        for s, n in zip(rows["pm25_sum"], rows["pm25_days"], strict=True)]
    return rows[["area", "year", "month", "valid_days", "good_days", "good_ratio_pct", "pm25_mean", "heavy_days",
                 "pm25_days"]]


def to_observations(area_days: pd.DataFrame, drop_sha256: str | None = None, source: str = "",
                    places: int = 1) -> pd.DataFrame:
    """Observations for the catalog's air targets, one per area × month × basis (month and ytd).

    Targets: `ecology.air_quality_good_days_ratio` (percent) and `ecology.pm25_concentration` (ug_m3). Status
    provisional; the note carries the lineage (method, counts, the drop's sha256 and file) in `key=value; …`
    form, also kept in `frame.attrs["lineage"]`.
    """
    parts = [(year_to_date(area_days, places), "ytd"),
             (summarize(area_days, places).dropna(subset=["month"]), "month")]
    records = []
    for table, basis in parts:
        for row in table.itertuples(index=False):
            period = f"{int(row.year):04d}-{int(row.month):02d}"
            lineage = (f"method={METHOD}; drop_sha256={drop_sha256 or 'unknown'}; source={source}; "
                       f"valid_days={row.valid_days}; good_days={row.good_days}; pm25_days={row.pm25_days}")
            for target, value, unit in ((GOOD_DAYS_TARGET, row.good_ratio_pct, "percent"),
                                        (PM25_TARGET, row.pm25_mean, "ug_m3")):
                if value is not None:
                    records.append((target, row.area, period, value, unit, basis, "provisional", lineage, "",
                                    None))
    frame = pd.DataFrame.from_records(records, columns=list(NORMALIZED_COLUMNS))
    frame["value"] = frame["value"].astype(object)
    frame["source_row"] = frame["source_row"].astype(object)
    frame.attrs["lineage"] = {"drop_sha256": drop_sha256, "source": source, "method": METHOD}
    return frame
