"""Excel drops: xlsx via python-calamine or openpyxl (after the zip pre-scan), legacy xls via xlrd, same semantics.

Both render typed cells exactly (see cells.py), fill merged ranges with their top-left value (so a merged county
or header cell applies to every row it spans), skip hidden sheets, and flag error cells and formulas without a
cached value for the normalizer to judge.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import openpyxl
import xlrd

from tasks.contracts import Issue
from tasks.read.cells import EXCEL_ERRORS, is_percent_format, render_value
from tasks.read.model import Budget, Cell, RawSheet, ReadError, critical, info
from tasks.read.zipscan import prescan_xlsx

MAX_EXCEL_CELLS = 2_000_000  # openpyxl keeps every cell as an object; beyond this, ask for CSV


def _hidden_note(name: str, state: str) -> RawSheet:
    kind = "深度隐藏" if state == "veryHidden" else "隐藏"
    return RawSheet.from_rows(name, [], hidden=True, notes=[info(
        "hidden_sheet", f"工作表「{name}」是{kind}的，未读取。",
        f"Sheet {name} is {state} and was not read.", sheet=name)])


def _fill_merged(grid: list[list[Cell]], ranges: list[tuple[int, int, int, int]]) -> None:
    """Copy each merged range's top-left value into every cell of the range (0-based, end-exclusive)."""
    for r0, r1, c0, c1 in ranges:
        if r0 >= len(grid):
            continue
        value = grid[r0][c0] if c0 < len(grid[r0]) else None
        for r in range(r0, min(r1, len(grid))):
            row = grid[r]
            if len(row) < c1:
                row.extend([None] * (c1 - len(row)))
            for c in range(c0, c1):
                row[c] = value


def merged_note(name: str, merged: int) -> Issue:
    """The info Issue saying a sheet's merged ranges were filled with their top-left values."""
    return info("merged_cells", f"工作表「{name}」有{merged}处合并单元格，已按左上角的值填充。",
                f"Sheet {name} has {merged} merged ranges; each was filled with its top-left value.", sheet=name)


def _finish(name: str, grid: list[list[Cell]], flags: dict[tuple[int, int], str], notes: list[Any],
            merged: int) -> RawSheet:
    rows, numbers = [], []
    for i, row in enumerate(grid):
        while row and row[-1] is None:
            row.pop()
        rows.append(row)
        numbers.append(i + 1)
    if merged:
        notes.append(merged_note(name, merged))
    return RawSheet.from_rows(name, rows, numbers, notes=notes, flags=flags)


def read_xlsx(path: Path, budget: Budget) -> list[RawSheet]:
    """Read every visible worksheet of an xlsx drop (cached formula values, merged ranges filled).

    python-calamine reads the cells when the pre-scan understood every sheet's XML; openpyxl otherwise.
    """
    from tasks.read.calamine import read_xlsx_calamine

    found = prescan_xlsx(path, budget, MAX_EXCEL_CELLS)
    if found and all(s.fast for s in found):
        fast = read_xlsx_calamine(path, found, budget)
        if fast is not None:
            return fast
    scans = {s.name: s for s in found}
    if not openpyxl.DEFUSEDXML:  # the pre-scan already rejected DTDs, but keep both locks on the door
        raise ReadError([critical("hostile_xml", "服务器缺少defusedxml，暂不能安全读取Excel文件。",
                                  "defusedxml is not installed, so Excel files cannot be read safely.")])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about data validation and styles it drops
            wb = openpyxl.load_workbook(path, read_only=False, data_only=True, keep_links=False)
    except Exception as exc:  # openpyxl raises many types for a damaged package
        raise ReadError([critical("bad_file", "Excel文件无法打开（已损坏或格式不对），请用Excel重新保存。",
                                  f"The Excel file cannot be opened ({exc}); re-save it from Excel.")]) from exc
    budget.check_time()
    sheets: list[RawSheet] = []
    for ws in wb.worksheets:
        state = ws.sheet_state
        if state != "visible":
            sheets.append(_hidden_note(ws.title, state))
            continue
        budget.sheet = ws.title
        scan = scans.get(ws.title)
        flags = {cell: "uncached_formula" for cell in (scan.uncached if scan else [])}
        notes = []
        if scan and scan.formulas > len(scan.uncached):
            notes.append(info("cached_formulas", f"工作表「{ws.title}」的公式单元格取的是Excel保存的计算结果。",
                              f"Sheet {ws.title}: formula cells were read as the values Excel last calculated.",
                              sheet=ws.title))
        grid: list[list[Cell]] = []
        for r, row in enumerate(ws.iter_rows(), start=1):
            budget.add_row(len(row), r)
            out: list[Cell] = []
            for c, cell in enumerate(row):
                value = cell.value
                if cell.data_type == "e" or (isinstance(value, str) and value in EXCEL_ERRORS
                                             and cell.data_type != "s"):
                    flags[(r, c)] = "error_cell"
                text = render_value(value, percent=cell.data_type == "n" and is_percent_format(cell.number_format))
                if text is not None:
                    budget.check_cell(text, r, c)
                out.append(text)
            grid.append(out)
        ranges = [(m.min_row - 1, m.max_row, m.min_col - 1, m.max_col) for m in ws.merged_cells.ranges]
        _fill_merged(grid, ranges)
        sheets.append(_finish(ws.title, grid, flags, notes, len(ranges)))
    wb.close()
    return sheets


