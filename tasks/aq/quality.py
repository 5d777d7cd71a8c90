"""Quality checks on a canonical station feed, before anything is derived from it.

Severity follows the drop contract: what makes the file's meaning uncertain is critical (unknown stations,
conflicting duplicate station-hours, times in the future, a CO unit that cannot be right); single implausible
readings are set aside as invalid (NaN) with a warning that counts them, the way monitoring QA flags a reading
without discarding the day.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from tasks.aq.feed import AqFeed
from tasks.aq.frame import arrow_of, sample, within
from tasks.aq.grid import Grid, time_ticks
from tasks.aq.parsing import HOUR_NS
from tasks.aq.registry import StationRegistry
from tasks.contracts import Issue, Severity

DAY_NS = 24 * HOUR_NS
# Beyond any analyser's range (µg/m³; CO mg/m³): a value above is an instrument or unit error, not air.
# PM10 leaves room for dust storms, which drive hourly PM10 to several thousand µg/m³.
ABSURD_MAX: dict[str, float] = {"pm25": 2000, "pm10": 10000, "so2": 6000, "no2": 3000, "co": 150, "o3": 2000,
                                "o3_8h": 2000, "o3_1h": 2000}
# Median CO (mg/m³) outside this band means the declared unit is wrong by a factor of 1000.
CO_PLAUSIBLE_MEDIAN = (0.02, 20.0)
MAX_LISTED = 20  # issues listed one by one before the rest are only counted


def check_feed(feed: AqFeed, registry: StationRegistry, as_of: dt.date | None = None) -> tuple[AqFeed, list[Issue]]:
    """Validate a feed against the registry; return the feed fit for derivation and every issue found.

    Rows of unknown stations, of stations outside their validity dates and repeated exact duplicates are
    dropped; implausible readings become NaN. `as_of` (a Beijing date) makes readings after it an error.
    """
    frame = feed.frame
    issues: list[Issue] = []
    drops: list[np.ndarray] = []  # masks of rows to keep; none at all in the usual case (no 15M-row copies)
    codes = frame["station"].array.codes
    categories = list(frame["station"].cat.categories)
    known = {s.id for s in registry.stations}
    unknown = [code for code, sid in enumerate(categories) if sid not in known]
    if unknown:
        drops.append(~np.isin(codes, unknown))
        counts = np.bincount(codes, minlength=len(categories))
        for code in unknown[:MAX_LISTED]:
            sid = categories[code]
            issues.append(_issue(feed, Severity.CRITICAL, "unknown_station", int(np.argmax(codes == code)),
                                 "station", sid,
                                 f"站点 {sid!r} 不在站点名录中（{counts[code]} 行），请在 stations.yaml 中登记",
                                 f"station {sid!r} is not in the station registry ({counts[code]} rows); "
                                 "add it to stations.yaml"))
        if len(unknown) > MAX_LISTED:
            issues.append(Issue(Severity.CRITICAL, "unknown_station",
                                f"另有 {len(unknown) - MAX_LISTED} 个站点不在名录中",
                                f"{len(unknown) - MAX_LISTED} more stations are not in the registry"))
    step = HOUR_NS if feed.granularity == "hourly" else DAY_NS
    if feed.grid().off_grid:
        times, per_tick = time_ticks(frame)
        off_grid = times % (step // per_tick) != 0
        what = ("整点", "on the hour") if step == HOUR_NS else ("零点（日数据）", "at midnight (daily data)")
        issues.append(_issue(feed, Severity.CRITICAL, "time_off_grid", int(np.argmax(off_grid)), "time",
                             str(frame["time"].iloc[int(np.argmax(off_grid))]),
                             f"{int(off_grid.sum())} 个时间不在{what[0]}", f"{int(off_grid.sum())} times are not "
                             f"{what[1]}"))
    if as_of is not None and _latest(frame) >= np.datetime64(as_of + dt.timedelta(days=1)):
        times, per_tick = time_ticks(frame)
        future = times >= _ns(as_of + dt.timedelta(days=1)) // per_tick
        i = int(np.argmax(future))
        issues.append(_issue(feed, Severity.CRITICAL, "future_time", i, "time", str(frame["time"].iloc[i]),
                             f"{int(future.sum())} 条记录晚于截止日 {as_of}",
                             f"{int(future.sum())} readings are after the as-of date {as_of}"))
    if any(s.valid_from or s.valid_to for s in registry.stations):
        drops.append(_validity(feed, registry, codes, categories, issues))
    keep = np.logical_and.reduce(drops) if drops else None
    duplicates = _duplicates(feed, keep, issues)
    if duplicates is not None:
        keep = duplicates if keep is None else keep & duplicates
    unit_issues = _co_plausible(feed, sample(frame["co"], 200_000) if "co" in frame else None)
    issues += unit_issues
    fixed: dict[str, np.ndarray] = {}
    checked_columns = [c for c in frame.columns if c in ABSURD_MAX or c == "aqi"]
    for column in [c for c in checked_columns if not (c == "co" and unit_issues)]:
        top = 500 if column == "aqi" else ABSURD_MAX[column]
        if within(frame[column], 0, top):
            continue  # the usual case, settled without converting the column
        v = np.array(frame[column].to_numpy(), dtype=np.float64)  # a writable copy: values get set aside
        for bad, rule, zh, en in ((v < 0, "negative_value", "为负值", "are negative"),
                                  (v > top, "absurd_value", f"超过 {top}", f"exceed {top}")):
            if bad.any():
                i = int(np.argmax(bad))
                issues.append(_issue(feed, Severity.WARNING, rule, i, column, str(v[i]),
                                     f"{column} 有 {int(bad.sum())} 个值{zh}，已按无效数据处理",
                                     f"{int(bad.sum())} {column} values {en}; treated as invalid (missing)"))
                v[bad] = np.nan
        fixed[column] = v
    cleaned = frame.assign(**fixed) if fixed else frame
    grid = None if feed.grid().off_grid else feed.grid()
    if keep is not None and not keep.all():
        cleaned = cleaned[keep]
        grid = None if grid is None else Grid(grid.first, grid.n_slots, grid.step, grid.position[keep],
                                              increasing=grid.increasing, stations=grid.stations)
    return AqFeed(cleaned, feed.granularity, feed.co_unit, feed.segments, grid), issues


def _latest(frame: pd.DataFrame) -> np.datetime64:
    data = arrow_of(frame["time"])
    if data is not None:
        latest = pc.max(data).as_py()
        return np.datetime64(latest) if latest is not None else np.datetime64("NaT")
    times = frame["time"].to_numpy()
    return times.max() if len(times) else np.datetime64("NaT")


def _validity(feed: AqFeed, registry: StationRegistry, codes: np.ndarray, categories: list[str],
              issues: list[Issue]) -> np.ndarray:
    times, per_tick = time_ticks(feed.frame)
    lo = np.full(len(categories) + 1, np.iinfo(np.int64).min, dtype=np.int64)
    hi = np.full(len(categories) + 1, np.iinfo(np.int64).max, dtype=np.int64)
    for code, sid in enumerate(categories):
        station = registry.station(sid)
        if station and station.valid_from:
            lo[code] = _ns(station.valid_from) // per_tick
        if station and station.valid_to:
            hi[code] = _ns(station.valid_to + dt.timedelta(days=1)) // per_tick
    outside = (times < lo[codes]) | (times >= hi[codes])
    for code in np.unique(codes[outside]):
        rows = outside & (codes == code)
        sid = categories[code]
        issues.append(_issue(feed, Severity.WARNING, "station_not_valid", int(np.argmax(rows)), "station", sid,
                             f"站点 {sid} 有 {int(rows.sum())} 条记录在名录有效期之外，未计入",
                             f"{int(rows.sum())} readings of station {sid} fall outside its registry validity "
                             "dates; left out"))
    return ~outside


def _duplicates(feed: AqFeed, keep: np.ndarray | None, issues: list[Issue]) -> np.ndarray | None:
    """Rows to keep after repeated station-times (None: no repeats); conflicting repeats are critical."""
    if feed.grid().increasing:
        return None  # sorted by station and time, as feeds usually are: no repeats
    key = feed.grid().position
    if len(key) == 0:
        return None
    counts = np.bincount(key if keep is None else key[keep], minlength=int(key.max()) + 1)
    if counts.max() <= 1:
        return None
    repeated = counts[key] > 1 if keep is None else keep & (counts[key] > 1)
    frame = feed.frame
    sub = frame[repeated].assign(_key=key[repeated])
    values = [c for c in frame.columns if c not in ("station", "time")]
    variants = sub.drop_duplicates(["_key", *values]).groupby("_key").size()
    conflicting = set(variants[variants > 1].index)
    positions = np.flatnonzero(repeated)
    first_seen = ~pd.Series(key[repeated]).duplicated().to_numpy()
    drop = np.ones(len(key), dtype=bool)
    drop[positions[~first_seen]] = False
    listed = 0
    for pos, k in zip(positions[first_seen], key[repeated][first_seen], strict=True):
        if k in conflicting and listed < MAX_LISTED:
            listed += 1
            sid, when = str(frame["station"].iloc[pos]), str(frame["time"].iloc[pos])
            issues.append(_issue(feed, Severity.CRITICAL, "duplicate_conflict", int(pos), "time", when,
                                 f"站点 {sid} 在 {when} 有多条数值不同的记录，请只保留正确的一条",
                                 f"station {sid} has several different readings for {when}; keep the right one"))
    if len(conflicting) > listed:
        issues.append(Issue(Severity.CRITICAL, "duplicate_conflict", f"另有 {len(conflicting) - listed} 个重复时次",
                            f"{len(conflicting) - listed} more conflicting station-times"))
    extra = ~first_seen & ~np.isin(key[repeated], list(conflicting))
    exact = int(extra.sum())
    if exact > 0:
        i = int(positions[extra][0])
        issues.append(_issue(feed, Severity.WARNING, "duplicate_exact", i, "time", str(frame["time"].iloc[i]),
                             f"{exact} 条完全重复的记录已去重", f"{exact} exact duplicate rows were dropped"))
    return drop


def _co_plausible(feed: AqFeed, co: np.ndarray | None) -> list[Issue]:
    # `co` is a regular sample of the column: plenty for a factor-of-1000 question.
    if co is None:
        return []
    positive = co[co > 0]
    if positive.size < 24:
        return []
    median = float(np.median(positive))
    lo, hi = CO_PLAUSIBLE_MEDIAN
    if lo <= median <= hi:
        return []
    declared = "mg/m3" if feed.co_unit == "mg/m3" else "µg/m³"
    likely = "µg/m³" if median > hi else "mg/m³"
    return [Issue(Severity.CRITICAL, "co_unit_implausible",
                  f"CO 声明单位为 {declared}，但中位数折合 {median:g} mg/m³，不合常理，"
                  f"单位可能实为 {likely}；请核实后重新声明",
                  f"CO is declared in {declared} but its median is {median:g} mg/m³, which is implausible; the "
                  f"values look like {likely}. Check and declare the right unit", column="co")]


def _ns(day: dt.date) -> int:
    return int(np.datetime64(day, "ns").astype(np.int64))


def _issue(feed: AqFeed, severity: Severity, code: str, position: int, column: str, value: str | None,
           zh: str, en: str) -> Issue:
    label = feed.frame.index[position] if position < len(feed.frame) else position
    sheet, row = feed.locate(int(label))
    return Issue(severity, code, zh, en, sheet=sheet, row=row, column=column, value=value)
