"""`minsheng report` (the monthly 督查通报 as static HTML) and `minsheng template` (a department's form)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from expectations.loader import CatalogError, load_catalog
from expectations.models import Catalog
from minsheng.cli import app
from minsheng.settings import get_settings
from tasks.report.data import report_data_from_warehouse
from tasks.report.pdf import print_pdf
from tasks.report.render import render_report
from tasks.report.sample import sample_report_data
from tasks.template import write_template


def _catalog() -> Catalog:
    try:
        return load_catalog(get_settings().catalog_dir)
    except CatalogError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"日期应为YYYY-MM-DD，如2021-07-10 / a date like 2021-07-10, "
                                 f"not {text!r}") from exc


@app.command("report")
def report(
    as_of: str = typer.Option(..., "--as-of", help="report date, YYYY-MM-DD (what was known that day)"),
    out: Path = typer.Option(..., "--out", help="folder to write index.html, checks.html, departments/ into"),
    department: str | None = typer.Option(None, "--department", help="only this lead department's bulletin"),
    sample: bool = typer.Option(False, "--sample", help="render deterministic demo data (no warehouse)"),
    pdf: bool = typer.Option(False, "--pdf", help="also print report.pdf with headless Chromium, if installed"),
) -> None:
    """Write the monthly supervision report (督查通报) as self-contained static HTML."""
    settings = get_settings()
    catalog = _catalog()
    day = _date(as_of)
    if sample:
        data = sample_report_data(catalog, day)
        data.schedule_band_points = settings.yellow_gap_points
    else:
        from warehouse.db import make_engine

        engine = make_engine(settings.resolved_warehouse_url)
        try:
            data = report_data_from_warehouse(engine, catalog, day, data_dir=settings.data_dir,
                                              report_dir=out, band_points=settings.yellow_gap_points)
        finally:
            engine.dispose()
    try:
        index = render_report(data, catalog, out, department)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"report written: {index}")
    if pdf:
        try:
            typer.echo(f"PDF written: {print_pdf(index, out / 'report.pdf')}")
        except RuntimeError as exc:
            typer.echo(str(exc), err=True)


@app.command("template")
def template(
    slug: str = typer.Argument(..., help="department slug, e.g. hrss (its drop folder name)"),
    out: Path = typer.Option(..., "--out", help="the .xlsx file to write"),
    period: str | None = typer.Option(None, "--period", help="pre-fill the month, YYYY-MM"),
    responsible: bool = typer.Option(False, "--responsible",
                                     help="also list targets the department is a responsible unit of"),
) -> None:
    """Write the Excel template a department fills in (报送模板): its targets, county rows, drop-downs."""
    catalog = _catalog()
    try:
        path = write_template(catalog, slug, out, period, include_responsible=responsible)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"template written: {path}")
