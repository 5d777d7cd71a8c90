"""Robust z-scores: distance from the median in units of the scaled median absolute deviation (MAD).

1.4826·MAD estimates the standard deviation of normal data while ignoring the outliers we are hunting.
When more than half the values sit on the median MAD is 0; then the scale falls back to 1.2533 × the mean
absolute deviation (Iglewicz–Hoaglin / IBM practice), and only when that is 0 too does any value off the
median score infinitely (the detectors' absolute floors decide then).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAD_SCALE = 1.4826
MEAN_AD_SCALE = 1.253314


def robust_z(values: pd.Series) -> pd.Series:
    """Robust z-score of each value against the whole series (NaN values stay NaN and are ignored)."""
    med = values.median()
    dev = values - med
    mad = dev.abs().median()
    mean_ad = dev.abs().mean()
    index = values.index
    return _z(dev, pd.Series(mad, index=index), pd.Series(mean_ad, index=index))


def grouped_robust_z(frame: pd.DataFrame, column: str, by: list[str]) -> pd.DataFrame:
    """Per-group median, MAD, count and robust z of `column` (columns: med, mad, n, z), aligned to `frame`."""
    grouped = frame.groupby(by, sort=False)[column]
    med = grouped.transform("median")
    dev = frame[column] - med
    keys = [frame[b] for b in by]
    mad = dev.abs().groupby(keys, sort=False).transform("median")
    mean_ad = dev.abs().groupby(keys, sort=False).transform("mean")
    n = grouped.transform("count")
    z = _z(dev, mad, mean_ad)
    return pd.DataFrame({"med": med, "mad": mad, "n": n, "z": z}, index=frame.index)


def _z(deviation: pd.Series, mad: pd.Series, mean_ad: pd.Series) -> pd.Series:
    scale = (mad * MAD_SCALE).where(mad > 0, mean_ad * MEAN_AD_SCALE)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = deviation / scale
    flat = scale == 0
    z = z.where(~flat, np.sign(deviation) * np.inf)
    return z.where(~(flat & (deviation == 0)), 0.0)


def causal_robust_z(frame: pd.DataFrame, column: str, by: list[str], order: str) -> pd.DataFrame:
    """Like grouped_robust_z, but each row is scored against its group's values up to and including its own
    `order` (month index) only: a month is judged on what was known when it arrived, so later months never
    change the verdict on an earlier one (no alert flapping as history grows).

    Columns med, mad, n (values up to the row, its own included), z; NaN values of `column` are ignored.
    Monthly series are short (≤ a few dozen points), so the self-join is small.
    """
    rows = frame[[*by, order, column]].dropna(subset=[column])
    left = rows.rename_axis("_row").reset_index()
    pairs = left.merge(rows.rename(columns={order: "_h_order", column: "_h"}), on=by)
    pairs = pairs[pairs["_h_order"] <= pairs[order]]
    grouped = pairs.groupby("_row")["_h"]
    med = grouped.median()
    dev = (pairs["_h"] - pairs["_row"].map(med)).abs()
    spread = dev.groupby(pairs["_row"])
    out = pd.DataFrame({"med": med, "mad": spread.median(), "mean_ad": spread.mean(), "n": grouped.size()})
    out = out.reindex(frame.index)
    z = _z(frame[column] - out["med"], out["mad"], out["mean_ad"])
    return pd.DataFrame({"med": out["med"], "mad": out["mad"], "n": out["n"].fillna(0).astype(int), "z": z},
                        index=frame.index)
