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
