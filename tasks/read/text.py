"""CSV drops: decide the encoding without guessing, sniff the delimiter, stream the rows within the limits."""

from __future__ import annotations

import codecs
import csv
from pathlib import Path

from charset_normalizer import from_bytes

from tasks.read.model import Budget, Cell, RawSheet, ReadError, ReadLimits, critical, info

_CHUNK = 1 << 20
_SAMPLE = 256 * 1024
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),  # before UTF-16: its BOM starts with UTF-16-LE's
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 (BOM)"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
_GB_FAMILY = frozenset({"gb18030", "gbk", "gb2312"})
DELIMITERS = (",", "\t", ";")
_MEMO_LIMIT = 1_000_000  # distinct cell texts shared before the memo starts afresh (bounds its own memory)


def _decodes(path: Path, encoding: str) -> bool:
    """Whether the whole file decodes strictly in `encoding`, read in chunks (never all at once)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _bad_encoding(detail_zh: str, detail_en: str) -> ReadError:
    return ReadError([critical(
        "bad_encoding",
        f"无法确定文件的字符编码（{detail_zh}），请另存为“CSV UTF-8（逗号分隔）”后重新报送。",
        f"Cannot tell the file's character encoding ({detail_en}); save it as 'CSV UTF-8 (comma delimited)' "
        "and send it again.",
    )])


def detect_encoding(path: Path) -> tuple[str, str]:
    """The codec to read a text drop with and a label for the reader's note.

    Order: byte-order marks, then strict UTF-8 over the whole file, then GB18030 — accepted only when the whole
    file decodes strictly as GB18030 *and* charset-normalizer names a GB encoding for it. Anything else raises
    ReadError(bad_encoding): a wrong guess would silently garble names and numbers.
    """
    with path.open("rb") as fh:
        head = fh.read(_SAMPLE)
    for bom, codec, label in _BOMS:
        if head.startswith(bom):
            if not _decodes(path, codec):
                raise _bad_encoding(f"文件以{label}标记开头，但内容不是{label}", f"it starts with a {label} "
                                    f"byte-order mark but is not valid {label}")
            return codec, label
    if b"\x00" in head:  # UTF-16 without a byte-order mark (or a binary file): "valid" UTF-8 full of NULs
        raise _bad_encoding("含有空字节，可能是没有BOM的UTF-16或二进制文件", "it holds NUL bytes: UTF-16 without a "
                            "byte-order mark, or not text at all")
    if _decodes(path, "utf-8"):
        return "utf-8", "UTF-8"
    if not _decodes(path, "gb18030"):
        raise _bad_encoding("既不是UTF-8，也不是GBK/GB18030", "neither UTF-8 nor GBK/GB18030")
    best = from_bytes(head).best()
    named = best.encoding if best is not None else None
    if named not in _GB_FAMILY:
        raise _bad_encoding(f"不是UTF-8，像是{named or '未知编码'}", f"not UTF-8; it looks like {named or 'unknown'}")
    return "gb18030", "GBK/GB18030"


def sniff_delimiter(sample: str) -> str:
    """The delimiter among , TAB ; that splits most sample lines into the same number (>1) of fields."""
    lines = [line for line in sample.splitlines()[:50] if line.strip()]
    best, best_score = ",", 0
    for delimiter in DELIMITERS:
        widths = [len(r) for r in csv.reader(lines, delimiter=delimiter)]
        wide = [w for w in widths if w > 1]
        if not wide:
            continue
        modal = max(set(wide), key=wide.count)
        score = wide.count(modal)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _first_long_cell(rows: list[list[Cell]], limit: int) -> tuple[str, int, int]:
    """The first cell longer than `limit` (text, 1-based row, 0-based column); only called when one exists."""
    for number, row in enumerate(rows, start=1):
        for col0, cell in enumerate(row):
            if cell is not None and len(cell) > limit:
                return cell, number, col0
    raise AssertionError("no cell is longer than the limit")


def _check_cells(memo: dict[str, Cell], rows: list[list[Cell]], limit: int, budget: Budget) -> None:
    """Raise cell_too_long when any distinct text read so far is longer than `limit`."""
    if memo and max(map(len, memo)) > limit:
        text, number, col0 = _first_long_cell(rows, limit)
        budget.check_cell(text, number, col0)


def read_csv(path: Path, limits: ReadLimits, budget: Budget) -> list[RawSheet]:
    """Read a delimited text drop into one RawSheet named "" (row numbers as a text editor or Excel shows)."""
    encoding, label = detect_encoding(path)
    budget.check_time()
    rows: list[list[Cell]] = []
    # Equal cells share one str object: a long drop repeats its target, county, period and unit texts on every
    # row, and sharing them keeps a million-row file at a fraction of the memory (and is faster than not
    # sharing: fewer allocations). Cell lengths are checked once per distinct text, before the memo is cleared.
    memo: dict[str, Cell] = {"": None}
    share = memo.setdefault
    with path.open("r", encoding=encoding, newline="") as fh:
        delimiter = sniff_delimiter(fh.read(64 * 1024))
        fh.seek(0)
        reader = csv.reader(fh, delimiter=delimiter)
        number = 0
        max_cell, max_columns, max_rows = limits.max_cell_chars, limits.max_columns, limits.max_rows
        try:
            for number, raw in enumerate(reader, start=1):  # noqa: B007 — the last number is reported on errors
                while raw and not raw[-1]:
                    raw.pop()
                if len(raw) > max_columns:
                    budget.check_width(len(raw), number)
                if number > max_rows:  # stop at the limit: the rest of the file is never read
                    budget.rows = max_rows
                    budget.add_row(0, number)
                rows.append(list(map(share, raw, raw)))
                if number % 10_000 == 0:
                    budget.check_time()
                    if len(memo) > _MEMO_LIMIT:
                        _check_cells(memo, rows, max_cell, budget)
                        memo.clear()
                        memo[""] = None
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                budget.check_cell("x" * (limits.max_cell_chars + 1), number + 1, 0)
            raise ReadError([critical(
                "bad_csv",
                f"第{number + 1}行附近的CSV格式有误（{exc}），请检查引号是否成对。",
                f"The CSV is malformed near row {number + 1} ({exc}); check that quotes are paired.",
                row=number + 1,
            )]) from exc
    _check_cells(memo, rows, max_cell, budget)
    numbers = list(range(1, len(rows) + 1))  # every record is kept, so its number is its position
    names = {",": "逗号/comma", "\t": "制表符/tab", ";": "分号/semicolon"}
    note = info("read_csv", f"按{label}编码、{names[delimiter].split('/')[0]}分隔读取。",
                f"Read as {label}, {names[delimiter].split('/')[1]}-delimited.")
    return [RawSheet(name="", rows=rows, row_numbers=numbers, notes=[note])]
