"""Publishing: curated Parquet after the commits, and Prefect artifacts that say what a run did."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from prefect import task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from tasks.contracts import Outcome
from tasks.lag import is_workday
from tasks.pipeline.assess import AlertSummary
from tasks.pipeline.context import RunContext
from tasks.pipeline.ingest import DropResult, IngestSummary
from warehouse.curated import publish_after_loads

# Shipped to the run's Prefect logs (PREFECT_LOGGING_EXTRA_LOGGERS=minsheng) and shown on the terminal.
log = logging.getLogger("minsheng.pipeline")


@task(name="publish-curated", cache_policy=NO_CACHE)
def publish_curated_tables(ctx: RunContext, results: Sequence[DropResult] = ()) -> None:
    """Bring the curated Parquet up to date with the database: from what this run's loads wrote (`results`)
    where the files prove nothing else changed, else by re-reading; rebuilt whole when still stale (G5)."""
    changes = [r.changes for r in results if r.changes is not None]
    if publish_after_loads(ctx.engine, ctx.curated_dir, changes):
        log.info("curated Parquet rebuilt from the warehouse under %s", ctx.curated_dir)


def ingest_markdown(summary: IngestSummary) -> str:
    """The ingest part of a run's summary, as markdown."""
    lines = [
        f"## 数据接收 / Ingest — as of {summary.as_of}",
        "",
        f"- 入库文件 / loaded: **{summary.count(Outcome.LOAD, Outcome.LOAD_WITH_WARNINGS)}** "
        f"(其中有提示 with warnings: {summary.count(Outcome.LOAD_WITH_WARNINGS)}), rows: {summary.rows_loaded}",
        f"- 隔离文件 / quarantined: **{summary.count(Outcome.QUARANTINE)}**",
        f"- 重复文件 / duplicates: {summary.duplicates + summary.count(Outcome.IGNORE)}",
        f"- 仍在写入 / still being written: {summary.unstable}",
    ]
    if summary.unknown_folders:
        lines.append(f"- 未登记的文件夹 / unregistered folders (not read): {', '.join(summary.unknown_folders)}")
    if summary.results:
        lines += ["", "| 部门 department | 文件 file | 结果 outcome | 行 rows | 问题 issues |", "|---|---|---|---|---|"]
        lines += [f"| {r.department} | {r.relative_name} | {r.outcome.value} | {r.rows_loaded} | {r.issues} |"
                  for r in summary.results]
    return "\n".join(lines)


@task(name="record-ingest-artifact", cache_policy=NO_CACHE)
def record_ingest_artifact(summary: IngestSummary) -> None:
    create_markdown_artifact(ingest_markdown(summary), key="ingest-summary",
                             description=f"minsheng ingest as of {summary.as_of}")


@task(name="record-report-artifact", cache_policy=NO_CACHE)
def record_report_artifact(ctx: RunContext, index: Path) -> None:
    """A link to the report plus a short markdown summary, so the data team finds it from the Prefect UI."""
    create_link_artifact(index.resolve().as_uri(), link_text=f"督查通报 {ctx.as_of}", key="supervision-report",
                         description=f"minsheng supervision report as of {ctx.as_of}")
    create_markdown_artifact(f"## 督查通报 / Supervision report — {ctx.as_of}\n\n"
                             f"[{index.name}]({index.resolve().as_uri()}) written to `{index.parent}`.",
                             key="supervision-report-summary")


@dataclass
class TickSummary:
    as_of: dt.date
    ingest: IngestSummary
    alerts: AlertSummary
    warehouse_url: str
    data_dir: str


def alert_markdown(alerts: AlertSummary) -> str:
    lines = [f"## 预警 / Alerts: {len(alerts.opened)} opened, {len(alerts.escalated)} escalated, "
             f"{len(alerts.resolved)} resolved, {alerts.updated} updated",
             f"- notices sent: {alerts.notices_sent}, failed: {alerts.notices_failed}"]
    for label, titles in (("新增 opened", alerts.opened), ("升级 escalated", alerts.escalated),
                          ("解除 resolved", alerts.resolved)):
        lines += [f"- {label}: {t}" for t in titles[:50]]
    return "\n".join(lines)


@task(name="record-alert-artifact", cache_policy=NO_CACHE)
def record_alert_artifact(ctx: RunContext, alerts: AlertSummary) -> None:
    create_markdown_artifact(alert_markdown(alerts), key="alerts-summary",
                             description=f"minsheng alerts as of {ctx.as_of}")


@task(name="record-tick-artifact", cache_policy=NO_CACHE)
def record_tick_artifact(summary: TickSummary) -> None:
    create_markdown_artifact(f"# minsheng tick — {summary.as_of}\n\n{ingest_markdown(summary.ingest)}\n\n"
                             f"{alert_markdown(summary.alerts)}", key="tick-summary",
                             description=f"what the tick as of {summary.as_of} did")


@task(name="skip-unless-workday", cache_policy=NO_CACHE)
def skip_unless_workday(ctx: RunContext) -> bool:
    """True (skip) on Chinese public holidays and weekends that are not adjusted working days."""
    if is_workday(ctx.as_of):
        return False
    log.info("%s is not a working day in China; nothing to check", ctx.as_of)
    return True
