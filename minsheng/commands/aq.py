"""`minsheng aq …`: air quality from station feeds, without loading anything into the warehouse."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from minsheng.cli import app

aq_app = typer.Typer(help="Air quality from monitoring-station feeds (HJ 633-2012 daily AQI, good-days ratio).",
                     no_args_is_help=True)
app.add_typer(aq_app, name="aq")


@aq_app.command("derive")
def derive_command(
    source: Path = typer.Argument(..., help="a feed file (CSV/Parquet) or a folder of them", exists=True),
    stations: Path = typer.Option(..., "--stations", help="station registry (stations.yaml)", exists=True),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
    co_unit: str | None = typer.Option(None, "--co-unit", help="CO unit when the header does not say: mg/m3 or ug/m3"),
    hour_label: str = typer.Option("start", "--hour-label",
                                   help="hourly times label the hour's start (00-23) or end (01-24)"),
) -> None:
    """Per area, year and month: valid days, good days (AQI ≤ 100), good-days ratio, mean PM2.5, heavy days."""
    from tasks.aq import RegistryError, load_registry, run_derivation
    from tasks.contracts import Severity

    err = Console(stderr=True)
    if co_unit not in (None, "mg/m3", "ug/m3"):
        raise typer.BadParameter("use mg/m3 or ug/m3", param_hint="--co-unit")
    if hour_label not in ("start", "end"):
        raise typer.BadParameter("use start or end", param_hint="--hour-label")
    try:
        registry = load_registry(stations)
    except RegistryError as exc:
        err.print(str(exc), style="red", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from exc
    result = run_derivation(source, registry, co_unit=co_unit, hour_label=hour_label)  # type: ignore[arg-type]
    for issue in result.issues:
        where = ":".join(str(x) for x in (issue.sheet, issue.row) if x is not None)
        err.print(f"{issue.severity.value}: {issue.code} {where} {issue.column or ''} {issue.message_zh} / "
                  f"{issue.message_en}", markup=False, highlight=False, soft_wrap=True)
    if any(i.severity == Severity.CRITICAL for i in result.issues):
        raise typer.Exit(1)
    rows = summary_rows(result.summary())
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Air quality · {source.name}")
    for column in ("area", "year", "month", "valid days", "good days", "good %", "PM2.5 µg/m³", "heavy days"):
        table.add_column(column, justify="left" if column == "area" else "right")
    for row in rows:
        table.add_row(registry.area_name(row["area"]), str(row["year"]),
                      "全年" if row["month"] is None else str(row["month"]), str(row["valid_days"]),
                      str(row["good_days"]), _text(row["good_ratio_pct"]), _text(row["pm25_mean"]),
                      str(row["heavy_days"]))
    Console().print(table)


def summary_rows(summary: Any) -> list[dict[str, Any]]:
    """Summary frame → JSON-ready dicts; exact Decimals become numbers with their decimals, missing → null."""
    import pandas as pd

    return [{"area": str(r.area), "year": int(r.year), "month": None if pd.isna(r.month) else int(r.month),
             "valid_days": int(r.valid_days), "good_days": int(r.good_days),
             "good_ratio_pct": _number(r.good_ratio_pct), "pm25_mean": _number(r.pm25_mean),
             "heavy_days": int(r.heavy_days)}
            for r in summary.itertuples(index=False)]


def _number(value: Decimal | None) -> float | None:
    # One-decimal Decimals print identically as floats (47.1 → 47.1): JSON keeps the published figure.
    return None if value is None else float(value)


def _text(value: float | None) -> str:
    return "—" if value is None else f"{value}"
