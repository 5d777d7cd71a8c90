"""Station-day values: 24-hour means, the O3 daily maxima, validity, IAQI and AQI.

Hourly readings are scattered into dense station × hour arrays (one pollutant at a time, so memory stays at a
few bytes per reading), and every statistic is a numpy reduction over the hour axis: no per-row Python.

Conventions (see tasks/aq/standard.py for the sources):

- a reading at time t averages [t, t+1h); a calendar day is 00:00-24:00 Beijing time (HJ 633's "当日零点前24小时");
- 24-hour mean: mean of the day's valid hours, valid with at least 20 of them;
- O3 8-hour mean ending at hour e: mean of the valid hours in [e-8h, e), valid with at least 6 of them. The
  running series (`o3_running_8h`) crosses midnight like any sliding mean, but the daily maximum only uses the 17
  windows ending 08:00 … 24:00 of the day, which lie inside the day: last evening's hours never count towards
  today (HJ 663-2013 "一个自然日内8时至24时的所有8小时滑动平均浓度中的最大值"). It is valid with at least 14
  valid windows, or with fewer when it already exceeds 160 µg/m³;
- O3 daily maximum 1-hour: the highest valid hour (a lower bound of the truth when hours are missing, so it never
  overstates the AQI);
- a station-day is valid when SO2, NO2, PM10, CO, PM2.5 and O3 8-hour all are; its AQI is then the maximum IAQI
  of the seven daily indicators (HJ 633 §5.1), concentrations rounded half-even first.
"""

from __future__ import annotations

import os
import queue
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from tasks.aq import standard
from tasks.aq.feed import AqFeed
from tasks.aq.frame import is_float32, pieces, rows
from tasks.aq.parsing import HOUR_NS

DAY_NS = 24 * HOUR_NS
MEANS_24H: tuple[str, ...] = ("so2", "no2", "pm10", "co", "pm25")


def o3_running_8h(hourly: np.ndarray) -> np.ndarray:
    """8-hour running means of consecutive hourly O3 (last axis = hours); element i is the window ending after
    hour i (hours i-7 … i). NaN for the first 7 hours and where fewer than 6 of the 8 hours are valid."""
    x = np.asarray(hourly, dtype=np.float64)
    out = np.full(x.shape, np.nan)
    out[..., 7:] = _windows_8h(x)
    return out