def _xls_text(book: xlrd.book.Book, cell: xlrd.sheet.Cell) -> tuple[Cell, bool]:
    """An xls cell as text, and whether it is an error cell."""
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None, False
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#ERR"), True
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return ("TRUE" if cell.value else "FALSE"), False
    if cell.ctype == xlrd.XL_CELL_DATE:
        return render_value(xlrd.xldate_as_datetime(cell.value, book.datemode)), False
    if cell.ctype == xlrd.XL_CELL_NUMBER:
        fmt = ""
        if book.formatting_info:
            xf = book.xf_list[cell.xf_index]
            fmt = book.format_map[xf.format_key].format_str
        return render_value(cell.value, percent=is_percent_format(fmt)), False
    return render_value(cell.value), False


def read_xls(path: Path, budget: Budget) -> list[RawSheet]:
    """Read every visible sheet of a legacy .xls drop (BIFF stores cached formula results, so none are missing)."""
    notes = []
    try:
        try:
            book = xlrd.open_workbook(str(path), formatting_info=True, on_demand=True)
        except NotImplementedError:  # some BIFF versions have no formatting records: no merges or formats then
            book = xlrd.open_workbook(str(path), formatting_info=False, on_demand=True)
            notes.append(info("no_formatting", "该xls文件不含格式信息：合并单元格和百分比格式无法识别。",
                              "This .xls file carries no formatting: merged cells and percent formats are not seen."))
    except Exception as exc:  # xlrd raises XLRDError, CompDocError, struct errors … for damaged files
        raise ReadError([critical("bad_file", "xls文件无法打开（已损坏或格式不对），请用Excel另存为.xlsx。",
                                  f"The .xls file cannot be opened ({exc}); re-save it from Excel as .xlsx.")]) from exc
    sheets: list[RawSheet] = []
    try:
        for index in range(book.nsheets):
            sh = book.sheet_by_index(index)
            if sh.visibility:
                sheets.append(_hidden_note(sh.name, "veryHidden" if sh.visibility == 2 else "hidden"))
                continue
            budget.sheet = sh.name
            budget.check_width(sh.ncols)
            grid: list[list[Cell]] = []
            flags: dict[tuple[int, int], str] = {}
            for r in range(sh.nrows):
                budget.add_row(sh.row_len(r), r + 1)
                out: list[Cell] = []
                for c, cell in enumerate(sh.row(r)):
                    text, is_error = _xls_text(book, cell)
                    if is_error:
                        flags[(r + 1, c)] = "error_cell"
                    if text is not None:
                        budget.check_cell(text, r + 1, c)
                    out.append(text)
                grid.append(out)
            _fill_merged(grid, [tuple(m) for m in sh.merged_cells])  # type: ignore[misc]
            sheets.append(_finish(sh.name, grid, flags, [], len(sh.merged_cells)))
            book.unload_sheet(index)
    finally:
        book.release_resources()
    if sheets:
        sheets[0].notes[:0] = notes
    return sheets
