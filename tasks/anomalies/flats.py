"""Values copied forward: the same number reported month after month where it should have moved.

Two cases are suspicious, everything else that stays put is a rate doing what rates do:
- a year-to-date total (floor target, not yet reached) that grew every month and then stopped for
  flat_months reports: no progress, or last month's file sent again;
- a level repeated exactly for flat_level_months reports although it is written precisely (≥ 2 decimals
  such as 97.23%, or ≥ 5 significant digits such as 1805123人): a real measurement rarely repeats to the
  last digit, while 8.1% or 100% legitimately can.
A flat line is reported under the first period of its run, so it keeps one identity (one alert) while the
run goes on and resolves when a new value arrives.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd

from expectations.models import Catalog, Kind
from tasks.anomalies.findings import findings, num
from tasks.anomalies.frame import AnomalyConfig, Labels
from tasks.evaluate.numbers import fmt_num, period_zh, to_decimal

SERIES = ["target_id", "county_code"]


def flat_lines(frame: pd.DataFrame, catalog: Catalog, labels: Labels, cfg: AnomalyConfig) -> pd.DataFrame:
    """Runs of one value up to the series' latest month that are suspicious (see the module docstring)."""
    brk = (frame["x"] != frame["prev_x"]) | ~frame["consecutive"] | frame["prev_x"].isna()
    run = brk.cumsum()
    by_run = frame.groupby(run)
    length = by_run["x"].transform("size")
    start = by_run["period"].transform("first")
    last = frame["mi"] == frame.groupby(SERIES)["mi"].transform("max")
    cumulative = frame["kind"] == Kind.CUMULATIVE.value
    stuck = cumulative & _stalled_growth(frame, run, cfg)
    low = frame["target_id"].map({t.id: _float(t.bounds.min) for t in catalog.targets})
    high = frame["target_id"].map({t.id: _float(t.bounds.max) for t in catalog.targets})
    at_bound = (frame["x"] == low) | (frame["x"] == high)
    long_level = ~cumulative & (length >= cfg.flat_level_months) & ~at_bound & (frame["x"] != 0)
    candidates = last & (stuck | long_level)
    precise = frame.loc[candidates, "value"].map(lambda v: _precise(v, cfg)).reindex(frame.index, fill_value=False)
    hit = candidates & (stuck | precise.astype(bool))
    rows = frame[hit].assign(length=length[hit], start=start[hit])
    return findings(rows, "flat_line", "warning", lambda r: _flat(r, labels), period=rows["start"])


def _stalled_growth(frame: pd.DataFrame, run: pd.Series, cfg: AnomalyConfig) -> pd.Series:
    """Rows of a year-to-date run of ≥ flat_months reports, below its (floor) target and above 0, in a series
    that grew in every month of the year up to the run's first month (at least two increments known)."""
    ytd = frame["basis"] == "ytd"
    grew = frame["inc"] > 0
    known = frame["inc"].notna()
    year = [frame[c] for c in (*SERIES, "year")]  # a year-to-date series starts again every January
    stalls_so_far = (known & ~grew).astype(int).groupby(year).cumsum()
    increments_so_far = known.astype(int).groupby(year).cumsum()
    at_start = pd.DataFrame({"stalls": stalls_so_far, "incs": increments_so_far}).groupby(run).transform("first")
    steady = (at_start["stalls"] == 0) & (at_start["incs"] >= 2)
    length = frame.groupby(run)["x"].transform("size")
    below = frame["goal"].isna() | (frame["x"] < frame["goal"])
    return ytd & steady & (length >= cfg.flat_months) & below & ~frame["ceiling"] & (frame["x"] > 0)


def _precise(value: Any, cfg: AnomalyConfig) -> bool:
    """Whether a value is written precisely enough that an exact repeat is unlikely to be chance."""
    number = to_decimal(value)
    if number is None or number == 0:
        return False
    exact = number.normalize().as_tuple()  # trailing zeros dropped: 1805000 → 1.805E+6, 4 significant digits
    decimals = max(0, -int(exact.exponent))
    significant = len(exact.digits)
    return decimals >= cfg.flat_level_decimals or significant >= cfg.flat_level_digits


def _flat(r: Any, labels: Labels) -> tuple[str, str, dict[str, Any]]:
    u = labels.unit(r.target_id)
    subject = f"{labels.subject(r.target_id, r.county_code)}自{period_zh(r.start)}至{period_zh(r.period)}连续"
    if r.kind == Kind.CUMULATIVE.value:
        zh = (f"{subject}{int(r.length)}个月累计数均为{fmt_num(r.x)}{u}，而此前每月都有增长，"
              f"疑似未更新数据或工作停滞，请核实。")
        en = (f"{labels.target_en(r.target_id)} ({r.county_code}): the year-to-date total has stayed at "
              f"{fmt_num(r.x)} for {int(r.length)} reports ({r.start} to {r.period}) after growing every "
              "month: stalled, or last month's figure sent again.")
    else:
        zh = (f"{subject}{int(r.length)}个月数值均为{fmt_num(r.value, 4)}{u}，精确到末位完全相同的可能性很小，"
              f"疑似沿用旧数，请核实是否已更新。")
        en = (f"{labels.target_en(r.target_id)} ({r.county_code}) has reported exactly {fmt_num(r.value, 4)} "
              f"for {int(r.length)} months in a row ({r.start} to {r.period}): possibly copied forward.")
    return zh, en, {"value": num(r.x), "months": int(r.length), "from": r.start, "to": r.period,
                    "value_exact": str(Decimal(str(r.value)))}


def _float(value: Decimal | None) -> float:
    return float(value) if value is not None else float("nan")

