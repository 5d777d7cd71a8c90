"""Turn the data rows of one laid-out sheet into normalized rows, column at a time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from tasks.contracts import NORMALIZED_COLUMNS, Issue, text_categorical
from tasks.normalize.columns import (
    BoolArray,
    Coded,
    Column,
    ObjArray,
    blank,
    map_unique,
    obj_array,
    pick,
    same,
)
from tasks.normalize.fields import (
    Helpers,
    report_flags,
    resolve_counties,
    resolve_periods,
    resolve_targets,
    resolve_values,
)
from tasks.normalize.headers import Header
from tasks.normalize.layout import Layout
from tasks.normalize.problems import ParseProblem
from tasks.normalize.resolve import default_basis, parse_basis, parse_status
from tasks.normalize.rowissues import RowProblems
from tasks.normalize.rows import data_rows
from tasks.read import RawSheet

_BASIS_CONFLICT = ParseProblem(
    "basis_conflict", "与完成值列表头所示的口径（本月/累计）不一致，请核对。",
    "contradicts the basis implied by the value column's header (本月/累计); check which is meant.")


def _choose_values(layout: Layout, cells: dict[str, Coded], want: ObjArray) -> tuple[Column, Any, Any, Any]:
    """Per row: the raw value, its column header, the basis and the unit that header implies.

    With several value columns (本月完成 | 累计完成) a row takes the one whose basis it wants (its basis column, or
    its target's default), else a column without an implied basis, else the first. With one value column the
    last three are that column's (one value for every row).
    """
    values = layout.values
    if len(values) == 1:
        return cells["value0"], values[0].header, values[0].basis, values[0].unit
    n = len(want)
    conditions = [want == c.basis for c in values] + [np.full(n, c.basis is None) for c in values]
    choice = np.select(conditions, list(range(len(values))) * 2, default=0)
    stack = np.stack([cells[f"value{i}"].rows for i in range(len(values))], axis=1)
    raw = stack[np.arange(n), choice] if n else obj_array([])
    pick = [obj_array([getattr(c, attr) for c in values])[choice] for attr in ("header", "basis", "unit")]
    return raw, pick[0], pick[1], pick[2]


def _blank_or_none(values: Any, n: int) -> BoolArray:
    """blank() for a per-row column or one value for all rows."""
    if isinstance(values, np.ndarray | Coded):
        return blank(values)
    return np.full(n, values is None)


def _unit_texts(unit: Coded | None, header_unit: Any, n: int) -> Column:
    """Per row: the unit column's text, else the unit the value column's header implies (one or per row)."""
    if isinstance(header_unit, np.ndarray):
        return header_unit if unit is None else pick(blank(unit), header_unit, unit.rows)
    if unit is None:
        if header_unit is None:
            return Coded(np.full(n, -1, dtype=np.intp), obj_array([]))
        return Coded(np.zeros(n, dtype=np.intp), obj_array([header_unit]))
    if header_unit is None:
        return unit
    return Coded(np.where(unit.codes < 0, len(unit.uniques), unit.codes), obj_array([*unit.uniques, header_unit]))


def normalize_sheet(sheet: RawSheet, header: Header, layout: Layout, h: Helpers, as_of: dt.date | None,
                    issues: list[Issue]) -> pd.DataFrame:
    """Normalized rows of one sheet; rows with problems are left out and reported in `issues`."""
    start = header.data_start
    numbers = sheet.row_numbers[start:]
    total = len(numbers)
    used = {f"target{i}": c for i, c in enumerate(layout.targets)}
    used |= {f"value{i}": c for i, c in enumerate(layout.values)} | dict(layout.columns)

    def column(index: int) -> Any:
        return sheet.columns[index] if index < len(sheet.columns) else None

    cells = {key: Coded.of_texts(column(c.index), start, total) for key, c in used.items()}
    target_any: Column = cells["target0"]
    if len(layout.targets) > 1:
        target_any = pick(blank(cells["target0"]), cells["target1"].rows, cells["target0"].rows)
    keep = data_rows(sheet, start, numbers, target_any, cells.get("county"),
                     [cells[f"value{i}"] for i in range(len(layout.values))], list(cells.values()), issues)
    numbers = numbers[keep]
    # parsing a period can announce the year it assumed: only the kept rows' periods, in the order they appear
    cells = {k: v.subset(keep, compact=k == "period") for k, v in cells.items()}
    n = len(numbers)
    problems = RowProblems(sheet.name, numbers, {r: (c.header, cells[r]) for r, c in layout.columns.items()})
    if sheet.flags:
        report_flags(sheet, used, numbers, problems, issues)

    ids, id_codes = resolve_targets(layout, cells, h, problems)
    county = resolve_counties(layout, cells, h, problems, n)
    period = resolve_periods(layout, cells, problems, as_of, sheet.name, issues, n)

    want = map_unique(id_codes, lambda tid: default_basis(h.targets.targets[tid]))[0]
    explicit = None
    if "basis" in layout.columns:
        explicit, bad_basis = map_unique(cells["basis"], parse_basis)
        problems.add("basis", bad_basis, explicit, layout.columns["basis"].header, cells["basis"])
        explicit = pick(bad_basis, None, explicit)
        want = pick(blank(explicit), want, explicit)
    raw_value, value_header, implied, header_unit = _choose_values(layout, cells, want)
    basis = pick(_blank_or_none(implied, n), want, implied)
    if explicit is not None:
        conflict = ~blank(explicit) & ~_blank_or_none(implied, n) & (explicit != implied)
        problems.add("basis", conflict, _BASIS_CONFLICT, layout.columns["basis"].header, cells["basis"])
    unit_text = _unit_texts(cells.get("unit"), header_unit, n)
    values = resolve_values(ids, id_codes, raw_value, value_header, unit_text, h, problems)

    status = same(n, "provisional")
    if "status" in layout.columns:
        parsed, bad_status = map_unique(cells["status"], parse_status)
        problems.add("status", bad_status, parsed, layout.columns["status"].header, cells["status"])
        status = pick(blank(parsed) | bad_status, "provisional", parsed)
    note = same(n, None)
    if "note" in layout.columns:  # stored literally: the cell as written, not stripped
        note = Coded.of_texts(column(layout.columns["note"].index), start, total, strip=False).subset(keep).rows
    issues.extend(problems.issues())
    ok = ~problems.bad
    good_ids = ids[ok]
    columns = {
        "target_id": good_ids, "county_code": county[ok], "period": period[ok], "value": values[ok],
        "unit": map_unique(id_codes, lambda t: h.targets.targets[t].unit)[0][ok], "basis": basis[ok],
        "status": status[ok],
        "note": note[ok], "source_sheet": same(len(good_ids), sheet.name),
    }
    # Text columns become categoricals; `value` stays an object column of Decimals (pandas 3 would infer a
    # type and turn None into NaN), taken as it is: no copy, no consolidation into one 2-D block.
    series = {k: pd.Series(v, dtype=object, copy=False) if k == "value" else pd.Series(text_categorical(v), copy=False)
              for k, v in columns.items()}
    series["source_row"] = pd.Series(numbers[ok].astype(np.int64), copy=False)
    return pd.DataFrame({c: series[c] for c in NORMALIZED_COLUMNS}, copy=False)
