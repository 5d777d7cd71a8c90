"""What the monthly supervision report (督查通报) is made of: a bundle of plain DataFrames.

The renderer is pure: it takes a `ReportData` and the catalog and writes files. Whoever builds a `ReportData`
(the warehouse query in `tasks.report.warehouse`, the demo builder in `tasks.report.sample`, a test) only has
to fill these frames with the columns listed below; extra columns are ignored, missing optional frames are
empty. Values are in the target's canonical unit (Decimal or float; a missing value is NaN/None, never 0).
Relative links (`receipt_path`, `quarantine_path`, `file_path`) are relative to the report's output folder.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from expectations.models import Catalog

STATUS_COLUMNS: tuple[str, ...] = (
    "target_id",
    "county_code",  # the prefecture's own code (532300) for the prefecture-level row
    "as_of",
    "period",  # "YYYY-MM": the latest month the status is based on
    "value",  # latest (year-to-date for cumulative targets) value, canonical unit
    "target_value",  # the target that applies to this county, canonical unit
    "completion_pct",  # value / target × 100 (cumulative targets), else NaN
    "expected_pct",  # time-proportional (序时) share of the target expected by now, × 100
    "gap_points",  # completion_pct − expected_pct, percentage points (negative = behind)
    "light",  # green | yellow | red | grey
    "projection",  # year-end projection, canonical unit
    "projection_low",
    "projection_high",
    "will_meet",  # True / False / None (unknown)
    "method",  # how the status was computed, e.g. linear_ytd, level_latest, budget, milestone
    "detail_zh",  # one Chinese sentence explaining the status
)
HISTORY_COLUMNS: tuple[str, ...] = ("target_id", "county_code", "period", "value")
ALERT_COLUMNS: tuple[str, ...] = (
    "id", "class", "kind", "severity", "target_id", "department", "county_code", "period", "opened_at",
    "resolved_at", "message_zh",
)
LEDGER_COLUMNS: tuple[str, ...] = (
    "sha256", "department", "relative_name", "outcome", "first_seen", "rows", "receipt_path",
    "quarantine_path",
)
CHECK_COLUMNS: tuple[str, ...] = (
    "sha256", "rule", "severity", "sheet", "row", "column", "value", "message_zh", "message_en",
)
LAG_COLUMNS: tuple[str, ...] = ("department", "period", "due_date", "missing_targets", "consecutive_misses")
AIR_BUDGET_COLUMNS: tuple[str, ...] = ("county_code", "days_elapsed", "bad_days_used", "bad_days_allowed")

DEFAULT_BAND_POINTS = 10.0


def empty_frame(columns: tuple[str, ...]) -> pd.DataFrame:
    """An empty frame with the given columns (object dtype), for a report section with nothing to show."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _checked(frame: pd.DataFrame | None, columns: tuple[str, ...], name: str) -> pd.DataFrame:
    if frame is None:
        return empty_frame(columns)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"ReportData.{name} lacks columns {missing}; it needs {list(columns)}")
    return frame.reset_index(drop=True)


@dataclass
class ReportData:
    """Everything one report shows, as of one date.

    `schedule_band_points` is X in the 超序时/达序时/欠序时 rule: a cumulative target whose gap to the
    time-proportional schedule is ≥ +X points is ahead (超序时), below −X behind (欠序时), otherwise on
    schedule (达序时). The CLI sets it to the yellow-light threshold, so 欠序时 coincides with a yellow or
    red light.
    `ledger.file_path` (optional) links the drop file itself.
    """

    as_of: dt.date
    status: pd.DataFrame
    history: pd.DataFrame = field(default_factory=lambda: empty_frame(HISTORY_COLUMNS))
    alerts: pd.DataFrame = field(default_factory=lambda: empty_frame(ALERT_COLUMNS))
    ledger: pd.DataFrame = field(default_factory=lambda: empty_frame(LEDGER_COLUMNS))
    checks: pd.DataFrame = field(default_factory=lambda: empty_frame(CHECK_COLUMNS))
    lag: pd.DataFrame = field(default_factory=lambda: empty_frame(LAG_COLUMNS))
    air_budget: pd.DataFrame | None = None
    schedule_band_points: float = DEFAULT_BAND_POINTS

    def __post_init__(self) -> None:
        self.status = _checked(self.status, STATUS_COLUMNS, "status")
        self.history = _checked(self.history, HISTORY_COLUMNS, "history")
        self.alerts = _checked(self.alerts, ALERT_COLUMNS, "alerts")
        self.ledger = _checked(self.ledger, LEDGER_COLUMNS, "ledger")
        self.checks = _checked(self.checks, CHECK_COLUMNS, "checks")
        self.lag = _checked(self.lag, LAG_COLUMNS, "lag")
        if self.air_budget is not None:
            self.air_budget = _checked(self.air_budget, AIR_BUDGET_COLUMNS, "air_budget")
        if self.schedule_band_points < 0:
            raise ValueError("schedule_band_points must be ≥ 0 (percentage points)")


def report_data_from_warehouse(engine: Engine, catalog: Catalog, as_of: dt.date, *,
                               data_dir: Path | None = None, report_dir: Path | None = None,
                               band_points: float = DEFAULT_BAND_POINTS) -> ReportData:
    """The report's data as the warehouse knew it at the end of `as_of` (see tasks.report.warehouse).

    With `data_dir` (the folder holding raw/ and quarantine/) and `report_dir` (where the report is written),
    receipts, quarantined copies and drop files are linked relative to the report.
    """
    # Imported here: the warehouse models load only when a report needs them.
    from tasks.report.warehouse import load_report_data

    return load_report_data(engine, catalog, as_of, data_dir=data_dir, report_dir=report_dir,
                            band_points=band_points)
