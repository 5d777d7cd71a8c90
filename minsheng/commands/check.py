"""`minsheng check FILE --department SLUG`: the pipeline's verdict on a file, without loading anything."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import inspect

from expectations.models import Catalog, Kind
from minsheng.cli import app
from minsheng.settings import get_settings
from tasks.contracts import Outcome, Severity, Verdict, outcome_for
from tasks.pipeline.context import cached_catalog, cached_engine, today_in_plan_tz
from tasks.pipeline.ingest import judge_file
from tasks.read import ReadLimits
from tasks.receipts import OUTCOME_EN, OUTCOME_ZH
from warehouse.loadchecks import check_cumulative_not_decreasing


def _against_warehouse(verdict: Verdict, catalog: Catalog, url: str) -> Verdict:
    """Add the cross-file check the loader runs (cumulative never decreases), when a warehouse exists."""
    if verdict.outcome == Outcome.QUARANTINE or not len(verdict.rows):
        return verdict
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return verdict
    engine = cached_engine(url)
    if not inspect(engine).has_table("fact_observation"):
        return verdict
    cumulative = [t.id for t in catalog.targets if t.kind == Kind.CUMULATIVE]
    with engine.connect() as conn:
        found = check_cumulative_not_decreasing(conn, verdict.rows, cumulative)
    if not found:
        return verdict
    issues = verdict.issues + found
    return Verdict(outcome_for(issues), verdict.rows, issues)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):  # a JSON number when exact, else the decimal string
        if value == value.to_integral_value():
            return int(value)
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else str(value)
    return None if value is pd.NA else value


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    """The machine-readable verdict: outcome, canonical rows and every issue."""
    rows = verdict.rows[["target_id", "county_code", "period", "value", "unit"]].to_dict("records") \
        if len(verdict.rows) else []
    return {
        "outcome": verdict.outcome.value,
        "rows": [{k: _plain(v) for k, v in row.items()} for row in rows],
        "issues": [{k: i.to_dict()[k] for k in ("severity", "code", "sheet", "row", "column", "message_zh",
                                                 "message_en")} for i in verdict.issues],
    }


def _print_verdict(console: Console, path: Path, verdict: Verdict) -> None:
    colour = {Outcome.LOAD: "green", Outcome.LOAD_WITH_WARNINGS: "yellow"}.get(verdict.outcome, "red")
    console.print(f"[bold]{path.name}[/bold]: [{colour}]{OUTCOME_ZH[verdict.outcome]}[/{colour}] / "
                  f"{OUTCOME_EN[verdict.outcome]}")
    console.print(f"可入库数据行 / rows that would load: {len(verdict.rows)}")
    shown = [i for i in verdict.issues if i.severity != Severity.INFO]
    if shown:
        table = Table("级别", "工作表", "行", "列", "问题及修改方法 / what to fix", show_lines=False)
        for issue in shown[:100]:
            table.add_row(issue.severity.value, issue.sheet or "", str(issue.row or ""), issue.column or "",
                          f"{issue.message_zh}\n[dim]{issue.message_en}[/dim]")
        console.print(table)
        if len(shown) > 100:
            console.print(f"…另有 {len(shown) - 100} 项 / {len(shown) - 100} more")


@app.command()
def check(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="the file a department wants to drop"),
    department: str = typer.Option(..., "--department", "-d", help="department slug (its drop folder name)"),
    as_of: str | None = typer.Option(None, "--as-of", help="judge as of this date (YYYY-MM-DD); default today"),
    as_json: bool = typer.Option(False, "--json", help="print the verdict as JSON"),
) -> None:
    """Give a department the verdict the pipeline would give its file, without loading anything.

    Exit status 0 when the file would load, 1 when it would be quarantined.
    """
    settings = get_settings()
    catalog = cached_catalog(settings.catalog_dir.resolve())
    known = {d.slug for d in catalog.departments}
    if department not in known:
        raise typer.BadParameter(f"unknown department {department!r}; one of: {', '.join(sorted(known))}",
                                 param_hint="--department")
    day = dt.date.fromisoformat(as_of) if as_of else today_in_plan_tz()
    limits = ReadLimits(max_bytes=settings.max_file_bytes, max_rows=settings.max_rows,
                        max_columns=settings.max_columns)
    verdict = judge_file(file, department, catalog, limits, day)
    verdict = _against_warehouse(verdict, catalog, settings.resolved_warehouse_url)
    if as_json:
        typer.echo(json.dumps(verdict_json(verdict), ensure_ascii=False, indent=2))
    else:
        _print_verdict(Console(), file, verdict)
    raise typer.Exit(1 if verdict.outcome == Outcome.QUARANTINE else 0)

