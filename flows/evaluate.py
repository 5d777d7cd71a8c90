"""Progress against the time-proportional schedule, anomalies, delivery lag and alerts, as of a date."""

from __future__ import annotations

import datetime as dt

from prefect import flow

from tasks.pipeline.assess import (
    AlertSummary,
    check_delivery_lag,
    detect_anomalies,
    evaluate_targets,
    read_observations,
    update_alerts,
)
from tasks.pipeline.context import run_context
from tasks.pipeline.ingest import prepare_warehouse
from tasks.pipeline.publish import record_alert_artifact


@flow(name="evaluate")
def evaluate(as_of: dt.date | None = None) -> AlertSummary:
    """Evaluate every target as known at the end of `as_of` and bring the alerts up to date."""
    ctx = run_context(as_of)
    prepare_warehouse(ctx)
    observations = read_observations(ctx)
    status = evaluate_targets(ctx, observations)
    found = detect_anomalies(ctx, observations)
    lag = check_delivery_lag(ctx)
    alerts = update_alerts(ctx, status, found, lag)
    record_alert_artifact(ctx, alerts)
    return alerts
