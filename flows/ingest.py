"""Collect new drops from the department folders, validate them and load the warehouse."""

from __future__ import annotations

import datetime as dt

from prefect import flow, unmapped

from flows.runners import per_file_task_runner
from tasks.pipeline.context import run_context
from tasks.pipeline.ingest import (
    IngestSummary,
    acknowledge_duplicates,
    discover_drops,
    prepare_warehouse,
    process_drop,
    summarise_ingest,
)
from tasks.pipeline.publish import publish_curated_tables, record_ingest_artifact


@flow(name="ingest", task_runner=per_file_task_runner())
def ingest(as_of: dt.date | None = None) -> IngestSummary:
    """One pass over the inboxes: each new file is judged and loaded (or quarantined) in its own transaction."""
    ctx = run_context(as_of)
    prepare_warehouse(ctx)
    scan = discover_drops(ctx)
    results = process_drop.map([*scan.drops, *scan.empty], ctx=unmapped(ctx)).result()
    duplicates = acknowledge_duplicates(scan, ctx)
    publish_curated_tables(ctx, results)
    summary = summarise_ingest(ctx, scan, results, duplicates)
    record_ingest_artifact(summary)
    return summary
