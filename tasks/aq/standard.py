"""The arithmetic of the Chinese Air Quality Index, as pure vectorised helpers.

Sources: HJ 633-2012 (环境空气质量指数(AQI)技术规定) Table 1 breakpoints, the daily report's seven indicators
(§5.1: 24-hour means of SO2, NO2, PM10, PM2.5, CO; O3 daily maximum 1-hour and maximum 8-hour sliding mean),
IAQI "进位取整" (rounded up to an integer); GB 3095-2012 Table 4 data-validity minimums (24-hour mean: ≥ 20 hourly
values; 8-hour mean: ≥ 6 hourly values); HJ 663-2013 for the O3 daily maximum 8-hour mean (the 8-hour sliding
means ending 08:00 … 24:00 of the day, ≥ 14 of them valid, still valid with fewer when it already exceeds the
standard) and for rounding concentrations before use (GB/T 8170 round-half-even: µg/m³ to integers, CO mg/m³ to
one decimal).

Concentrations enter the IAQI formula as integers in each table's unit (CO in tenths of mg/m³), so the
"round up" of HJ 633 is done in exact integer arithmetic: no 59.999999 → 60 / 60.0000001 → 61 surprises.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

# The pollutant columns of a daily record. o3_8h is the O3 daily maximum 8-hour mean, o3_1h the daily maximum
# 1-hour value; the rest are 24-hour means. CO is in mg/m³, everything else in µg/m³.
DAILY_POLLUTANTS: tuple[str, ...] = ("so2", "no2", "pm10", "co", "o3_8h", "o3_1h", "pm25")
HOURLY_POLLUTANTS: tuple[str, ...] = ("pm25", "pm10", "so2", "no2", "co", "o3")
# A day is valid only when each of these has a valid daily value (the six assessed pollutants, HJ 663-2013).
REQUIRED_DAILY: tuple[str, ...] = ("so2", "no2", "pm10", "co", "o3_8h", "pm25")

LABELS: dict[str, str] = {"so2": "SO2", "no2": "NO2", "pm10": "PM10", "co": "CO", "o3_8h": "O3_8h",
                          "o3_1h": "O3_1h", "pm25": "PM2.5"}

IAQI_STEPS: tuple[int, ...] = (0, 50, 100, 150, 200, 300, 400, 500)
# HJ 633-2012 Table 1, daily-report columns; CO given in tenths of mg/m³ (0, 2, 4, 14 … mg/m³ × 10).
BREAKPOINTS: dict[str, tuple[int, ...]] = {
    "so2": (0, 50, 150, 475, 800, 1600, 2100, 2620),
    "no2": (0, 40, 80, 180, 280, 565, 750, 940),
    "pm10": (0, 50, 150, 250, 350, 420, 500, 600),
    "co": (0, 20, 40, 140, 240, 360, 480, 600),
    "o3_1h": (0, 160, 200, 300, 400, 800, 1000, 1200),
    "o3_8h": (0, 100, 160, 215, 265, 800),  # stops at IAQI 300: above 800 the 1-hour O3 is used instead
    "pm25": (0, 35, 75, 115, 150, 250, 350, 500),
}
# Scale from the pollutant's unit to the integer unit of its breakpoints.
SCALE: dict[str, int] = {p: (10 if p == "co" else 1) for p in BREAKPOINTS}

MIN_HOURS_24H = 20  # GB 3095-2012 Table 4: a 24-hour mean needs at least 20 hourly values
MIN_HOURS_8H = 6  # GB 3095-2012 Table 4: an 8-hour mean needs at least 6 hourly values
MIN_WINDOWS_O3_8H = 14  # HJ 663-2013: a daily max 8-hour mean needs at least 14 valid 8-hour means
O3_8H_LIMIT = 160  # GB 3095-2012 grade II O3 8-hour limit; above it a short day still counts (HJ 663-2013)
# Day windows: 8-hour means ending at 08:00, 09:00 … 24:00 of the day, i.e. starting at hours 0 … 16.
O3_WINDOW_STARTS = 17

CATEGORY_UPPER: tuple[int, ...] = (50, 100, 150, 200, 300)  # AQI upper bound of levels 1-5; level 6 is > 300
CATEGORY_ZH: tuple[str, ...] = ("优", "良", "轻度污染", "中度污染", "重度污染", "严重污染")
CATEGORY_EN: tuple[str, ...] = ("excellent", "good", "lightly polluted", "moderately polluted",
                                "heavily polluted", "severely polluted")
GOOD_MAX = 100  # 优良: AQI ≤ 100
HEAVY_MIN = 200  # 重度及以上: AQI > 200


def round_half_even(y: np.ndarray, rel_tol: float = 1e-9) -> np.ndarray:
    """GB/T 8170 四舍六入五成双 to integers: exact halves go to the even neighbour (4.5 → 4, 5.5 → 6).

    Binary floats cannot hold most decimal halves (0.45 mg/m³ × 10 may come out as 4.4999999999999996), so a
    value within `rel_tol` (relative to the largest magnitude) of a half counts as that half. NaN stays NaN.
    """
    y = np.asarray(y, dtype=np.float64)
    nearest = np.round(y)  # numpy already sends exact halves to the even neighbour
    if not y.size:
        return nearest
    tolerance = rel_tol * max(1.0, float(np.fmax.reduce(np.abs(y), axis=None)) if np.any(~np.isnan(y)) else 1.0)
    with np.errstate(invalid="ignore"):
        near_half = np.abs(y - nearest) >= 0.5 - tolerance
    if not near_half.any():
        return nearest
    return np.where(near_half, 2.0 * np.round(y / 2.0), nearest)  # the even integer next to a near-half


def snap_halves(values: np.ndarray, pollutant: str, rel_tol: float) -> np.ndarray:
    """Values within `rel_tol` (relative) of a rounding half of their pollutant, set to that exact half.

    For concentrations computed from float32 sources, whose representation error (≤ 6e-8 relative, twice that
    after a unit conversion) would otherwise decide which way a half rounds.
    """
    scale = SCALE[pollutant]
    y = np.asarray(values, dtype=np.float64) * scale
    lower = np.floor(y)
    with np.errstate(invalid="ignore"):
        half = np.abs(y - lower - 0.5) <= rel_tol * np.maximum(1.0, np.abs(y))
    return np.where(half, (lower + 0.5) / scale, values)


def round_concentration(values: np.ndarray, pollutant: str) -> np.ndarray:
    """Concentrations as reported (µg/m³, CO mg/m³) → integers in the breakpoint unit, round-half-even.

    NaN stays NaN. µg/m³ to integers, CO to tenths of mg/m³ (HJ 663-2013 retention digits).
    """
    return round_half_even(np.asarray(values, dtype=np.float64) * SCALE[pollutant])


def iaqi(rounded: np.ndarray, pollutant: str) -> np.ndarray:
    """Individual AQI of rounded concentrations (output of `round_concentration`); NaN where not computed.

    Linear interpolation between breakpoints, rounded up (进位取整) in integer arithmetic. Above the top
    breakpoint the index is capped at 500, except O3 8-hour above 800 µg/m³, which HJ 633 does not index
    (NaN: the 1-hour O3 index reports it instead). Negative concentrations have no index (NaN).
    """
    conc = np.asarray(rounded, dtype=np.float64)
    table = _iaqi_table(pollutant)
    # Slot 0 of the table is "no index" (missing or negative), slots 1 … top+1 the integer concentrations 0 … top,
    # the last slot anything above the top breakpoint: one gather instead of per-value interpolation.
    slot = np.where(np.isnan(conc), -1.0, conc)
    np.clip(slot, -1.0, float(len(table) - 2), out=slot)
    slot += 1.0
    return table[slot.astype(np.intp)]


@functools.cache
def _iaqi_table(pollutant: str) -> np.ndarray:
    """IAQI of every integer concentration 0 … top breakpoint (HJ 633 Table 1, rounded up exactly), framed by
    NaN for "no index" at slot 0 and the above-the-top value at the last slot."""
    bp = np.asarray(BREAKPOINTS[pollutant], dtype=np.int64)
    steps = np.asarray(IAQI_STEPS[: len(bp)], dtype=np.int64)
    c = np.arange(bp[-1] + 1, dtype=np.int64)
    j = np.clip(np.searchsorted(bp, c, side="right") - 1, 0, len(bp) - 2)
    num = (steps[j + 1] - steps[j]) * (c - bp[j])
    den = bp[j + 1] - bp[j]
    value = (steps[j] - (-num // den)).astype(np.float64)  # ceiling division: num ≥ 0, den > 0
    above = np.nan if pollutant == "o3_8h" else float(steps[-1])
    table = np.concatenate([[np.nan], value, [above]])
    table.flags.writeable = False
    return table


def category(aqi: np.ndarray) -> np.ndarray:
    """AQI level 1 (优) … 6 (严重污染) as int8; 0 where the AQI is missing."""
    a = np.asarray(aqi, dtype=np.float64)
    level = np.searchsorted(np.asarray(CATEGORY_UPPER, dtype=np.float64), np.where(np.isnan(a), 0, a),
                            side="left") + 1
    return np.where(np.isnan(a), 0, level).astype(np.int8)


def primary_pollutants(iaqis: dict[str, np.ndarray], aqi: np.ndarray) -> pd.Categorical:
    """首要污染物: the pollutant(s) whose IAQI equals the AQI, when the AQI exceeds 50; "" otherwise.

    Several pollutants tying are joined with commas in DAILY_POLLUTANTS order. Vectorised through a bit mask
    per pollutant and one table of the 2**7 combinations, returned as a categorical of those labels.
    """
    a = np.asarray(aqi, dtype=np.float64)
    mask = np.zeros(a.shape, dtype=np.int64)
    names = list(iaqis)
    for bit, name in enumerate(names):
        mask |= (np.asarray(iaqis[name]) == a).astype(np.int64) << bit
    mask = np.where(a > 50, mask, 0)
    table = [",".join(LABELS[n] for b, n in enumerate(names) if m >> b & 1) for m in range(1 << len(names))]
    return pd.Categorical.from_codes(mask, categories=table)  # every combination is a distinct label


def daily_aqi(rounded: dict[str, np.ndarray], include_o3_1h: bool = True
              ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """IAQI of each daily indicator and the AQI (their maximum, NaN where none is known).

    `rounded` maps DAILY_POLLUTANTS names to rounded concentrations. Whether a day is valid is decided by the
    caller; here a missing indicator is simply left out of the maximum.
    """
    names = [p for p in DAILY_POLLUTANTS if p in rounded and (include_o3_1h or p != "o3_1h")]
    iaqis = {p: iaqi(rounded[p], p) for p in names}
    aqi = np.full(len(next(iter(iaqis.values()))) if iaqis else 0, np.nan)
    for values in iaqis.values():
        np.fmax(aqi, values, out=aqi)  # NaN-skipping maximum, accumulated in place
    return iaqis, aqi
