"""Build a `ReportData` from the warehouse, as it stood at the end of the report date.

Reads only (no writes): the latest `fact_target_status` per target × county computed on or before the date
(the level row of a days-budget target for the scorecard, its allowance rows for the burn-down chart),
observations known by then (`warehouse.queries.observations_as_of`) for the year-to-date trajectories, alerts
open at the end of that day, the drop ledger and its checks, and the delivery lag recomputed from when each
target × period first arrived (`tasks.lag.delivery_lag`). Links to receipts, quarantined copies and drop files
are made relative to the report folder when both the data folder and the report folder are given.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, and_, func, or_, select

from expectations.models import Catalog
from tasks.contracts import Drop
from tasks.evaluate.air_budget import elapsed_days
from tasks.lag import delivery_lag
from tasks.receipts import receipt_path, safe_name
from tasks.report.data import (
    ALERT_COLUMNS,
    CHECK_COLUMNS,
    DEFAULT_BAND_POINTS,
    HISTORY_COLUMNS,
    LAG_COLUMNS,
    LEDGER_COLUMNS,
    STATUS_COLUMNS,
    ReportData,
)
from warehouse.models import DropLedger, FactAlert, FactCheck, FactObservation, FactTargetStatus
from warehouse.queries import as_of_cutoff, observations_as_of

OUTCOME_OF_STATUS = {"loaded": "load", "quarantined": "quarantine", "ignored": "ignore",
                     "duplicate": "ignore"}


def _rows(engine: Engine, query: Any) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(query)
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def _latest_statuses(engine: Engine, as_of: dt.date) -> pd.DataFrame:
    """Every stored status row of the latest evaluation on or before `as_of`, per target × county."""
    s = FactTargetStatus.__table__
    latest = (select(s.c.target_id, s.c.county_code, func.max(s.c.as_of).label("latest"))
              .where(s.c.as_of <= as_of).group_by(s.c.target_id, s.c.county_code).subquery())
    query = select(s).join(latest, and_(s.c.target_id == latest.c.target_id,
                                        s.c.county_code == latest.c.county_code,
                                        s.c.as_of == latest.c.latest))
    return _rows(engine, query)


def status_frame(engine: Engine, as_of: dt.date, rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """The latest status per target × county computed on or before `as_of` (its latest period); of a
    days-budget target's level and allowance rows, the level row (as v_target_progress does).
    `rows` are the stored rows to use (default: read them)."""
    frame = _latest_statuses(engine, as_of) if rows is None else rows.copy()
    frame["_main"] = frame["method"].ne("budget")
    frame = frame.sort_values(["period", "_main"], kind="stable").drop_duplicates(
        ["target_id", "county_code"], keep="last").drop(columns="_main")
    frame = frame.rename(columns={"target": "target_value"})
    completion = pd.to_numeric(frame["completion_pct"].astype(object), errors="coerce")
    expected = pd.to_numeric(frame["expected_pct"].astype(object), errors="coerce")
    # The report's gap is completion − expected (negative = behind), whatever sign convention the stored
    # column follows; recomputed wherever both parts are known.
    both = completion.notna() & expected.notna()
    recomputed = [Decimal(str(c)) - Decimal(str(e)) if ok else g for c, e, g, ok in
                  zip(frame["completion_pct"], frame["expected_pct"], frame["gap_points"], both, strict=True)]
    frame["gap_points"] = pd.Series(recomputed, index=frame.index, dtype=object)
    if "detail_zh" not in frame.columns:
        frame["detail_zh"] = ""
    return frame[list(STATUS_COLUMNS)].reset_index(drop=True)


def air_budget_frame(rows: pd.DataFrame, catalog: Catalog) -> pd.DataFrame | None:
    """The good-air-days allowance per county (report.data.AIR_BUDGET_COLUMNS) from stored allowance rows
    (method budget) of the catalog's first days-budget target; None when there are none.

    days_elapsed is read back from expected_pct (the share of the year the figures cover)."""
    targets = [t.id for t in catalog.targets if t.days_budget]
    if not targets or rows.empty:
        return None
    budget = rows[(rows["target_id"] == targets[0]) & rows["method"].eq("budget")
                  & rows["county_code"].ne(catalog.prefecture_code)]
    budget = budget.sort_values("period", kind="stable").drop_duplicates("county_code", keep="last")
    budget = budget[budget["expected_pct"].notna() & budget["value"].notna() & budget["target"].notna()]
    if budget.empty:
        return None
    elapsed = [elapsed_days(Decimal(str(p)), catalog.year) for p in budget["expected_pct"]]
    return pd.DataFrame({"county_code": budget["county_code"].astype(str).to_numpy(),
                         "days_elapsed": elapsed,
                         "bad_days_used": [Decimal(str(v)) for v in budget["value"]],
                         "bad_days_allowed": [Decimal(str(v)) for v in budget["target"]]})


def history_frame(engine: Engine, catalog: Catalog, as_of: dt.date) -> pd.DataFrame:
    """Year-to-date values per target × county × month of the plan year, as known at the end of `as_of`.

    A series reported only month by month (basis 当月) is accumulated into year-to-date values.
    """
    obs = observations_as_of(engine, as_of)
    obs = obs[obs["period"].astype(str).str.startswith(str(catalog.year))]
    if obs.empty:
        return pd.DataFrame(columns=list(HISTORY_COLUMNS))
    obs = obs.sort_values(["target_id", "county_code", "period"])
    has_ytd = obs.groupby(["target_id", "county_code"])["basis"].transform(lambda b: (b == "ytd").any())
    monthly = obs[~has_ytd].copy()
    monthly["value"] = monthly.groupby(["target_id", "county_code"])["value"].transform(
        lambda v: v.cumsum())
    ytd = obs[has_ytd & obs["basis"].eq("ytd")]
    return pd.concat([ytd, monthly])[list(HISTORY_COLUMNS)].reset_index(drop=True)


def alerts_frame(engine: Engine, as_of: dt.date) -> pd.DataFrame:
    """Alerts opened by the end of `as_of` and not resolved by then."""
    a = FactAlert.__table__
    cutoff = as_of_cutoff(as_of)
    query = select(a.c.alert_id.label("id"), a.c.alert_class.label("class"), a.c.kind, a.c.severity,
                   a.c.target_id, a.c.department, a.c.county_code, a.c.period, a.c.opened_at, a.c.resolved_at,
                   a.c.message_zh).where(a.c.opened_at < cutoff,
                                         or_(a.c.resolved_at.is_(None), a.c.resolved_at >= cutoff))
    return _rows(engine, query)[list(ALERT_COLUMNS)]


def _relative(path: Path, report_dir: Path) -> str:
    return Path(os.path.relpath(path.resolve(), report_dir.resolve())).as_posix()


def ledger_frame(engine: Engine, as_of: dt.date, data_dir: Path | None,
                 report_dir: Path | None) -> pd.DataFrame:
    """Drops first seen by the end of `as_of`, linked to receipt, quarantined copy and file if possible."""
    d = DropLedger.__table__
    query = select(d.c.sha256, d.c.department, d.c.relative_name, d.c.status, d.c.outcome, d.c.first_seen,
                   d.c.row_count.label("rows")).where(d.c.first_seen < as_of_cutoff(as_of))
    frame = _rows(engine, query)
    by_status = frame["status"].map(OUTCOME_OF_STATUS)
    frame["outcome"] = frame["outcome"].where(frame["outcome"].notna(), by_status)
    links: dict[str, list[str | None]] = {"receipt_path": [], "quarantine_path": [], "file_path": []}
    for r in frame.to_dict("records"):
        receipt = quarantined = original = None
        if data_dir is not None and report_dir is not None:
            raw = data_dir / "raw"
            drop = Drop(path=raw / r["department"] / r["relative_name"], department=r["department"],
                        sha256=r["sha256"], size=0, mtime=0.0, relative_name=r["relative_name"])
            try:
                receipt = _relative(receipt_path(raw, drop), report_dir)
            except ValueError:
                receipt = None  # a name that would escape its folder gets no link
            if r["outcome"] == "quarantine":
                copy = f"{r['sha256']}_{safe_name(r['relative_name'])}"
                quarantined = _relative(data_dir / "quarantine" / copy, report_dir)
            else:
                original = _relative(drop.path, report_dir)
        links["receipt_path"].append(receipt)
        links["quarantine_path"].append(quarantined)
        links["file_path"].append(original)
    for column, values in links.items():
        frame[column] = pd.Series(values, index=frame.index, dtype=object)
    return frame[[*LEDGER_COLUMNS, "file_path"]]


def checks_frame(engine: Engine, sha256s: list[str]) -> pd.DataFrame:
    """Every recorded check of the given drops."""
    c = FactCheck.__table__
    query = select(c.c.sha256, c.c.rule, c.c.severity, c.c.sheet, c.c.row_number.label("row"),
                   c.c.column_name.label("column"), c.c.value, c.c.message_zh, c.c.message_en)
    frame = _rows(engine, query.where(c.c.sha256.in_(sha256s))) if sha256s else pd.DataFrame()
    return frame.reindex(columns=list(CHECK_COLUMNS))


def lag_frame(engine: Engine, catalog: Catalog, as_of: dt.date) -> pd.DataFrame:
    """Delivery lag recomputed from when each target × period first arrived (any department's drop)."""
    o, d = FactObservation.__table__, DropLedger.__table__
    first = func.min(o.c.recorded_at).label("first_recorded_at")
    query = (select(d.c.department, o.c.target_id, o.c.period, first)
             .join(d, d.c.load_id == o.c.load_id).where(o.c.recorded_at < as_of_cutoff(as_of))
             .group_by(d.c.department, o.c.target_id, o.c.period))
    lag = delivery_lag(catalog, _rows(engine, query), as_of)
    return lag[list(LAG_COLUMNS)].reset_index(drop=True)


def load_report_data(engine: Engine, catalog: Catalog, as_of: dt.date, *, data_dir: Path | None = None,
                     report_dir: Path | None = None, band_points: float = DEFAULT_BAND_POINTS) -> ReportData:
    """Everything the report shows as of `as_of`, read from the warehouse."""
    ledger = ledger_frame(engine, as_of, data_dir, report_dir)
    statuses = _latest_statuses(engine, as_of)
    return ReportData(
        as_of=as_of,
        status=status_frame(engine, as_of, statuses),
        history=history_frame(engine, catalog, as_of),
        alerts=alerts_frame(engine, as_of),
        ledger=ledger,
        checks=checks_frame(engine, list(ledger["sha256"])),
        lag=lag_frame(engine, catalog, as_of),
        air_budget=air_budget_frame(statuses, catalog),
        schedule_band_points=band_points,
    )
