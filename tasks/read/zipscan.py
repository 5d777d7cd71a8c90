"""Inspect an xlsx package before any spreadsheet library opens it.

openpyxl builds every cell in memory and trusts the package's XML, so hostile files are rejected here first:
zip bombs (total unpacked size, compression ratio), DTDs/entity declarations in any XML part (billion laughs,
XXE), and sheets with more rows or cells than the limits. The same pass finds formula cells without a cached
value, which `data_only=True` would silently turn into empty cells.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from defusedxml import ElementTree as SafeET

from tasks.read.model import Budget, ReadError, critical, too_large
from tasks.read.sheetxml import percent_styles, scan_sheet_fast

_CHUNK = 1 << 20
_MAX_RATIO = 100
_RATIO_MIN_BYTES = 1 << 20  # a part this small cannot hurt, whatever its ratio
_BINARY = (".bin", ".png", ".jpeg", ".jpg", ".gif", ".emf", ".wmf", ".tif", ".tiff", ".bmp")
_MARKERS = tuple(m.encode(enc) for m in ("<!DOCTYPE", "<!ENTITY") for enc in ("ascii", "utf-16-le", "utf-16-be"))
_REF = re.compile(r"^([A-Z]+)(\d+)$")
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


@dataclass
class SheetScan:
    """What the pre-pass learned about one worksheet part."""

    name: str
    part: str
    state: str  # visible | hidden | veryHidden
    rows: int = 0
    cells: int = 0
    max_column: int = 0
    formulas: int = 0
    uncached: list[tuple[int, int]] = field(default_factory=list)  # (row, col0) of formulas without a value
    fast: bool = False  # scanned by sheetxml: the fields below are filled, and python-calamine may read it
    percent: set[tuple[int, int]] = field(default_factory=set)  # (row, col0) of percent-formatted cells
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col0) -> Excel error text
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # 0-based rows, cols, end-exclusive


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _col0(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def _hostile() -> ReadError:
    return ReadError([critical(
        "hostile_xml",
        "文件内部含有XML实体/DTD声明（可能是恶意构造的文件），已拒收；请用Excel另存为新的.xlsx文件后重新报送。",
        "The file contains XML entity/DTD declarations (possibly a hostile file) and was rejected; re-save it "
        "from Excel as a new .xlsx file and send it again.",
    )])


def _scan_markers(stream: IO[bytes], budget: Budget) -> None:
    """Raise hostile_xml if a DTD or entity declaration occurs anywhere in the stream (chunk borders too)."""
    tail = b""
    while chunk := stream.read(_CHUNK):
        window = tail + chunk
        if any(m in window for m in _MARKERS):
            raise _hostile()
        tail = window[-32:]
        budget.check_time()


def _check_sizes(infos: list[zipfile.ZipInfo], limit: int) -> None:
    total = sum(i.file_size for i in infos)
    if total > limit:
        raise too_large(total, limit, "文件解压后", "Unpacked, the file")
    for i in infos:
        ratio = i.file_size / max(i.compress_size, 1)
        if i.file_size > _RATIO_MIN_BYTES and ratio > _MAX_RATIO:
            raise ReadError([critical(
                "too_large",
                f"文件内部“{i.filename}”的压缩比为{ratio:.0f}:1（疑似压缩炸弹），已拒收。",
                f"Part '{i.filename}' of the file has a compression ratio of {ratio:.0f}:1 (a likely zip bomb); "
                "it was rejected.",
            )])


def _resolve(base_dir: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(base_dir, target))


def _sheet_parts(zf: zipfile.ZipFile) -> list[SheetScan]:
    """Worksheet names, states and part paths from the workbook part and its relationships."""
    names = set(zf.namelist())
    workbook = "xl/workbook.xml"
    if "_rels/.rels" in names:
        for rel in SafeET.fromstring(zf.read("_rels/.rels")):
            if rel.get("Type", "").endswith("/officeDocument"):
                workbook = _resolve("", rel.get("Target", workbook))
    if workbook not in names:
        raise ReadError([critical("bad_file", "文件不是有效的Excel工作簿（缺少workbook部件）。",
                                  "The file is not a valid Excel workbook (no workbook part).")])
    base = posixpath.dirname(workbook)
    rels_path = posixpath.join(base, "_rels", posixpath.basename(workbook) + ".rels")
    targets: dict[str, str] = {}
    if rels_path in names:
        for rel in SafeET.fromstring(zf.read(rels_path)):
            targets[rel.get("Id", "")] = _resolve(base, rel.get("Target", ""))
    scans = []
    for el in SafeET.fromstring(zf.read(workbook)).iter():
        if _local(el.tag) != "sheet":
            continue
        rid = el.get(f"{{{_REL_NS}}}id") or el.get("{http://purl.oclc.org/ooxml/officeDocument/relationships}id")
        part = targets.get(rid or "", "")
        if part in names:
            scans.append(SheetScan(el.get("name", ""), part, el.get("state", "visible")))
    return scans


def _too_many_cells(name: str, max_cells: int) -> ReadError:
    return ReadError([critical(
        "too_large",
        f"工作表「{name}」超过{max_cells}个单元格，Excel文件过大；请改用CSV报送或拆分文件。",
        f"Sheet {name} has more than {max_cells} cells, too many for an Excel drop; send CSV instead or split the "
        "file.",
        sheet=name,
    )])


def _styles_part(zf: zipfile.ZipFile) -> str | None:
    """The styles part of the workbook (number formats), when there is one."""
    names = set(zf.namelist())
    rels = "xl/_rels/workbook.xml.rels"
    if rels in names:
        for rel in SafeET.fromstring(zf.read(rels)):
            if rel.get("Type", "").endswith("/styles"):
                part = _resolve("xl", rel.get("Target", ""))
                return part if part in names else None
    return "xl/styles.xml" if "xl/styles.xml" in names else None


def _scan_sheet(zf: zipfile.ZipFile, scan: SheetScan, budget: Budget, max_cells: int) -> None:
    """Count rows/cells of one worksheet and note formula cells that carry no cached value."""
    row_number = 0
    with zf.open(scan.part) as stream:
        for _event, el in SafeET.iterparse(stream, events=("end",)):
            tag = _local(el.tag)
            if tag == "c":
                scan.cells += 1
                ref = _REF.match(el.get("r", ""))
                col0 = _col0(ref.group(1)) if ref else scan.max_column
                scan.max_column = max(scan.max_column, col0 + 1)
                children = {_local(child.tag): child for child in el}
                if "f" in children:
                    scan.formulas += 1
                    v = children.get("v")
                    if v is None or v.text is None:
                        scan.uncached.append((int(ref.group(2)) if ref else row_number, col0))
            elif tag == "row":
                row_number = int(el.get("r") or row_number + 1)
                budget.add_row(0, row_number)
                el.clear()
                if scan.cells > max_cells:
                    raise _too_many_cells(scan.name, max_cells)
    budget.check_width(scan.max_column)


def prescan_xlsx(path: Path, budget: Budget, max_cells: int) -> list[SheetScan]:
    """Check an xlsx package for bombs and hostile XML; return per-sheet statistics. Raises ReadError."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ReadError([critical("bad_file", "文件不是有效的.xlsx工作簿（无法解压），请用Excel重新保存。",
                                  f"The file is not a valid .xlsx workbook ({exc}); re-save it from Excel.")]) from exc
    with zf:
        infos = zf.infolist()
        _check_sizes(infos, budget.limits.max_unzipped_bytes)
        try:
            for i in infos:
                if not i.is_dir() and not i.filename.lower().endswith(_BINARY):
                    with zf.open(i) as stream:
                        _scan_markers(stream, budget)
            scans = _sheet_parts(zf)
            styles_part = _styles_part(zf)
            styles = percent_styles(zf.read(styles_part) if styles_part else None)
            for scan in scans:
                budget.sheet = scan.name
                with zf.open(scan.part) as stream:
                    try:
                        scan.fast = scan_sheet_fast(stream, scan, budget, styles, max_cells)
                    except OverflowError:
                        raise _too_many_cells(scan.name, max_cells) from None
                if scan.fast:
                    budget.check_width(scan.max_column)
                else:
                    _scan_sheet(zf, scan, budget, max_cells)
                budget.check_time()
        except (zipfile.BadZipFile, SafeET.ParseError, EOFError) as exc:
            raise ReadError([critical("bad_file", "文件内容已损坏（无法解析），请用Excel重新保存。",
                                      f"The file is damaged ({exc}); re-save it from Excel.")]) from exc
        except ValueError as exc:  # defusedxml's DTDForbidden/EntitiesForbidden are ValueErrors
            raise _hostile() from exc
    budget.sheet = None
    budget.rows = 0  # the reader counts rows again as it renders them
    return scans
