"""Detectors across counties for one target and period: parts vs the prefecture total, unit slips
against peers, and a county far from its peers."""

from __future__ import annotations

from typing import Any

import pandas as pd

from expectations.models import Catalog
from tasks.anomalies.findings import findings, num, slip_power, z_text
from tasks.anomalies.frame import AnomalyConfig, Labels, change_floor
from tasks.anomalies.robust import grouped_robust_z
from tasks.anomalies.timeseries import slip_message
from tasks.evaluate.numbers import fmt_num, period_zh

CELL = ["target_id", "period", "basis"]


def _county_rows(frame: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    return frame[frame["county_code"].isin(set(catalog.county_codes))]


def parts_vs_total(frame: pd.DataFrame, catalog: Catalog, labels: Labels, cfg: AnomalyConfig) -> pd.DataFrame:
    """Additive targets: the counties must add up to the 全州 row (all counties reported), and never
    exceed it (some counties reported). Compared in the same basis (累计 with 累计)."""
    additive = frame[frame["additive"].astype(bool)]
    parts = _county_rows(additive, catalog)
    scope = {t.id: len(t.counties or catalog.county_codes) for t in catalog.targets}
    sums = parts.groupby(CELL, as_index=False).agg(parts_sum=("x", "sum"), parts_n=("x", "size"))
    total = additive[additive["county_code"] == catalog.prefecture_code]
    both = total.merge(sums, on=CELL, how="inner")
    if both.empty:
        return findings(both, "parts_sum", "warning", _never)
    both["expected_n"] = both["target_id"].map(scope)
    tol = cfg.sum_rel_tolerance * both["x"].abs()
    complete = both["parts_n"] >= both["expected_n"]
    hit = (complete & ((both["parts_sum"] - both["x"]).abs() > tol)) | (both["parts_sum"] > both["x"] + tol)
    return findings(both[hit], "parts_sum", "warning", lambda r: _parts(r, labels))


def _parts(r: Any, labels: Labels) -> tuple[str, str, dict[str, Any]]:
    u = labels.unit(r.target_id)
    diff = r.parts_sum - r.x
    who = "各县市" if r.parts_n >= r.expected_n else f"已报送的{int(r.parts_n)}个县市"
    zh = (f"{labels.target_zh(r.target_id)}{period_zh(r.period)}{who}合计{fmt_num(r.parts_sum)}{u}，"
          f"与全州数{fmt_num(r.x)}{u}不一致，{'多' if diff > 0 else '少'}{fmt_num(abs(diff))}{u}，"
          f"请核对县市数或全州数。")
    en = (f"{labels.target_en(r.target_id)} {r.period}: {int(r.parts_n)} counties add up to "
          f"{fmt_num(r.parts_sum)}, the prefecture total is {fmt_num(r.x)} (difference {fmt_num(diff)}).")
    return zh, en, {"parts_sum": num(r.parts_sum), "total": num(r.x), "difference": num(diff),
                    "counties_reported": int(r.parts_n), "counties_expected": int(r.expected_n)}


def _relative(rows: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """Values made comparable across counties (columns own, scale, rel = x / scale): divided by the county's
    own target where the plan sets per-county targets (楚雄市 and 禄丰 aim at 10% while the others aim at 8%),
    else as reported (scale 1). A per-county target of 0 or none leaves the value out (rel NaN)."""
    own = rows["target_id"].map({t.id: bool(t.county_values) for t in catalog.targets}).astype(bool)
    scale = pd.Series(1.0, index=rows.index).where(~own, rows["goal"].where(rows["goal"] > 0))
    return pd.DataFrame({"own": own, "scale": scale, "rel": rows["x"] / scale}, index=rows.index)


def peer_unit_slips(frame: pd.DataFrame, catalog: Catalog, labels: Labels,
                    cfg: AnomalyConfig) -> pd.DataFrame:
    """A county 10×/100×/10,000× off the median of the counties, relative to its own target where the plan
    sets one (additive counts: only 100× and 10,000×, since counties differ in size)."""
    rows = _county_rows(frame, catalog).copy()
    rows[["own", "scale", "rel"]] = _relative(rows, catalog)
    grouped = rows.groupby(CELL)["rel"]
    med, n = grouped.transform("median"), grouped.transform("count")
    ratio = rows["rel"] / med
    small = slip_power(ratio, (1, 2, 4), cfg.slip_tolerance)
    large = slip_power(ratio, (2, 4), cfg.slip_tolerance)
    power = large.where(rows["additive"].astype(bool), small).where(n >= cfg.min_peers - 1, 0)
    hit = power != 0
    reference = (med * rows["scale"])[hit]  # what the county would report at the peers' median
    flagged = rows[hit].assign(ref=reference, power=power[hit], ref_kind="peers")
    return findings(flagged, "unit_slip", "warning", lambda r: slip_message(r, labels))


def peer_outliers(frame: pd.DataFrame, catalog: Catalog, labels: Labels, cfg: AnomalyConfig) -> pd.DataFrame:
    """Rates and ratios (not additive counts, which scale with county size) in each target's latest period:
    a county whose value, relative to its own target, has |robust z| > threshold across the counties and is
    further than change_floor from where the peers' median would put it.

    Only the latest period is judged and the alert is one per series (see alerts.candidates): a county that
    has differed from its peers all year is one question to the department, not one a month.
    """
    rows = _county_rows(frame, catalog)
    rows = rows[~rows["additive"].astype(bool)].copy()
    rows = rows[rows["period"] == rows.groupby(["target_id", "basis"])["period"].transform("max")]
    if rows.empty:
        return findings(rows, "peer_outlier", "warning", _never)
    rows[["own", "scale", "rel"]] = _relative(rows, catalog)
    rows[["med", "mad", "n", "z"]] = grouped_robust_z(rows, "rel", CELL)
    rows["expected"] = rows["med"] * rows["scale"]
    off = (rows["x"] - rows["expected"]).abs()
    hit = ((rows["n"] >= cfg.min_peers) & (rows["z"].abs() > cfg.z_threshold)
           & (off > change_floor(rows, rows["expected"], cfg)))
    return findings(rows[hit], "peer_outlier", "warning", lambda r: _peer(r, labels))


def _peer(r: Any, labels: Labels) -> tuple[str, str, dict[str, Any]]:
    u = labels.unit(r.target_id)
    word = "高于" if r.x > r.expected else "低于"
    if r.own:  # compared relative to each county's own target
        peers = (f"按各县市自身目标折算的中位水平（本县市目标{fmt_num(r.goal)}{u}，折合{fmt_num(r.expected)}{u}）")
    else:
        peers = f"全州{int(r.n)}个县市的中位数{fmt_num(r.expected)}{u}"
    zh = (f"{labels.subject(r.target_id, r.county_code)}{period_zh(r.period)}为{fmt_num(r.x)}{u}，明显{word}"
          f"{peers}（稳健z值{z_text(r.z)}），请核实。")
    en = (f"{labels.target_en(r.target_id)} ({r.county_code}) {r.period}: {fmt_num(r.x)} against "
          f"{fmt_num(r.expected)} where the median of {int(r.n)} counties puts it (robust z {z_text(r.z)}).")
    return zh, en, {"value": num(r.x), "peer_level": num(r.expected), "mad": num(r.mad), "robust_z": num(r.z),
                    "peers": int(r.n)}


def _never(r: Any) -> tuple[str, str, dict[str, Any]]:
    raise AssertionError("no rows")
