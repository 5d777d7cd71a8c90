"""anomalies(): every detector over the history known on `as_of`, one explained finding per cause."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from expectations.models import Catalog
from tasks.anomalies.cross import parts_vs_total, peer_outliers, peer_unit_slips
from tasks.anomalies.findings import ANOMALY_COLUMNS, empty_findings
from tasks.anomalies.flats import flat_lines
from tasks.anomalies.frame import AnomalyConfig, Labels, anomaly_frame
from tasks.anomalies.timeseries import history_unit_slips, jumps, same_month_last_year, ytd_decreases
from tasks.evaluate.numbers import period_of

# When a unit slip (or a year-to-date decrease) explains a value, other findings on the same cell are the
# same cause said again: keep the most specific one only.
EXPLAINED_BY = {"unit_slip": {"jump", "yoy", "ytd_decrease", "peer_outlier"}, "ytd_decrease": {"jump"}}
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


def anomalies(history: pd.DataFrame, catalog: Catalog, as_of: dt.date,
              config: AnomalyConfig | None = None) -> pd.DataFrame:
    """Anomalies in the plan year up to `as_of` (earlier years serve as history only).

    `history` has the observation columns (target_id, county_code, period, value, basis, recorded_at, …),
    every period available. Returns columns kind (jump / yoy / ytd_decrease / unit_slip / flat_line /
    parts_sum / peer_outlier), target_id, county_code, period, severity (critical / warning / info),
    message_zh (one sentence with the numbers), message_en, evidence (dict of the numbers). A flat line
    is reported under the first period of the run; a peer outlier only for each target's latest period;
    a jump is judged on the history up to its month, so later data never changes the verdict. One row per
    kind × target × county × period.
    """
    cfg = config or AnomalyConfig()
    frame = anomaly_frame(history, catalog, as_of)
    if frame.empty:
        return empty_findings()
    labels = Labels(catalog)
    parts = [
        jumps(frame, labels, cfg),
        same_month_last_year(frame, labels, cfg),
        ytd_decreases(frame, labels),
        history_unit_slips(frame, labels, cfg),
        peer_unit_slips(frame, catalog, labels, cfg),
        flat_lines(frame, catalog, labels, cfg),
        parts_vs_total(frame, catalog, labels, cfg),
        peer_outliers(frame, catalog, labels, cfg),
    ]
    non_empty = [p for p in parts if not p.empty]
    if not non_empty:
        return empty_findings()
    found = pd.concat(non_empty, ignore_index=True)
    first, last = period_of(catalog.year, 1), period_of(as_of.year, as_of.month)
    found = found[(found["period"] >= first) & (found["period"] <= last)]
    keys = ["target_id", "county_code", "period"]
    for cause, explained in EXPLAINED_BY.items():
        cells = found.loc[found["kind"] == cause, keys].drop_duplicates().assign(_cause=True)
        found = found.merge(cells, on=keys, how="left")
        found = found[~(found["_cause"].eq(True) & found["kind"].isin(explained))].drop(columns="_cause")
    # a slip seen both against history and against peers is one finding
    found = found.assign(_rank=found["severity"].map(SEVERITY_ORDER)).sort_values(
        ["kind", *keys, "_rank"], kind="stable")
    found = found.drop_duplicates(["kind", *keys], keep="first").drop(columns="_rank")
    return found.sort_values([*keys, "kind"]).reset_index(drop=True)[list(ANOMALY_COLUMNS)]
