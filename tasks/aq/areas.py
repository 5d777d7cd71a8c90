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
    county_of = {s.id: s.county_code for s in registry.stations if s.assess}
    days = scored_station_days
    county = days["station"].astype("object").map(county_of)
    assessed = county.notna().to_numpy()
    pollutants = list(standard.DAILY_POLLUTANTS)
    base = days.loc[assessed, ["date", *pollutants]].assign(area=county[assessed].to_numpy())
    prefecture = registry.prefecture_code
    levels = [base[base["area"] != prefecture]] if prefecture else [base]
    if prefecture:
        levels.append(base.assign(area=prefecture))  # the city level averages every assessed station
    stacked = pd.concat(levels, ignore_index=True)
    grouped = stacked.groupby(["area", "date"], sort=True, observed=True)
    means = grouped[pollutants].mean()
    means["stations"] = grouped["pm25"].count().astype(np.int32)
    result = score(means.reset_index(), include_o3_1h=include_o3_1h)
    result["area"] = result["area"].astype(str)
    return result
