"""`minsheng catalog`: browse the target catalog, or export every target as CSV or JSON.

The export is a contract for scripts: the columns `EXPORT_COLUMNS` start with `LEADING_COLUMNS` in that
order (then every other field of a target). CSV cells are text: values are exact decimal strings, lists are
joined by `|`, and any cell a spreadsheet could run as a formula is neutralised (OWASP ASVS 1.2.10). JSON is a
list of objects with the same keys; values are JSON numbers whose text is the exact decimal.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from expectations.loader import CatalogError, load_catalog
from expectations.models import Catalog, Comparator, Kind, Target
from minsheng.cli import app
from minsheng.settings import get_settings

LEADING_COLUMNS: tuple[str, ...] = (
    "id", "name_zh", "aliases", "name_en", "program", "ref", "lead_department", "comparator", "value", "unit",
    "kind", "scope",
)
EXPORT_COLUMNS: tuple[str, ...] = (
    *LEADING_COLUMNS, "lead_departments", "responsible_units", "responsible_groups", "counties_responsible",
    "unit_written", "tolerance", "direction", "counties", "county_values", "additive", "frequency",
    "deadline", "bounds_min", "bounds_max", "days_budget", "source_text", "notes",
)
# Cells starting with these are run as formulas by Excel/LibreOffice (ASVS 1.2.10); TAB and NUL included.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\0", "\r")

catalog_app = typer.Typer(
    name="catalog", invoke_without_command=True, no_args_is_help=False,
    help="List the plan's targets (filter by program, department, kind) or export them all.",
)
app.add_typer(catalog_app, name="catalog")


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


def target_record(target: Target) -> dict[str, Any]:
    """One target as a flat record with the EXPORT_COLUMNS keys (Decimals kept, lists kept as lists)."""
    t = target
    return {
        "id": t.id, "name_zh": t.name_zh, "aliases": list(t.aliases), "name_en": t.name_en,
        "program": t.program, "ref": t.ref, "lead_department": t.lead_department,
        "comparator": t.comparator.value, "value": t.value, "unit": t.unit,
        "kind": t.kind.value, "scope": t.scope.value,
        "lead_departments": list(t.lead_departments), "responsible_units": list(t.responsible_units),
        "responsible_groups": list(t.responsible_groups), "counties_responsible": t.counties_responsible,
        "unit_written": t.unit_written, "tolerance": t.tolerance, "direction": t.direction.value,
        "counties": list(t.counties), "county_values": dict(t.county_values),
        "additive": t.additive, "frequency": t.frequency.value,
        "deadline": t.deadline.isoformat() if t.deadline else None,
        "bounds_min": t.bounds.min, "bounds_max": t.bounds.max, "days_budget": t.days_budget,
        "source_text": t.source_text, "notes": t.notes,
    }


def decimal_text(value: Decimal) -> str:
    """A Decimal as plain positional text, without exponent or trailing zeros: 4E+4 → 40000, 5.50 → 5.5."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def neutralize(cell: str) -> str:
    """Prefix `'` to a cell a spreadsheet would run as a formula; plain numbers such as -100 stay as is."""
    if not cell.startswith(_FORMULA_START):
        return cell
    try:
        Decimal(cell)
        return cell
    except ArithmeticError:
        return "'" + cell


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    if isinstance(value, dict):
        return "|".join(f"{k}={decimal_text(v)}" for k, v in value.items())
    return neutralize(str(value))


