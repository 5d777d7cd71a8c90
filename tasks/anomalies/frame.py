"""The working frame of anomaly detection: one reported value per target × county × period, with its
neighbours in time (previous month, same month last year) and the quantities the detectors look at."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from expectations.models import Catalog, Kind
from tasks.evaluate.numbers import county_label, unit_label
from tasks.evaluate.series import prepare_observations


@dataclass(frozen=True)
class AnomalyConfig:
    """Detector thresholds (robust z on MAD; relative floors keep tiny absolute changes quiet)."""

    z_threshold: float = 3.5  # Iglewicz–Hoaglin: |modified z| > 3.5 is an outlier
    min_points: int = 5  # changes needed in a series before a jump can be judged
    min_peers: int = 5  # counties needed for a peer comparison
    level_rel_floor: float = 0.05  # a level must move ≥ 5% of its typical size
    increment_rel_floor: float = 0.5  # a monthly increment must be ≥ 50% off the typical increment
    yoy_rel: float = 0.5  # same month last year: ≥ 50% apart
    slip_tolerance: float = 0.1  # |log10(ratio) − k| for k in the slip powers of ten
    flat_months: int = 3  # the same value this many months in a row
    sum_rel_tolerance: float = 0.001  # county parts vs the prefecture total (rounding)


def anomaly_frame(history: pd.DataFrame, catalog: Catalog, as_of: dt.date) -> pd.DataFrame:
    """One row per target × county × period known on `as_of` (a ytd row preferred), milestones excluded.

    Added columns: kind, additive, x (float value), mi (month index), prev_x / prev_mi (previous reported
    month of the series), consecutive (previous is the month before), inc (monthly increment of a
    cumulative series, NaN when unknown), change (month-over-month change of a level series).
    """
    obs = prepare_observations(history, as_of)
    kinds = {t.id: t.kind.value for t in catalog.targets if t.kind != Kind.MILESTONE}
    obs = obs[obs["target_id"].isin(kinds)]
    obs = obs.assign(_ytd=(obs["basis"] == "ytd").astype(int)).sort_values(
        ["target_id", "county_code", "period", "_ytd"])
    obs = obs.drop_duplicates(["target_id", "county_code", "period"], keep="last").drop(columns="_ytd")
    additive = {t.id: t.additive for t in catalog.targets}
    frame = obs.assign(kind=obs["target_id"].map(kinds), additive=obs["target_id"].map(additive),
                       x=obs["value"].astype(float), mi=obs["year"] * 12 + obs["month"] - 1)
    frame = frame.reset_index(drop=True)
    by = frame.groupby(["target_id", "county_code"], sort=False)
    frame["prev_x"] = by["x"].shift(1)
    frame["prev_mi"] = by["mi"].shift(1)
    frame["prev_basis"] = by["basis"].shift(1)
    frame["consecutive"] = (frame["mi"] - frame["prev_mi"]) == 1
    cumulative = frame["kind"] == Kind.CUMULATIVE.value
    same_year = frame["consecutive"] & (frame["month"] > 1)
    from_ytd = frame["x"] - frame["prev_x"]
    inc = pd.Series(np.nan, index=frame.index)
    inc = inc.where(~(frame["basis"] == "month"), frame["x"])
    inc = inc.where(~((frame["basis"] == "ytd") & (frame["month"] == 1)), frame["x"])
    inc = inc.where(~((frame["basis"] == "ytd") & same_year & (frame["prev_basis"] == "ytd")), from_ytd)
    frame["inc"] = inc.where(cumulative)
    frame["change"] = from_ytd.where(~cumulative & frame["consecutive"])
    return frame


class Labels:
    """Names for messages: target, county and unit as a department head reads them."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._targets = {t.id: t for t in catalog.targets}

    def target_zh(self, target_id: str) -> str:
        return self._targets[target_id].name_zh

    def target_en(self, target_id: str) -> str:
        return self._targets[target_id].name_en

    def county_zh(self, code: str) -> str:
        return county_label(self.catalog, code)

    def unit(self, target_id: str) -> str:
        return unit_label(self.catalog, self._targets[target_id].unit)

    def subject(self, target_id: str, code: str) -> str:
        """'城镇新增就业（楚雄州）'."""
        return f"{self.target_zh(target_id)}（{self.county_zh(code)}）"
