"""Detectors along one series in time: jumps, same month last year, year-to-date decreases, unit slips
against the series' own history, and values copied forward."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from expectations.models import Catalog, Kind
from tasks.anomalies.findings import change_unit, factor_zh, findings, num, slip_hint, slip_power, z_text
from tasks.anomalies.frame import AnomalyConfig, Labels
from tasks.anomalies.robust import grouped_robust_z
from tasks.evaluate.numbers import fmt_num, period_zh

SERIES = ["target_id", "county_code"]


def jumps(frame: pd.DataFrame, labels: Labels, cfg: AnomalyConfig) -> pd.DataFrame:
    """Month-over-month change (level) or monthly increment (cumulative) far outside the series' own.

    Flagged when |robust z| > threshold, the change clears a floor relative to the series' typical size,
    and the value itself is off the series' median (a return to normal after a spike is not a jump).
    """
    out = []
    level = frame[frame["change"].notna()].copy()
    if not level.empty:
        level[["med", "mad", "n", "z"]] = grouped_robust_z(level, "change", SERIES)
        typical = frame[frame["kind"] != Kind.CUMULATIVE.value].groupby(SERIES)["x"].median().rename("med_x")
        level = level.join(typical, on=SERIES)
        floor = cfg.level_rel_floor * level["med_x"].abs()
        off = (level["x"] - level["med_x"]).abs()
        hit = ((level["n"] >= cfg.min_points) & (level["z"].abs() > cfg.z_threshold)
               & (level["change"].abs() >= floor) & (off >= floor) & (off > 0))
        out.append(findings(level[hit], "jump", "warning", lambda r: _level_jump(r, labels)))
    cum = frame[frame["inc"].notna()].copy()
    if not cum.empty:
        cum[["med", "mad", "n", "z"]] = grouped_robust_z(cum, "inc", SERIES)
        off = (cum["inc"] - cum["med"]).abs()
        hit = ((cum["n"] >= cfg.min_points) & (cum["z"].abs() > cfg.z_threshold)
               & (off >= cfg.increment_rel_floor * cum["med"].abs()) & (off > 0))
        out.append(findings(cum[hit], "jump", "warning", lambda r: _increment_jump(r, labels)))
    return pd.concat(out, ignore_index=True) if out else findings(frame.iloc[0:0], "jump", "warning", _never)


def _level_jump(r: Any, labels: Labels) -> tuple[str, str, dict[str, Any]]:
    u = labels.unit(r.target_id)
    word = "上升" if r.change > 0 else "下降"
    zh = (f"{labels.subject(r.target_id, r.county_code)}{period_zh(r.period)}为{fmt_num(r.x)}{u}，较上月"
          f"{fmt_num(r.prev_x)}{u}{word}{fmt_num(abs(r.change))}{change_unit(u)}，远超以往月度变动"
          f"（中位数{fmt_num(r.med)}，"
          f"稳健z值{z_text(r.z)}），请核实。")
    en = (f"{labels.target_en(r.target_id)} ({r.county_code}) {r.period}: {fmt_num(r.x)} vs "
          f"{fmt_num(r.prev_x)} the month before, far outside its usual changes (robust z {z_text(r.z)}).")
    return zh, en, {"value": num(r.x), "previous": num(r.prev_x), "change": num(r.change),
                    "median_change": num(r.med), "mad": num(r.mad), "robust_z": num(r.z), "n": int(r.n)}


def _increment_jump(r: Any, labels: Labels) -> tuple[str, str, dict[str, Any]]:
    u = labels.unit(r.target_id)
    word = "高于" if r.inc > r.med else "低于"
    zh = (f"{labels.subject(r.target_id, r.county_code)}{period_zh(r.period)}当月新增{fmt_num(r.inc)}{u}，"
          f"明显{word}以往各月新增的中位数{fmt_num(r.med)}{u}（稳健z值{z_text(r.z)}），"
          f"请核实是否漏报、重复统计或口径变化。")
    en = (f"{labels.target_en(r.target_id)} ({r.county_code}) {r.period}: {fmt_num(r.inc)} added this month "
          f"against a typical {fmt_num(r.med)} (robust z {z_text(r.z)}).")
    return zh, en, {"increment": num(r.inc), "median_increment": num(r.med), "mad": num(r.mad),
                    "robust_z": num(r.z), "n": int(r.n)}


def _never(r: Any) -> tuple[str, str, dict[str, Any]]:
    raise AssertionError("no rows")


def same_month_last_year(frame: pd.DataFrame, labels: Labels, cfg: AnomalyConfig) -> pd.DataFrame:
    """A value at least (1 + yoy_rel)× or at most 1/(1 + yoy_rel)× the same month last year, same basis."""
    last = frame[SERIES + ["mi", "basis", "x"]].rename(columns={"x": "ly_x"})
    last = last.assign(mi=last["mi"] + 12)
    both = frame.merge(last, on=[*SERIES, "mi", "basis"], how="inner")
    both = both[(both["ly_x"] != 0) & both["ly_x"].notna()]
    ratio = both["x"] / both["ly_x"]
    band = 1 + cfg.yoy_rel
    hit = ((ratio >= band) | (ratio <= 1 / band)) & (ratio > 0)
    rows = both[hit].assign(ratio=ratio[hit])
    severity = pd.Series(np.where((rows["ratio"] >= 2) | (rows["ratio"] <= 0.5), "warning", "info"),
                         index=rows.index)
    return findings(rows, "yoy", severity, lambda r: _yoy(r, labels))


def _yoy(r: Any, labels: Labels) -> tuple[str, str, dict[str, Any]]:
    u = labels.unit(r.target_id)
    word = "是上年同期的" if r.ratio >= 1 else "仅为上年同期的"
    zh = (f"{labels.subject(r.target_id, r.county_code)}{period_zh(r.period)}为{fmt_num(r.x)}{u}，"
          f"上年同月为{fmt_num(r.ly_x)}{u}，{word}{fmt_num(r.ratio * 100, 0)}%，变化异常，请核实。")
    en = (f"{labels.target_en(r.target_id)} ({r.county_code}) {r.period}: {fmt_num(r.x)} against "
          f"{fmt_num(r.ly_x)} in the same month last year ({fmt_num(r.ratio * 100, 0)}%).")
    return zh, en, {"value": num(r.x), "same_month_last_year": num(r.ly_x), "ratio": num(r.ratio)}


def ytd_decreases(frame: pd.DataFrame, labels: Labels) -> pd.DataFrame:
    """A cumulative year-to-date value below the previous reported month of the same year."""
    same_year = (frame["prev_mi"] // 12) == (frame["mi"] // 12)
    ytd = (frame["basis"] == "ytd") & (frame["prev_basis"] == "ytd")
    hit = (frame["kind"] == Kind.CUMULATIVE.value) & ytd & same_year & (frame["x"] < frame["prev_x"])
    return findings(frame[hit], "ytd_decrease", "critical", lambda r: _decrease(r, labels))


def _decrease(r: Any, labels: Labels) -> tuple[str, str, dict[str, Any]]:
    u = labels.unit(r.target_id)
    prev = f"{int(r.prev_mi) // 12}-{int(r.prev_mi) % 12 + 1:02d}"
    zh = (f"{labels.subject(r.target_id, r.county_code)}{period_zh(r.period)}累计{fmt_num(r.x)}{u}，低于"
          f"{period_zh(prev)}的累计{fmt_num(r.prev_x)}{u}，累计数不应下降，请核实是否漏报或口径有误。")
    en = (f"{labels.target_en(r.target_id)} ({r.county_code}) year-to-date {fmt_num(r.x)} in {r.period} is "
          f"below {fmt_num(r.prev_x)} in {prev}; a year-to-date total cannot fall.")
    return zh, en, {"value": num(r.x), "previous": num(r.prev_x), "previous_period": prev}


def history_unit_slips(frame: pd.DataFrame, labels: Labels, cfg: AnomalyConfig) -> pd.DataFrame:
    """A value 10×, 100× or 10,000× off its own history (a level vs the series median; a cumulative
    year-to-date vs the month before, where only 100× and 10,000× count: early-year growth can be 10×)."""
    level = frame[frame["kind"] != Kind.CUMULATIVE.value]
    med = level.groupby(SERIES)["x"].transform("median")
    n = level.groupby(SERIES)["x"].transform("count")
    power = slip_power(level["x"] / med, (1, 2, 4), cfg.slip_tolerance).where(n >= 4, 0)
    a = level[power != 0].assign(ref=med[power != 0], power=power[power != 0], ref_kind="history")
    cum = frame[(frame["kind"] == Kind.CUMULATIVE.value) & frame["consecutive"] & (frame["month"] > 1)]
    p2 = slip_power(cum["x"] / cum["prev_x"], (2, 4), cfg.slip_tolerance)
    b = cum[p2 != 0].assign(ref=cum["prev_x"][p2 != 0], power=p2[p2 != 0], ref_kind="previous")
    rows = pd.concat([a, b])
    return findings(rows, "unit_slip", "warning", lambda r: slip_message(r, labels))


def slip_message(r: Any, labels: Labels) -> tuple[str, str, dict[str, Any]]:
    """Shared wording of a unit slip (history or peers)."""
    u = labels.unit(r.target_id)
    ref = {"history": "该指标以往数值的中位数", "previous": "上月累计",
           "peers": "其他县市同期数值的中位数"}[r.ref_kind]
    zh = (f"{labels.subject(r.target_id, r.county_code)}{period_zh(r.period)}填报{fmt_num(r.x)}{u}，约为{ref}"
          f"{fmt_num(r.ref)}{u}的{factor_zh(int(r.power))}，疑似单位填错（{slip_hint(u)}），请核实。")
    en = (f"{labels.target_en(r.target_id)} ({r.county_code}) {r.period}: {fmt_num(r.x)} is about "
          f"10^{int(r.power)} times the {r.ref_kind} reference {fmt_num(r.ref)}: probably a unit slip.")
    return zh, en, {"value": num(r.x), "reference": num(r.ref), "reference_kind": r.ref_kind,
                    "power_of_ten": int(r.power)}


def flat_lines(frame: pd.DataFrame, catalog: Catalog, labels: Labels, cfg: AnomalyConfig) -> pd.DataFrame:
    """The same value reported for ≥ flat_months consecutive months up to the series' latest month.

    Reported under the run's first period, so the finding keeps one identity while the run goes on and
    disappears (resolves) when a new value arrives. Values at the target's quality bounds (100% coverage)
    and cumulative zeros (nothing done yet, a progress matter) are not copy-forward suspects.
    """
    brk = (frame["x"] != frame["prev_x"]) | ~frame["consecutive"] | frame["prev_x"].isna()
    run = brk.cumsum()
    length = frame.groupby(run)["x"].transform("size")
    start = frame.groupby(run)["period"].transform("first")
    last = frame["mi"] == frame.groupby(SERIES)["mi"].transform("max")
    low = frame["target_id"].map({t.id: _float(t.bounds.min) for t in catalog.targets})
    high = frame["target_id"].map({t.id: _float(t.bounds.max) for t in catalog.targets})
    at_bound = (frame["x"] == low) | (frame["x"] == high)
    zero_cum = (frame["kind"] == Kind.CUMULATIVE.value) & (frame["x"] == 0)
    hit = last & (length >= cfg.flat_months) & ~at_bound & ~zero_cum
    rows = frame[hit].assign(length=length[hit], start=start[hit])
    severity = pd.Series(np.where(rows["kind"] == Kind.CUMULATIVE.value, "info", "warning"), index=rows.index)
    return findings(rows, "flat_line", severity, lambda r: _flat(r, labels), period=rows["start"])


def _flat(r: Any, labels: Labels) -> tuple[str, str, dict[str, Any]]:
    u = labels.unit(r.target_id)
    what = "累计数" if r.kind == Kind.CUMULATIVE.value else "数值"
    zh = (f"{labels.subject(r.target_id, r.county_code)}自{period_zh(r.start)}至{period_zh(r.period)}连续"
          f"{int(r.length)}个月{what}均为{fmt_num(r.x)}{u}，疑似沿用旧数，请核实是否已更新。")
    en = (f"{labels.target_en(r.target_id)} ({r.county_code}) has reported {fmt_num(r.x)} for "
          f"{int(r.length)} months in a row ({r.start} to {r.period}): possibly copied forward.")
    return zh, en, {"value": num(r.x), "months": int(r.length), "from": r.start, "to": r.period,
                    "value_exact": str(Decimal(str(r.value)))}


def _float(value: Decimal | None) -> float:
    return float(value) if value is not None else float("nan")