def to_csv(records: list[dict[str, Any]]) -> str:
    """Records as CSV text (header EXPORT_COLUMNS); list cells joined by `|`, county values as code=value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for record in records:
        writer.writerow([neutralize(_csv_cell(record[c])) for c in EXPORT_COLUMNS])
    return out.getvalue()


def _json_number(value: Decimal) -> int | float | str:
    # Up to 15 significant digits a float's shortest repr is the decimal's own text; beyond, keep the exact
    # text rather than a rounded number (no catalog value comes near).
    if value == value.to_integral_value():
        return int(value)
    number = float(value)
    return number if Decimal(repr(number)) == value else decimal_text(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _json_number(value)
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    return value


def to_json(records: list[dict[str, Any]]) -> str:
    """Records as a JSON list of objects with the EXPORT_COLUMNS keys, in that order."""
    return json.dumps([{c: _json_value(r[c]) for c in EXPORT_COLUMNS} for r in records], ensure_ascii=False,
                      indent=2) + "\n"


def select_targets(catalog: Catalog, program: str | None = None, department: str | None = None,
                   kind: str | None = None) -> list[Target]:
    """Targets of a program, of a department (led or answered for) and of a kind; None means any."""
    if program is not None and program not in {p.id for p in catalog.programs}:
        known = ", ".join(p.id for p in catalog.programs)
        raise typer.BadParameter(f"unknown program {program!r}; one of {known}", param_hint="--program")
    if department is not None and department not in {d.slug for d in catalog.departments}:
        raise typer.BadParameter(f"unknown department slug {department!r}", param_hint="--department")
    if kind is not None and kind not in {k.value for k in Kind}:
        raise typer.BadParameter(f"unknown kind {kind!r}; one of {', '.join(k.value for k in Kind)}",
                                 param_hint="--kind")
    targets = catalog.targets_of(department) if department is not None else list(catalog.targets)
    return [t for t in targets
            if (program is None or t.program == program) and (kind is None or t.kind == kind)]


def goal_text(catalog: Catalog, target: Target) -> str:
    """The goal in the plan's written unit: '>= 4万人', '~ 360±7.2万亩', 'done by 2021-12-31'."""
    if target.comparator == Comparator.DONE:
        return f"done by {target.deadline}" if target.deadline else "done"
    if target.comparator == Comparator.INCREASE:
        return f"increase ({target.unit_written})"
    factor = catalog.conversion_factor(target.unit_written, target.unit) or Decimal(1)

    def written(v: Decimal) -> str:
        return decimal_text(v / factor)

    band = f"±{written(target.tolerance)}" if target.tolerance is not None else ""
    if target.value is not None:
        return f"{target.comparator.value} {written(target.value)}{band}{target.unit_written}"
    values = sorted(set(target.county_values.values()))
    span = f"{written(values[0])}–{written(values[-1])}"
    return f"{target.comparator.value} {span}{target.unit_written} by county"


def _load() -> Catalog:
    try:
        return load_catalog(get_settings().catalog_dir)
    except CatalogError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc


@catalog_app.callback()
def show(
    ctx: typer.Context,
    program: str | None = typer.Option(None, "--program", "-p", help="program id, e.g. employment"),
    department: str | None = typer.Option(None, "--department", "-d", help="department slug, e.g. hrss"),
    kind: str | None = typer.Option(None, "--kind", "-k", help="cumulative, level, budget or milestone"),
) -> None:
    """Print the targets as a table (id, name, goal, kind, lead department)."""
    if ctx.invoked_subcommand is not None:
        return
    catalog = _load()
    targets = select_targets(catalog, program, department, kind)
    table = Table(title=f"{catalog.plan_zh}: {len(targets)} targets", show_lines=False)
    for column in ("id", "name_zh", "goal", "kind", "lead"):
        table.add_column(column, overflow="fold")
    for t in targets:
        table.add_row(t.id, t.name_zh, goal_text(catalog, t), t.kind.value, t.lead_department)
    Console().print(table)


@catalog_app.command("export")
def export(
    fmt: ExportFormat = typer.Option(ExportFormat.CSV, "--format", "-f", help="csv or json"),
    out: Path | None = typer.Option(None, "--out", "-o", help="file to write (default: standard output)"),
) -> None:
    """Write every target with all its fields as CSV or JSON (UTF-8)."""
    records = [target_record(t) for t in _load().targets]
    text = to_csv(records) if fmt == ExportFormat.CSV else to_json(records)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8", newline="")
        typer.echo(f"wrote {len(records)} targets to {out}", err=True)
