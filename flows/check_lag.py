"""Each working morning: which departments are late with their monthly data."""

from __future__ import annotations

import datetime as dt

from prefect import flow

from tasks.alerts.model import AlertClass
from tasks.pipeline.assess import AlertSummary, check_delivery_lag, update_alerts
from tasks.pipeline.context import run_context
from tasks.pipeline.ingest import prepare_warehouse
from tasks.pipeline.publish import record_alert_artifact, skip_unless_workday


@flow(name="check_lag")
def check_lag(as_of: dt.date | None = None) -> AlertSummary | None:
    """Delivery-lag alerts only (other alert classes are left as they are); nothing on holidays."""
    ctx = run_context(as_of)
    if skip_unless_workday(ctx):
        return None
    prepare_warehouse(ctx)
    lag = check_delivery_lag(ctx)
    alerts = update_alerts(ctx, None, None, lag, evaluated_classes=[AlertClass.DELIVERY_LAG.value])
    record_alert_artifact(ctx, alerts)
    return alerts