def o3_daily(hourly: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """O3 daily statistics from hourly values shaped (..., days*24) starting at 00:00 of the first day.

    Returns (daily max 8-hour mean, number of valid 8-hour windows, daily max 1-hour, valid hours), each shaped
    (..., days); the two counts are int8. The max 8-hour is NaN unless valid (≥ 14 windows, or fewer but above
    160 µg/m³).
    """
    by_hour, shape = _hours_first(hourly)
    max_1h = np.fmax.reduce(by_hour, axis=0)
    missing = np.isnan(by_hour)
    np.copyto(by_hour, 0.0, where=missing)  # missing hours add nothing to a window's sum
    flags = (~missing).view(np.int8)
    # The windows ending 08:00 … 24:00 of a day start at hours 0 … 16 of that same day, so each day is summed
    # on its own, the 17 windows at once, hour row by hour row (left to right: the same float64 sums always).
    starts = standard.O3_WINDOW_STARTS
    window_sums = by_hour[:starts].copy()
    for shift in range(1, 8):  # eight whole-row additions per window set
        window_sums += by_hour[shift:shift + starts]
    window_counts = flags[:starts].copy()
    for shift in range(1, 8):  # eight whole-row int8 additions
        window_counts += flags[shift:shift + starts]
    valid_window = window_counts >= standard.MIN_HOURS_8H
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.divide(window_sums, window_counts, out=window_sums)
    np.copyto(means, np.nan, where=~valid_window)
    windows = np.add.reduce(valid_window.view(np.int8), axis=0, dtype=np.int8)
    best = np.fmax.reduce(means, axis=0)
    valid = (windows >= standard.MIN_WINDOWS_O3_8H) | (best > standard.O3_8H_LIMIT)
    return (np.where(valid, best, np.nan).reshape(shape), windows.reshape(shape), max_1h.reshape(shape),
            np.add.reduce(flags, axis=0, dtype=np.int8).reshape(shape))


def _hours_first(hourly: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    # (..., days*24) → (24, everything else) in float64 and the (..., days) shape of daily results: reductions
    # over the hours then run along the first axis, as whole-row vector operations instead of one tiny loop per
    # day. One pass transposes and widens (float32 → float64 is exact), so sums are float64 whatever the input.
    x = np.asarray(hourly)
    shape = (*x.shape[:-1], x.shape[-1] // 24)
    by_hour = np.empty((24, x.size // 24))
    by_hour[...] = x.reshape(-1, 24).T
    return by_hour, shape


def _windows_8h(x: np.ndarray) -> np.ndarray:
    # Means of every 8 consecutive hours (n-7 of them), NaN with fewer than 6 valid: prefix sums of values (NaN
    # as 0) and of valid counts make each window one subtraction. Integer-valued inputs stay exact in float64.
    ok = ~np.isnan(x)
    sums = np.zeros((*x.shape[:-1], x.shape[-1] + 1))
    counts = np.zeros((*x.shape[:-1], x.shape[-1] + 1), dtype=np.int32)
    np.cumsum(np.where(ok, x, 0.0), axis=-1, out=sums[..., 1:])
    np.cumsum(ok, axis=-1, out=counts[..., 1:])
    n = counts[..., 8:] - counts[..., :-8]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n >= standard.MIN_HOURS_8H, (sums[..., 8:] - sums[..., :-8]) / n, np.nan)


def mean_24h(hourly: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """24-hour means of hourly values shaped (..., days*24): (means, NaN unless ≥ 20 valid hours; valid hours as
    int8)."""
    by_hour, shape = _hours_first(hourly)
    missing = np.isnan(by_hour)
    np.copyto(by_hour, 0.0, where=missing)
    n = 24 - np.add.reduce(missing.view(np.int8), axis=0, dtype=np.int8)
    total = by_hour.sum(axis=0)  # hour rows added in order, in float64
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n >= standard.MIN_HOURS_24H, total / n, np.nan).reshape(shape), n.reshape(shape)


def station_days(feed: AqFeed, block: int = 16) -> pd.DataFrame:
    """Daily concentrations per station and Beijing calendar day that has any reading (rows by station, in the
    order stations first appear in the feed, then by date).

    Columns: station, date (datetime64[ns] at 00:00), so2 no2 pm10 co pm25 (24-hour means), o3_8h, o3_1h, each
    NaN where not valid; for hourly feeds also `<pollutant>_n` (valid hours; `o3_8h_n` = valid 8-hour windows).
    Unrounded; `score` rounds them. Hourly data is reduced `block` stations at a time, so the temporaries of a
    block stay in the CPU cache (a few hundred kB): larger blocks run several times slower per reading.
    """
    frame = feed.frame
    if feed.granularity == "daily":
        days = frame.rename(columns={"time": "date"})
        if "o3_1h" not in days.columns:
            days = days.assign(o3_1h=np.nan)
        days = days[["station", "date", *MEANS_24H, "o3_8h", "o3_1h"]].reset_index(drop=True)
        values = {p: _unfloat32(np.asarray(days[p].to_numpy(), dtype=np.float64), is_float32(frame[p]), p)
                  for p in (*MEANS_24H, "o3_8h", "o3_1h") if p in frame.columns}
        return days.assign(date=np.asarray(days["date"].to_numpy(), dtype="datetime64[ns]"), **values)
    categories = frame["station"].cat.categories
    grid = feed.grid()
    first, n_hours = grid.first, grid.n_slots
    slot = None if grid.complete else grid.position
    n_st, n_days = len(categories), n_hours // 24
    # Pollutants are reduced in parallel threads (numpy and Arrow release the GIL). A feed that is the complete
    # station × hour grid in order is read block by block straight from its column; any other is first
    # scattered, chunk by chunk, into a dense buffer of the thread's own.
    workers = max(1, min(2, os.cpu_count() or 1))
    buffers: queue.SimpleQueue[np.ndarray] = queue.SimpleQueue()
    for _ in range(workers):
        buffers.put(np.empty((n_st, n_hours) if not grid.complete else (0, 0)))

    def reduce(p: str) -> dict[str, np.ndarray]:
        buffer, column = buffers.get(), frame[p]
        try:
            if slot is not None:  # not the complete grid: scatter
                buffer.fill(np.nan)
                start = 0
                for piece in pieces(column):
                    buffer.ravel()[slot[start:start + len(piece)]] = piece
                    start += len(piece)
            names = (p, f"{p}_n") if p != "o3" else ("o3_8h", "o3_8h_n", "o3_1h", "o3_n")
            reducer = mean_24h if p != "o3" else o3_daily
            results = [np.empty((n_st, n_days), dtype=np.int16 if name.endswith("_n") else np.float64)
                       for name in names]
            float32_source = is_float32(column)
            for lo in range(0, n_st, block):
                hi = min(lo + block, n_st)
                hourly = buffer[lo:hi] if not grid.complete else \
                    rows(column, lo * n_hours, hi * n_hours).reshape(hi - lo, n_hours)
                for name, target, value in zip(names, results, reducer(hourly), strict=True):
                    target[lo:hi] = value if name.endswith("_n") else _unfloat32(value, float32_source, name)
        finally:
            buffers.put(buffer)
        return dict(zip(names, results, strict=True))

    out: dict[str, np.ndarray] = {}
    with ThreadPoolExecutor(workers) as pool:
        for part in pool.map(reduce, ("o3", *MEANS_24H)):
            out.update(part)
    seen = sum(out[f"{p}_n"] for p in (*MEANS_24H, "o3"))
    has = np.asarray(seen).ravel() > 0

    def present(values: np.ndarray) -> np.ndarray:  # the station-days with any reading (usually all of them)
        return values.ravel() if everything else values.ravel()[has]

    everything = bool(has.all())
    dates = (first * HOUR_NS + np.arange(n_days, dtype=np.int64) * DAY_NS).view("datetime64[ns]")
    code_dtype = np.int16 if n_st < 32_000 else np.int32
    data: dict[str, object] = {
        "station": pd.Categorical.from_codes(present(np.repeat(np.arange(n_st, dtype=code_dtype), n_days)),
                                             categories=categories),
        "date": present(np.tile(dates, n_st)),
    }
    for p in (*MEANS_24H, "o3_8h", "o3_1h"):
        data[p] = present(out[p])
    for p in (*MEANS_24H, "o3_8h", "o3"):
        data[f"{p}_n"] = present(out[f"{p}_n"])
    return pd.DataFrame(data, copy=False)


def score(days: pd.DataFrame, include_o3_1h: bool = True) -> pd.DataFrame:
    """Add rounded concentrations, IAQIs, validity, AQI, level and primary pollutant to daily values.

    The concentration columns are replaced by their rounded, published form (µg/m³ integers, CO mg/m³ to one
    decimal). New columns: `<p>_iaqi`, `valid` (all six assessed pollutants valid), `aqi` (NaN unless valid),
    `level` (1 优 … 6 严重污染, 0 = no AQI), `primary` (首要污染物, "" when AQI ≤ 50 or no AQI).
    """
    rounded = {p: standard.round_concentration(days[p].to_numpy(), p) for p in standard.DAILY_POLLUTANTS}
    iaqis, aqi = standard.daily_aqi(rounded, include_o3_1h=include_o3_1h)
    valid = np.logical_and.reduce([~np.isnan(rounded[p]) for p in standard.REQUIRED_DAILY])
    aqi = np.where(valid, aqi, np.nan)
    added: dict[str, object] = {p: rounded[p] / standard.SCALE[p] for p in standard.DAILY_POLLUTANTS}
    added.update({f"{p}_iaqi": v for p, v in iaqis.items()})
    added.update(valid=valid, aqi=aqi, level=standard.category(aqi),
                 primary=standard.primary_pollutants(iaqis, aqi))
    # A new frame over the same column arrays: `assign` would copy every existing column.
    columns = {c: added.pop(c) if c in added else days[c].array for c in days.columns}
    return pd.DataFrame({**columns, **added}, copy=False)


def _unfloat32(values: np.ndarray, float32_source: bool, pollutant: str) -> np.ndarray:
    # A float32 source holds 0.3 as 0.30000001: put statistics that sit on a rounding half back on it, so
    # the compact float32 copy of a feed rounds exactly like its decimal original.
    return standard.snap_halves(values, pollutant, 2.5e-7) if float32_source else values
