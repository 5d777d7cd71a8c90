"""A fast pass over one worksheet part's XML with byte regexes (no element per cell), for the xlsx pre-scan.

It counts rows and cells, finds the widest column and the formula cells without a cached value (as the
element-by-element scan does), and also collects what python-calamine does not say about a sheet: which cells have
a percent number format, which hold Excel errors, and the merged ranges. It handles the XML Excel, WPS and
openpyxl write (unprefixed elements, every cell with its `r` reference); for anything else it returns False and
the caller falls back to the element-by-element scan.
"""

from __future__ import annotations

import re
from typing import IO, Protocol

from tasks.read.cells import is_percent_format
from tasks.read.model import Budget

_CHUNK = 4 << 20
_PREFIXED = re.compile(rb"<\w+:(?:sheetData|row|c|f|v|is|mergeCell)\b")
_ROW = re.compile(rb"<row\b([^>]*)>")
_ROW_R = re.compile(rb'\br="(\d+)"')
_ROW_NUMBER = re.compile(rb'<row r="(\d+)"')
_CELL = re.compile(rb"<c[\s>/]")
_CELL_REF = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"')
_ERROR = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"[^>]*\bt="e"[^>]*>(?:(?!</c>).)*?<v>([^<]*)</v>', re.S)
_MERGE = re.compile(rb'<mergeCell\b[^>]*\bref="([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?"')
_V = re.compile(rb"<v>([^<]*)</v>")
_BUILTIN_PERCENT = frozenset({9, 10})


class Scan(Protocol):
    name: str
    rows: int
    cells: int
    max_column: int
    formulas: int
    uncached: list[tuple[int, int]]
    percent: set[tuple[int, int]]
    errors: dict[tuple[int, int], str]
    merges: list[tuple[int, int, int, int]]


def col0(letters: bytes | str) -> int:
    """0-based column index of column letters (A → 0, AA → 26)."""
    n = 0
    for ch in letters.decode() if isinstance(letters, bytes) else letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def percent_styles(styles_xml: bytes | None) -> frozenset[int]:
    """Indices of the cell formats (cellXfs) whose number format is a percentage."""
    if not styles_xml:
        return frozenset()
    from defusedxml import ElementTree as SafeET

    root = SafeET.fromstring(styles_xml)
    formats: dict[int, str] = {}
    xfs: list[int] = []
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "numFmt":
            formats[int(el.get("numFmtId", "-1"))] = el.get("formatCode", "")
        elif tag == "cellXfs":
            xfs = [int(xf.get("numFmtId", "0")) for xf in el if xf.tag.rsplit("}", 1)[-1] == "xf"]
    return frozenset(i for i, fmt in enumerate(xfs)
                     if fmt in _BUILTIN_PERCENT or (fmt in formats and is_percent_format(formats[fmt])))


def _percent_pattern(styles: frozenset[int]) -> re.Pattern[bytes] | None:
    if not styles:
        return None
    ids = b"|".join(str(i).encode() for i in sorted(styles))
    return re.compile(rb'<c r="([A-Z]{1,3})(\d+)"[^>]*\bs="(?:' + ids + rb')"')


def _formulas(piece: bytes, scan: Scan) -> None:
    """Formula cells: count them and note those without a cached value."""
    at = piece.find(b"<f")
    while at != -1:
        start = piece.rfind(b"<c ", 0, at)
        end = piece.find(b"</c>", at)
        cell = piece[start:end]
        ref = _CELL_REF.match(cell)
        if ref and cell[at - start + 2:at - start + 3] in (b">", b" ", b"/"):
            scan.formulas += 1
            where = (int(ref.group(2)), col0(ref.group(1)))
            value = _V.search(cell)
            if value is None or not value.group(1):
                scan.uncached.append(where)
        at = piece.find(b"<f", max(at + 2, end))


def _piece(piece: bytes, scan: Scan, budget: Budget, percent: re.Pattern[bytes] | None, max_cells: int) -> bool:
    if _PREFIXED.search(piece):
        return False
    cells = len(_CELL.findall(piece))
    refs = _CELL_REF.findall(piece)
    if len(refs) != cells:
        return False
    scan.cells += cells
    if refs:
        scan.max_column = max(scan.max_column, *(col0(c) + 1 for c in {c for c, _ in refs}))
    numbered = _ROW_NUMBER.findall(piece)
    if len(numbered) == len(_ROW.findall(piece)):
        budget.add_rows([int(n) for n in numbered])
        scan.rows = int(numbered[-1]) if numbered else scan.rows
    else:
        for row in _ROW.finditer(piece):
            number = _ROW_R.search(row.group(1))
            scan.rows = int(number.group(1)) if number else scan.rows + 1
            budget.add_row(0, scan.rows)
    if cells > 0 and b"<f" in piece:
        _formulas(piece, scan)
    for m in _ERROR.finditer(piece) if b't="e"' in piece else ():
        scan.errors[(int(m.group(2)), col0(m.group(1)))] = m.group(3).decode()
    if percent is not None:
        scan.percent.update((int(m.group(2)), col0(m.group(1))) for m in percent.finditer(piece))
    for m in _MERGE.finditer(piece):
        r0, c0 = int(m.group(2)) - 1, col0(m.group(1))
        r1, c1 = (int(m.group(4)), col0(m.group(3)) + 1) if m.group(3) else (r0 + 1, c0 + 1)
        scan.merges.append((r0, r1, c0, c1))
    if scan.cells > max_cells:
        raise OverflowError(scan.name)
    return True


def scan_sheet_fast(stream: IO[bytes], scan: Scan, budget: Budget, styles: frozenset[int], max_cells: int) -> bool:
    """Scan one worksheet part; False (and nothing counted) when its XML is not of the form handled here.

    Raises OverflowError when the sheet has more than `max_cells` cells.
    """
    counted = budget.rows
    percent = _percent_pattern(styles)
    tail = b""
    while True:
        chunk = stream.read(_CHUNK)
        buffer = tail + chunk
        cut = buffer.rfind(b"</row>") + len(b"</row>") if chunk else len(buffer)
        if cut < len(b"</row>"):
            tail = buffer
            continue
        piece, tail = buffer[:cut], buffer[cut:]
        if not _piece(piece, scan, budget, percent, max_cells):
            budget.rows = counted
            return False
        budget.check_time()
        if not chunk:
            return True
