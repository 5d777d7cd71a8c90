"""Turn the data rows of one laid-out sheet into normalized rows, column at a time."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from tasks.contracts import NORMALIZED_COLUMNS, Issue
from tasks.normalize.columns import ObjArray, blank, cells_of, column_of, map_unique, obj_array, pick
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


def _choose_values(layout: Layout, cells: dict[str, ObjArray], want: ObjArray) -> tuple[ObjArray, ...]:
    """Per row: the raw value, its column header, the basis and the unit that header implies.

    With several value columns (本月完成 | 累计完成) a row takes the one whose basis it wants (its basis column, or
    its target's default), else a column without an implied basis, else the first.
    """
    n = len(want)
    values = layout.values
    choice = np.zeros(n, dtype=np.int64)
    if len(values) > 1:
        conditions = [want == c.basis for c in values] + [np.full(n, c.basis is None) for c in values]
        choice = np.select(conditions, list(range(len(values))) * 2, default=0)
    stack = np.stack([cells[f"value{i}"] for i in range(len(values))], axis=1)
    raw = stack[np.arange(n), choice] if n else obj_array([])
    pick = [obj_array([getattr(c, attr) for c in values])[choice] for attr in ("header", "basis", "unit")]
    return raw, pick[0], pick[1], pick[2]


def normalize_sheet(sheet: RawSheet, header: Header, layout: Layout, h: Helpers, as_of: dt.date | None,
                    issues: list[Issue]) -> pd.DataFrame:
    """Normalized rows of one sheet; rows with problems are left out and reported in `issues`."""
    data = sheet.rows[header.data_start:]
    numbers = np.asarray(sheet.row_numbers[header.data_start:], dtype=np.int64)
    used = {f"target{i}": c for i, c in enumerate(layout.targets)}
    used |= {f"value{i}": c for i, c in enumerate(layout.values)} | dict(layout.columns)
    lengths = np.fromiter(map(len, data), dtype=np.int64, count=len(data))
    cells = {key: column_of(data, lengths, c.index) for key, c in used.items()}
    target_any = cells["target0"]
    if len(layout.targets) > 1:
        target_any = pick(blank(target_any), cells["target1"], target_any)
    keep = data_rows(sheet.name, data, numbers, target_any, cells.get("county"),
                     [cells[f"value{i}"] for i in range(len(layout.values))], list(cells.values()), issues)
    numbers = numbers[keep]
    kept = np.flatnonzero(keep)
    cells = {k: v[keep] for k, v in cells.items()}
    n = len(numbers)
    problems = RowProblems(sheet.name, numbers, {r: (c.header, cells[r]) for r, c in layout.columns.items()})
    if sheet.flags:
        report_flags(sheet, used, numbers, problems, issues)

    ids = resolve_targets(layout, cells, h, problems)
    county = resolve_counties(layout, cells, h, problems, n)
    period = resolve_periods(layout, cells, problems, as_of, sheet.name, issues, n)

    want = map_unique(ids, lambda tid: default_basis(h.targets.targets[tid]))[0]
    explicit = None
    if "basis" in layout.columns:
        explicit, bad_basis = map_unique(cells["basis"], parse_basis)
        problems.add("basis", bad_basis, explicit, layout.columns["basis"].header, cells["basis"])
        explicit = pick(bad_basis, None, explicit)
        want = pick(blank(explicit), want, explicit)
    raw_value, value_header, implied, header_unit = _choose_values(layout, cells, want)
    basis = pick(blank(implied), want, implied)
    if explicit is not None:
        conflict = ~blank(explicit) & ~blank(implied) & (explicit != implied)
        problems.add("basis", conflict, _BASIS_CONFLICT, layout.columns["basis"].header, cells["basis"])
    unit_text = header_unit
    if "unit" in cells:
        unit_text = pick(blank(cells["unit"]), header_unit, cells["unit"])
    values = resolve_values(ids, raw_value, value_header, unit_text, h, problems)

    status = obj_array(["provisional"] * n)
    if "status" in layout.columns:
        parsed, bad_status = map_unique(cells["status"], parse_status)
        problems.add("status", bad_status, parsed, layout.columns["status"].header, cells["status"])
        status = pick(blank(parsed) | bad_status, "provisional", parsed)
    note = obj_array([None] * n)
    if "note" in layout.columns:  # stored literally: the cell as written, not stripped
        index = layout.columns["note"].index
        note = cells_of(data, lengths, index)[kept]
    issues.extend(problems.issues())
    ok = ~problems.bad
    good_ids = ids[ok]
    columns = {
        "target_id": good_ids, "county_code": county[ok], "period": period[ok], "value": values[ok],
        "unit": map_unique(good_ids, lambda t: h.targets.targets[t].unit)[0], "basis": basis[ok],
        "status": status[ok],
        "note": note[ok], "source_sheet": obj_array([sheet.name] * len(good_ids)),
    }
    # object columns keep None as None (pandas 3 would infer a string dtype and turn None into NaN)
    frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})
    frame["source_row"] = numbers[ok].astype(np.int64)
    return frame[list(NORMALIZED_COLUMNS)]
