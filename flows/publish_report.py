"""The monthly supervision report (督查通报), after the reporting deadline has passed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import flow

from tasks.pipeline.context import run_context
from tasks.pipeline.publish import record_report_artifact
from tasks.report.publish import publish_report_task


@flow(name="publish_report")
def publish_report(as_of: dt.date | None = None, department: str | None = None) -> Path:
    """Write the report as of `as_of` (data/reports/<as_of>/index.html) and publish it as a Prefect artifact."""
    ctx = run_context(as_of)
    index = publish_report_task(ctx, department)
    record_report_artifact(ctx, index)
    return index
