"""The Prefect task of the `publish_report` flow: read the warehouse as of the run's date, write the report."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.pipeline.context import RunContext
from tasks.report.data import DEFAULT_BAND_POINTS, report_data_from_warehouse
from tasks.report.render import render_report


def report_dir(ctx: RunContext, department: str | None = None) -> Path:
    """Where a run's report goes: data/reports/<as_of>/ (a department's alone under <as_of>/<slug>/)."""
    base = ctx.reports_dir / ctx.as_of.isoformat()
    return base if department is None else base / department


@task(name="publish-report", cache_policy=NO_CACHE)
def publish_report_task(ctx: RunContext, department: str | None = None,
                        band_points: float = DEFAULT_BAND_POINTS) -> Path:
    """Write the supervision report as of `ctx.as_of` from the warehouse; return its index.html."""
    out = report_dir(ctx, department)
    data = report_data_from_warehouse(ctx.engine, ctx.catalog, ctx.as_of, data_dir=ctx.data_dir, report_dir=out,
                                      band_points=band_points)
    return render_report(data, ctx.catalog, out, department)
