"""The anomaly frame's shape and the helpers detectors use to fill it."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from tasks.evaluate.numbers import fmt_num

ANOMALY_COLUMNS: tuple[str, ...] = (
    "kind", "target_id", "county_code", "period", "severity", "message_zh", "message_en", "evidence",
)

Builder = Callable[[Any], tuple[str, str, dict[str, Any]]]


def findings(rows: pd.DataFrame, kind: str, severity: str | pd.Series, build: Builder,
             period: pd.Series | None = None) -> pd.DataFrame:
    """One anomaly per flagged row; `build(row)` writes the sentence (zh, en) and the evidence dict.

    Only flagged rows reach here (a handful), so a Python loop over them is fine.
    """
    if rows.empty:
        return empty_findings()
    built = [build(row) for row in rows.itertuples(index=False)]
    sev = severity if isinstance(severity, pd.Series) else pd.Series(severity, index=rows.index)
    return pd.DataFrame({
        "kind": kind,
        "target_id": rows["target_id"].to_numpy(),
        "county_code": rows["county_code"].to_numpy(),
        "period": (period if period is not None else rows["period"]).to_numpy(),
        "severity": sev.to_numpy(),
        "message_zh": [b[0] for b in built],
        "message_en": [b[1] for b in built],
        "evidence": [b[2] for b in built],
    }, columns=list(ANOMALY_COLUMNS))


_EMPTY = pd.DataFrame({c: pd.Series(dtype=object) for c in ANOMALY_COLUMNS})


def empty_findings() -> pd.DataFrame:
    return _EMPTY.copy()


def num(value: float | None) -> float | None:
    """A JSON-safe float for evidence (None for NaN, infinities kept as None with the flag elsewhere)."""
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return None
    return round(float(value), 6)


def z_text(z: float) -> str:
    return "∞" if np.isinf(z) else fmt_num(abs(z), 1)


def slip_power(ratio: pd.Series, powers: tuple[int, ...], tolerance: float) -> pd.Series:
    """The power of ten k (±) a ratio sits on, e.g. 100 → 2, 0.0001 → −4; 0 when it is on none of `powers`."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(ratio.abs().where(ratio != 0))
    out = pd.Series(0, index=ratio.index, dtype=int)
    for k in powers:
        out = out.where(~((logs - k).abs() <= tolerance), k)
        out = out.where(~((logs + k).abs() <= tolerance), -k)
    return out


def change_unit(unit: str) -> str:
    """The unit of a difference: percentages differ by 个百分点."""
    return "个百分点" if unit == "%" else unit


def slip_hint(unit: str) -> str:
    """The likely slip for a unit, as an example a department head recognises."""
    if unit in ("%", "‰"):
        return "如小数点错位、百分数与千分数混用"
    if unit.startswith("/") or unit.startswith("1/"):
        return "如“每10万”与“每万”混用"
    return "如“万人”与“人”、“万元”与“元”混用"


def factor_zh(power: int) -> str:
    """10^k in words: 10倍, 100倍, 1万倍, or 1/10."""
    size = {1: "10", 2: "100", 3: "1000", 4: "1万"}.get(abs(power), f"10^{abs(power)}")
    return f"{size}倍" if power > 0 else f"1/{size}"
