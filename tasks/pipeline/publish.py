"""Publishing: curated Parquet after the commits, and Prefect artifacts that say what a run did."""

from __future__ import annotations

from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from tasks.contracts import Outcome
from tasks.pipeline.context import RunContext
from tasks.pipeline.ingest import IngestSummary
from warehouse.curated import curated_is_stale, publish_curated, rebuild_curated


@task(name="publish-curated", cache_policy=NO_CACHE)
def publish_curated_tables(ctx: RunContext) -> None:
    """Rewrite the curated Parquet from the database; rebuild it whole when it is missing or stale (G5)."""
    if curated_is_stale(ctx.engine, ctx.curated_dir):
        rebuild_curated(ctx.engine, ctx.curated_dir)
        get_run_logger().info("curated Parquet rebuilt from the warehouse under %s", ctx.curated_dir)
    else:
        publish_curated(ctx.engine, ctx.curated_dir)


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
