"""Dimensions from the catalog: departments, counties, periods and targets, synced idempotently."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Context, Decimal
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from expectations.models import Catalog
from warehouse.db import write_connection
from warehouse.models import DimCounty, DimDepartment, DimPeriod, DimTarget

PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_WIDE = Context(prec=80)  # wider than NUMERIC(30, 10): canonical text never rounds


def decimal_text(value: Decimal) -> str:
    """The canonical exact string of a decimal: plain notation, no exponent, no trailing zeros ('1E+2' → '100')."""
    if not value.is_finite():
        raise ValueError(f"not a finite number: {value}")
    if value == 0:
        return "0"
    return format(value.normalize(_WIDE), "f")


def period_row(period: str, *, in_plan: bool) -> dict[str, Any]:
    """The dim_period row of a 'YYYY-MM' month."""
    match = PERIOD.match(period)
    if match is None:
        raise ValueError(f"period {period!r} is not YYYY-MM")
    year, month = int(match.group(1)), int(match.group(2))
    start = dt.date(year, month, 1)
    end = (dt.date(year + month // 12, month % 12 + 1, 1)) - dt.timedelta(days=1)
    return {"period": period, "year": year, "month": month, "quarter": (month - 1) // 3 + 1, "start_date": start,
            "end_date": end, "label_zh": f"{year}年{month}月", "in_plan": in_plan}


def _months(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _opt_text(value: Decimal | None) -> str | None:
    return None if value is None else decimal_text(value)


def catalog_rows(catalog: Catalog) -> dict[Table, tuple[str, list[dict[str, Any]]]]:
    """The rows every dimension table should hold for `catalog`, keyed by table, with the key column name."""
    departments = [{"department": d.slug, "name_zh": d.name_zh, "name_en": d.name_en, "kind": d.kind,
                    "aliases": list(d.aliases), "due_workday": d.due_workday, "in_catalog": True}
                   for d in catalog.departments]
    counties = [{"county_code": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "kind": c.kind.value,
                 "aliases": list(c.aliases), "former_names": list(c.former_names), "valid_from": c.valid_from,
                 "valid_to": c.valid_to, "in_catalog": True} for c in catalog.counties]
    cal = catalog.calendar
    plan_months = set(_months(cal.first_period, cal.last_period))
    periods = [period_row(p, in_plan=p in plan_months)
               for p in sorted(plan_months | set(_months(f"{catalog.year}-01", f"{catalog.year}-12")))]
    programs = {p.id: p for p in catalog.programs}
    targets = []
    for t in catalog.targets:
        program = programs.get(t.program)
        targets.append({
            "target_id": t.id, "name_zh": t.name_zh, "name_en": t.name_en, "program": t.program,
            "program_name_zh": program.name_zh if program else t.program,
            "program_name_en": program.name_en if program else t.program,
            "ref": t.ref, "lead_department": t.lead_department, "lead_departments": list(t.lead_departments),
            "responsible_units": list(t.responsible_units), "unit": t.unit, "unit_written": t.unit_written,
            "comparator": t.comparator.value, "target_value": t.value, "target_value_text": _opt_text(t.value),
            "tolerance_text": _opt_text(t.tolerance), "direction": t.direction.value, "kind": t.kind.value,
            "scope": t.scope.value, "counties": list(t.counties),
            "county_values": {code: decimal_text(v) for code, v in t.county_values.items()},
            "additive": t.additive, "frequency": t.frequency.value, "deadline": t.deadline,
            "bounds_min_text": _opt_text(t.bounds.min), "bounds_max_text": _opt_text(t.bounds.max),
            "aliases": list(t.aliases), "in_catalog": True,
        })
    return {
        DimDepartment.__table__: ("department", departments),  # type: ignore[dict-item]
        DimCounty.__table__: ("county_code", counties),  # type: ignore[dict-item]
        DimPeriod.__table__: ("period", periods),  # type: ignore[dict-item]
        DimTarget.__table__: ("target_id", targets),  # type: ignore[dict-item]
    }


# Columns whose stored form is derived from another compared column (REAL on SQLite would compare inexactly).
_DERIVED = {"target_value"}


def _sync_table(conn: Connection, table: Table, key: str, rows: list[dict[str, Any]],
                retire: bool) -> dict[str, int]:
    existing = {r[key]: dict(r) for r in conn.execute(select(table)).mappings()}
    wanted = {r[key]: r for r in rows}
    inserts = [r for k, r in wanted.items() if k not in existing]
    updates = [r for k, r in wanted.items() if k in existing
               and any(existing[k][c] != v for c, v in r.items() if c not in _DERIVED)]
    retired = [k for k, r in existing.items() if retire and k not in wanted and r.get("in_catalog")]
    if inserts:
        conn.execute(table.insert(), inserts)
    keyed = table.c[key] == bindparam("_key")
    if updates:
        conn.execute(update(table).where(keyed), [{**r, "_key": r[key]} for r in updates])
    if retired:
        conn.execute(update(table).where(keyed).values(in_catalog=False), [{"_key": k} for k in retired])
    return {"inserted": len(inserts), "updated": len(updates), "retired": len(retired)}


def sync_dimensions(engine: Engine, catalog: Catalog) -> dict[str, dict[str, int]]:
    """Make the dimension tables match the catalog, in one transaction; a second run changes nothing.

    New entries are inserted, changed ones updated, and entries no longer in the catalog are kept (facts refer
    to them) with `in_catalog` false. Periods are only ever added. Returns counts per table.
    """
    with write_connection(engine) as conn, conn.begin():
        return {table.name: _sync_table(conn, table, key, rows, retire=table.name != "dim_period")
                for table, (key, rows) in catalog_rows(catalog).items()}


def ensure_periods(conn: Connection, periods: Iterable[str]) -> int:
    """Add dim_period rows for months a drop reports that the catalog's calendar did not list; returns added."""
    table: Table = DimPeriod.__table__  # type: ignore[assignment]
    wanted = sorted(set(periods))
    if not wanted:
        return 0
    have = set(conn.execute(select(table.c.period).where(table.c.period.in_(wanted))).scalars())
    missing = [period_row(p, in_plan=False) for p in wanted if p not in have]
    if missing:  # ON CONFLICT DO NOTHING: a concurrent load may add the same month first
        insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
        conn.execute(insert.on_conflict_do_nothing(index_elements=["period"]), missing)
    return len(missing)
