"""The whole cycle once: ingest → evaluate (progress, anomalies, lag) → alerts, with one summary artifact."""

from __future__ import annotations

import datetime as dt

from prefect import flow

from flows.evaluate import evaluate
from flows.ingest import ingest
from flows.runners import per_file_task_runner
from tasks.pipeline.context import run_context
from tasks.pipeline.publish import TickSummary, record_tick_artifact


@flow(name="tick")
def tick(as_of: dt.date | None = None) -> TickSummary:
    """One full cycle as of `as_of` (default today, Beijing time); re-running it for the same date changes
    nothing and notifies nobody again."""
    ctx = run_context(as_of)
    ingested = ingest.with_options(task_runner=per_file_task_runner())(ctx.as_of)
    alerts = evaluate(ctx.as_of)
    summary = TickSummary(ctx.as_of, ingested, alerts, str(ctx.warehouse_url), str(ctx.data_dir))
    record_tick_artifact(summary)
    return summary
