"""The working frame of anomaly detection: one reported value per target × county × period, with its
neighbours in time (previous month, same month last year) and the quantities the detectors look at."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from expectations.models import Catalog, Comparator, Kind
from tasks.evaluate.compare import series_target_value
from tasks.evaluate.numbers import county_label, unit_label
from tasks.evaluate.series import prepare_observations


@dataclass(frozen=True)
class AnomalyConfig:
    """Detector thresholds: a robust z on MAD says "unusual for this series", and floors on the absolute size
    say "big enough to matter" — a near-constant series has a MAD of ~0, so without a floor any wiggle of
    0.1 would score as extreme. Floors are measured against the target's scale (its value for the county)
    and the series' own level; a change must exceed every floor that applies."""

    z_threshold: float = 3.5  # Iglewicz–Hoaglin: |modified z| > 3.5 is an outlier
    min_history: int = 4  # earlier month-over-month changes needed before a change can be judged a jump
    min_peers: int = 5  # counties needed for a peer comparison
    level_rel_floor: float = 0.05  # a level must move more than 5% of its typical size …
    level_target_share: float = 0.1  # … more than 10% of its target value …
    percent_point_floor: float = 1.0  # … and, in percent, more than 1 percentage point
    increment_rel_floor: float = 0.5  # a monthly increment must be > 50% off the typical increment …
    increment_target_share: float = 0.2  # … and off by more than 20% of the year's target (or pace)
    yoy_rel: float = 0.5  # same month last year: ≥ 50% apart (and past the floors above)
    slip_tolerance: float = 0.1  # |log10(ratio) − k| for k in the slip powers of ten
    flat_months: int = 3  # a year-to-date total that stops moving this many months in a row
    flat_level_months: int = 4  # a level copied forward exactly this many months in a row …
    flat_level_decimals: int = 2  # … written with at least this many decimals (97.23) …
    flat_level_digits: int = 5  # … or this many significant digits (1805123): identical by chance is unlikely
    sum_rel_tolerance: float = 0.001  # county parts vs the prefecture total (rounding)


def anomaly_frame(history: pd.DataFrame, catalog: Catalog, as_of: dt.date) -> pd.DataFrame:
    """One row per target × county × period known on `as_of` (a ytd row preferred), milestones excluded.

    Added columns: kind, additive, x (float value), mi (month index), prev_x / prev_mi (previous reported
    month of the series), consecutive (previous is the month before), inc (monthly increment of a
    cumulative series, NaN when unknown), change (month-over-month change of a level series), goal (the
    series' target value as float, NaN when the plan sets none for it), percent (the unit is %), ceiling
    (the comparator is ≤ / <).
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
    frame = frame.merge(_series_goals(frame, catalog), on=["target_id", "county_code"], how="left")
    targets = {t.id: t for t in catalog.targets}
    frame["percent"] = frame["target_id"].map({t: v.unit == "percent" for t, v in targets.items()}).astype(bool)
    frame["ceiling"] = frame["target_id"].map(
        {t: v.comparator in (Comparator.LE, Comparator.LT) for t, v in targets.items()}).astype(bool)
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


def _series_goals(frame: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """The target value of each series in the frame (one row per target × county, a few hundred)."""
    pairs = frame[["target_id", "county_code"]].drop_duplicates()
    goals = [series_target_value(catalog.target(t), c, catalog)
             for t, c in zip(pairs["target_id"], pairs["county_code"], strict=True)]
    return pairs.assign(goal=[float(g) if g is not None else np.nan for g in goals])


def change_floor(frame: pd.DataFrame, level: pd.Series, cfg: AnomalyConfig) -> pd.Series:
    """The smallest change of a level worth an anomaly, per row: more than level_rel_floor of the series'
    typical `level`, level_target_share of its target, and 1 percentage point for a percentage."""
    rel = cfg.level_rel_floor * level.abs()
    goal = (cfg.level_target_share * frame["goal"].abs()).fillna(0.0)
    points = pd.Series(np.where(frame["percent"], cfg.percent_point_floor, 0.0), index=frame.index)
    return pd.concat([rel, goal, points], axis=1).max(axis=1)


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
