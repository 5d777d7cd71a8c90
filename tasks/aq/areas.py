"""County and prefecture (city) daily values from their stations.

Per HJ 633-2012 a city's AQI is computed from the stations' mean concentrations, not by averaging AQIs: for
each pollutant and day the area value is the arithmetic mean of its assessed stations' valid (rounded,
published) daily values; the mean is rounded again and indexed like a station's. An area-day is valid when
every assessed pollutant has at least one valid station value that day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.aq import standard
from tasks.aq.daily import score
from tasks.aq.registry import StationRegistry


def area_days(scored_station_days: pd.DataFrame, registry: StationRegistry,
              include_o3_1h: bool = True) -> pd.DataFrame:
    """Daily values per area: each county of the registry, and the prefecture (all assessed stations).

    Input: `score(station_days(...))`. Output columns: area (code, str), date, the pollutant columns (rounded),
    `stations` (stations with a valid PM2.5 that day), and the columns `score` adds (valid, aqi, level, …).
    Stations flagged `assess: false` (background/transport stations) are not counted.
    """
    days = scored_station_days
    areas = registry.area_codes
    index = {code: i for i, code in enumerate(areas)}
    county_of = {s.id: index[s.county_code] for s in registry.stations if s.assess}
    # Area of every station code, looked up once per station rather than once per row.
    station_area = np.array([county_of.get(str(sid), -1) for sid in days["station"].cat.categories] + [-1])
    row_area = station_area[days["station"].array.codes]
    assessed = row_area >= 0
    pollutants = list(standard.DAILY_POLLUTANTS)
    everyone = bool(assessed.all())  # the usual case: no row to set aside, no copies
    row_area = row_area if everyone else row_area[assessed]
    dates = days["date"].to_numpy() if everyone else days["date"].to_numpy()[assessed]
    values = {p: days[p].to_numpy() if everyone else days[p].to_numpy()[assessed] for p in pollutants}
    prefecture = index.get(registry.prefecture_code or "", -1)
    county_rows = row_area != prefecture
    # Rows of each level: a mask, or None for all of them (no copy through a mask in the usual case).
    parts: list[tuple[np.ndarray, np.ndarray | None]] = [
        (row_area, None) if county_rows.all() else (row_area[county_rows], county_rows)]
    if prefecture >= 0:  # the city level averages every assessed station
        parts.append((np.full(len(row_area), prefecture, dtype=row_area.dtype), None))

    def stack(column: np.ndarray) -> np.ndarray:
        return np.concatenate([column if mask is None else column[mask] for _, mask in parts])

    stacked = pd.DataFrame({
        "area": pd.Categorical.from_codes(np.concatenate([a for a, _ in parts]), categories=areas),
        "date": stack(dates),
        **{p: stack(values[p]) for p in pollutants},
    }, copy=False)
    grouped = stacked.groupby(["area", "date"], sort=True, observed=True)
    means = grouped[pollutants].mean()
    means["stations"] = grouped["pm25"].count().astype(np.int32)
    result = score(means.reset_index(), include_o3_1h=include_o3_1h)
    result["area"] = result["area"].astype(str)
    return result
