"""Detectors along one series in time: jumps, same month last year, year-to-date decreases and unit slips
against the series' own history (values copied forward: tasks.anomalies.flats)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from expectations.models import Kind
from tasks.anomalies.findings import change_unit, factor_zh, findings, num, slip_hint, slip_power, z_text
from tasks.anomalies.frame import AnomalyConfig, Labels, change_floor
from tasks.anomalies.robust import causal_robust_z
from tasks.evaluate.numbers import fmt_num, period_zh

SERIES = ["target_id", "county_code"]


def jumps(frame: pd.DataFrame, labels: Labels, cfg: AnomalyConfig) -> pd.DataFrame:
    """Month-over-month change (level) or monthly increment (cumulative) far outside the series' own.

    Each month is judged on the series up to that month (causal_robust_z), once it has min_history earlier
    changes. A level is flagged when |robust z| > threshold and both the change and the value's distance from
    the series' typical level exceed change_floor (a return to normal after a spike is not a jump). An
    increment is flagged when the series usually grows every month (median increment > 0: lumpy counts such
    as 1 hospital are judged by progress, not here), |robust z| > threshold and it is off the typical
    increment by more than increment_rel_floor of it and increment_target_share of the year's target (the
    series' annual pace where the plan sets no target for it).
    """
    out = []
    level = frame[frame["change"].notna()].copy()
    if not level.empty:
        level[["med", "mad", "n", "z"]] = causal_robust_z(level, "change", SERIES, "mi")
        levels = frame[frame["kind"] != Kind.CUMULATIVE.value]
        level["med_x"] = causal_robust_z(levels, "x", SERIES, "mi")["med"].reindex(level.index)
        floor = change_floor(level, level["med_x"], cfg)
        off = (level["x"] - level["med_x"]).abs()
        hit = ((level["n"] > cfg.min_history) & (level["z"].abs() > cfg.z_threshold)
               & (level["change"].abs() > floor) & (off > floor))
        out.append(findings(level[hit], "jump", "warning", lambda r: _level_jump(r, labels)))
    cum = frame[frame["inc"].notna()].copy()
    if not cum.empty:
        cum[["med", "mad", "n", "z"]] = causal_robust_z(cum, "inc", SERIES, "mi")
        scale = cum["goal"].where(cum["goal"] > 0, cum["med"] * 12)
        floor = np.maximum(cfg.increment_rel_floor * cum["med"].abs(), cfg.increment_target_share * scale.abs())
        off = (cum["inc"] - cum["med"]).abs()
        hit = ((cum["n"] > cfg.min_history) & (cum["med"] > 0) & (cum["z"].abs() > cfg.z_threshold)
               & (off > floor))
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
    """A value at least (1 + yoy_rel)× or at most 1/(1 + yoy_rel)× the same month last year, same basis, and
    apart by more than the floors of a jump (a level: change_floor; a year-to-date total:
    increment_target_share of the year's target), so 2 vs 4 kindergartens is not an anomaly."""
    last = frame[SERIES + ["mi", "basis", "x"]].rename(columns={"x": "ly_x"})
    last = last.assign(mi=last["mi"] + 12)
    both = frame.merge(last, on=[*SERIES, "mi", "basis"], how="inner")
    both = both[(both["ly_x"] != 0) & both["ly_x"].notna()]
    ratio = both["x"] / both["ly_x"]
    band = 1 + cfg.yoy_rel
    cumulative = both["kind"] == Kind.CUMULATIVE.value
    scale = both["goal"].where(both["goal"] > 0, both["ly_x"].abs() * 12 / both["month"])
    floor = change_floor(both, both["ly_x"], cfg).where(~cumulative, cfg.increment_target_share * scale.abs())
    hit = ((ratio >= band) | (ratio <= 1 / band)) & (ratio > 0) & ((both["x"] - both["ly_x"]).abs() > floor)
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
