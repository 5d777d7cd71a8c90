"""xlsx drops through python-calamine: cell values straight from Rust, ~15× faster than openpyxl's cell objects.

What calamine does not report comes from the pre-scan of the sheet XML (tasks.read.sheetxml): percent number
formats (0.953 shown as 95.3%), Excel error cells, merged ranges and formulas without a cached value. The result is
the same RawSheet openpyxl's path gives; a workbook calamine cannot open, or whose sheets do not match the
pre-scan's, is left to openpyxl.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from python_calamine import CalamineWorkbook, SheetTypeEnum

from tasks.read.body import check_lengths
from tasks.read.cells import render_value
from tasks.read.model import Budget, Cell, RawSheet, collector_paused, info, text_column
from tasks.read.zipscan import SheetScan


def _text(value: Any) -> Cell:
    return (value or None) if type(value) is str else render_value(value)


def _columns(rows: list[list[Any]], scan: SheetScan, flags: dict[tuple[int, int], str]) -> list[list[Cell]]:
    """The cells as text, column by column (numbers exact, percent-formatted ones as Excel shows them, errors as
    written, merged ranges filled with their top-left value)."""
    width = max(map(len, rows), default=0)
    if any(len(row) != width for row in rows):
        rows = [row + [""] * (width - len(row)) for row in rows]
    columns: list[list[Cell]] = []
    for values in zip(*rows, strict=True):
        if all(type(v) is str for v in values):
            columns.append([v or None for v in values])
        else:
            columns.append(list(map(_text, values)))
    for r, c in scan.percent:
        value = rows[r - 1][c] if r <= len(rows) and c < width else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            columns[c][r - 1] = render_value(value, percent=True)
    for (r, c), text in scan.errors.items():
        flags[(r, c)] = "error_cell"
        if r <= len(rows):
            while c >= len(columns):
                columns.append([None] * len(rows))
            columns[c][r - 1] = text
    for r0, r1, c0, c1 in scan.merges:
        if r0 >= len(rows):
            continue
        while c1 > len(columns):
            columns.append([None] * len(rows))
        value = columns[c0][r0]
        for c in range(c0, c1):
            columns[c][r0:min(r1, len(rows))] = [value] * (min(r1, len(rows)) - r0)
    return columns


def read_xlsx_calamine(path: Path, scans: list[SheetScan], budget: Budget) -> list[RawSheet] | None:
    """Every worksheet of an xlsx drop, or None when this workbook is better left to openpyxl."""
    from tasks.read.excel import _hidden_note, merged_note

    try:
        wb = CalamineWorkbook.from_path(str(path))
        meta = wb.sheets_metadata
    except Exception:  # noqa: BLE001 — calamine raises its own types for a damaged package: openpyxl will judge
        return None
    if [m.name for m in meta] != [s.name for s in scans] or any(m.typ != SheetTypeEnum.WorkSheet for m in meta):
        return None
    sheets: list[RawSheet] = []
    for scan in scans:
        if scan.state != "visible":
            sheets.append(_hidden_note(scan.name, scan.state))
            continue
        budget.sheet = scan.name
        try:
            sheet = wb.get_sheet_by_name(scan.name)
            rows = sheet.to_python(skip_empty_area=False)
        except Exception:  # noqa: BLE001
            return None
        if tuple(sheet.start or (0, 0)) != (0, 0) and rows and len(rows) < scan.rows:
            return None  # an offset calamine did not pad: let openpyxl place the cells
        flags: dict[tuple[int, int], str] = {cell: "uncached_formula" for cell in scan.uncached}
        notes = []
        if scan.formulas > len(scan.uncached):
            notes.append(info("cached_formulas", f"工作表「{scan.name}」的公式单元格取的是Excel保存的计算结果。",
                              f"Sheet {scan.name}: formula cells were read as the values Excel last calculated.",
                              sheet=scan.name))
        budget.add_rows(range(1, len(rows) + 1), max(map(len, rows), default=0))
        with collector_paused():  # a sheet is ~10⁵ row lists: a full collection mid-way walks all of them
            texts = _columns(rows, scan, flags)
            numbers = np.arange(1, len(rows) + 1, dtype=np.int64)
            del rows
            columns = [text_column(c) for c in texts]
            del texts
        if scan.merges:
            notes.append(merged_note(scan.name, len(scan.merges)))
        check_lengths(columns, numbers, budget.limits, budget)
        sheets.append(RawSheet(scan.name, columns, numbers, notes=notes, flags=flags))
    return sheets
