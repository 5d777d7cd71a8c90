"""Evaluation tasks: target status, anomalies, delivery lag and the alert lifecycle, as of the run's date.

The maths lives in tasks/evaluate, tasks/anomalies, tasks/lag and tasks/alerts (pure, unit-tested); these tasks
read their inputs from the warehouse, store the results and send the notices.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from expectations.models import Catalog
from tasks.alerts import alert_candidates, plan_alert_actions, send_notifications
from tasks.alerts.model import AlertCandidate, AlertClass, fingerprint
from tasks.anomalies import anomalies
from tasks.evaluate import days_budget_status, target_status
from tasks.lag import delivery_lag
from tasks.pipeline.context import RunContext
from warehouse.evaluation import (
    known_observations,
    mark_notified,
    open_alerts,
    previous_lights,
    store_alert_actions,
    submissions,
    unresolved_quarantines,
    write_target_status,
)

# Shipped to the run's Prefect logs (PREFECT_LOGGING_EXTRA_LOGGERS=minsheng) and shown on the terminal.
log = logging.getLogger("minsheng.pipeline")


@dataclass
class AlertSummary:
    opened: list[str] = field(default_factory=list)  # one line per alert, Chinese
    escalated: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    updated: int = 0
    notices_sent: int = 0
    notices_failed: int = 0


@task(name="read-observations", cache_policy=NO_CACHE)
def read_observations(ctx: RunContext) -> pd.DataFrame:
    """Every observation as known at the end of `as_of` (what status and anomalies are judged on), read once."""
    return known_observations(ctx.engine, ctx.as_of)


@task(name="evaluate-targets", cache_policy=NO_CACHE)
def evaluate_targets(ctx: RunContext, observations: pd.DataFrame | None = None) -> pd.DataFrame:
    """Status of every target × county as known at the end of `as_of`, stored as that date's history, plus
    the allowance rows (method budget) of days-budget targets such as the good-air-days ratio.

    `observations` are those known at the end of `as_of` (read_observations); read here when not given."""
    if observations is None:
        observations = known_observations(ctx.engine, ctx.as_of)
    previous = previous_lights(ctx.engine, ctx.as_of)
    status = target_status(observations, ctx.catalog, ctx.as_of, ctx.thresholds, previous=previous)
    budgets = days_budget_status(observations, ctx.catalog, ctx.as_of, ctx.thresholds, previous=previous)
    if not budgets.empty:
        status = pd.concat([status, budgets], ignore_index=True)
    write_target_status(ctx.engine, status, ctx.as_of, ctx.recorded_at)
    counts = status["light"].value_counts().to_dict()
    log.info("evaluated %d target × county rows (%d allowance rows): %s", len(status), len(budgets), counts)
    return status


@task(name="detect-anomalies", cache_policy=NO_CACHE)
def detect_anomalies(ctx: RunContext, observations: pd.DataFrame | None = None) -> pd.DataFrame:
    """Implausible jumps, unit slips and decreasing cumulative totals among the observations known on `as_of`."""
    if observations is None:
        observations = known_observations(ctx.engine, ctx.as_of)
    found = anomalies(observations, ctx.catalog, ctx.as_of)
    log.info("%d anomaly finding(s)", len(found))
    return found


@task(name="check-delivery-lag", cache_policy=NO_CACHE)
def check_delivery_lag(ctx: RunContext) -> pd.DataFrame:
    lag = delivery_lag(ctx.catalog, submissions(ctx.engine, ctx.as_of), ctx.as_of)
    log.info("%d department-month(s) overdue", len(lag))
    return lag


def quarantine_candidates(quarantines: pd.DataFrame, catalog: Catalog) -> list[AlertCandidate]:
    """One data-quality alert per quarantined file until the department's next file loads (G10)."""
    team = catalog.calendar.data_team
    out = []
    for row in quarantines.itertuples(index=False):
        name = catalog.department(row.department).name_zh if row.department in {
            d.slug for d in catalog.departments} else row.department
        codes = ", ".join(row.reason_codes or [])
        out.append(AlertCandidate(
            fingerprint=fingerprint("quarantined_file", f"department:{row.department}", None, row.sha256[:16]),
            alert_class=AlertClass.DATA_QUALITY.value, kind="quarantined_file", severity="warning",
            target_id=None, department=row.department, county_code=None, period=None,
            recipients=(row.department, team), escalation_level=0,
            title_zh=f"{name}报送的文件未能入库",
            message_zh=f"{name}报送的文件“{row.relative_name}”有 {row.critical_count} 处必须修改的问题（{codes}），"
                       "已隔离，未入库；请查看回执修改后重新报送。",
            message_en=f"{row.department}: file '{row.relative_name}' was quarantined ({codes}); see its receipt.",
            payload={"sha256": row.sha256, "file": row.relative_name, "reason_codes": list(row.reason_codes or [])},
        ))
    return out


@task(name="update-alerts", cache_policy=NO_CACHE)
def update_alerts(ctx: RunContext, status: pd.DataFrame | None, found: pd.DataFrame | None,
                  lag: pd.DataFrame | None, evaluated_classes: list[str] | None = None) -> AlertSummary:
    """Open, update, escalate and resolve alerts; notify only what is new, escalated or resolved."""
    candidates = alert_candidates(status, found, lag, ctx.catalog, ctx.as_of)
    if evaluated_classes is None or AlertClass.DATA_QUALITY.value in evaluated_classes:
        candidates += quarantine_candidates(unresolved_quarantines(ctx.engine, ctx.as_of), ctx.catalog)
    actions = plan_alert_actions(open_alerts(ctx.engine), candidates, ctx.as_of, evaluated_classes)
    store_alert_actions(ctx.engine, actions, ctx.recorded_at)
    results = send_notifications(actions, ctx.alert_urls) if ctx.alert_urls else []
    mark_notified(ctx.engine, [r.fingerprint for r in results if r.ok], ctx.recorded_at)
    summary = AlertSummary(opened=[a.alert.title_zh for a in actions.open],
                           escalated=[a.alert.title_zh for a in actions.escalate],
                           resolved=[a.alert.title_zh for a in actions.resolve], updated=len(actions.update),
                           notices_sent=sum(r.ok for r in results), notices_failed=sum(not r.ok for r in results))
    logger = log
    logger.info("alerts: %d opened, %d escalated, %d resolved, %d updated; %d notice(s) sent, %d failed",
                len(summary.opened), len(summary.escalated), len(summary.resolved), summary.updated,
                summary.notices_sent, summary.notices_failed)
    for failure in (r for r in results if not r.ok):
        logger.warning("notice not delivered to %s: %s", failure.url or "(no channel)", failure.error)
    return summary
