"""CSV drops: decide the encoding without guessing, sniff the delimiter, read the rows within the limits.

The first rows (titles, the header, a few data rows) are parsed with Python's csv module; the rest of the file,
usually nearly all of it, is parsed by pyarrow's CSV reader straight into dictionary-encoded text columns, in
blocks, so that a million-row drop never becomes a million Python lists. Rows whose width differs from the body's
(notes under the table, a stray trailing comma) are handed back by pyarrow with their record number and parsed
with the csv module, so nothing is dropped and every row keeps its number.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from tasks.read.body import Body, read_body
from tasks.read.model import Budget, Cell, RawSheet, ReadError, ReadLimits, critical, info

_CHUNK = 1 << 20
_SAMPLE = 256 * 1024
HEAD_ROWS = 64  # records parsed in Python before pyarrow takes over (header detection reads the first 16)
_BOMS: tuple[tuple[bytes, str, str, str], ...] = (  # bom, codec for the whole file, codec after the bom, label
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32-le", "UTF-32"),  # before UTF-16: its BOM starts with UTF-16-LE's
    (codecs.BOM_UTF32_BE, "utf-32", "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8", "UTF-8 (BOM)"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16-be", "UTF-16"),
)
_GB_FAMILY = frozenset({"gb18030", "gbk", "gb2312"})
DELIMITERS = (",", "\t", ";")


class _NotUtf8(Exception):
    """A file taken as UTF-8 from its first bytes turned out not to be UTF-8 further on."""


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


def _head_is_utf8(head: bytes) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")(errors="strict").decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path, assume_utf8: bool = False) -> tuple[str, str]:
    """The codec to read a text drop with and a label for the reader's note.

    Order: byte-order marks, then strict UTF-8 over the whole file, then GB18030 — accepted only when the whole
    file decodes strictly as GB18030 *and* charset-normalizer names a GB encoding for it. Anything else raises
    ReadError(bad_encoding): a wrong guess would silently garble names and numbers. With `assume_utf8` a file
    whose first 256 KiB are UTF-8 is taken as UTF-8 unread: the caller must then validate the rest itself.
    """
    with path.open("rb") as fh:
        head = fh.read(_SAMPLE)
    for bom, codec, _, label in _BOMS:
        if head.startswith(bom):
            if not _decodes(path, codec):
                raise _bad_encoding(f"文件以{label}标记开头，但内容不是{label}", f"it starts with a {label} "
                                    f"byte-order mark but is not valid {label}")
            return codec, label
    if b"\x00" in head:  # UTF-16 without a byte-order mark (or a binary file): "valid" UTF-8 full of NULs
        raise _bad_encoding("含有空字节，可能是没有BOM的UTF-16或二进制文件", "it holds NUL bytes: UTF-16 without a "
                            "byte-order mark, or not text at all")
    if (assume_utf8 and _head_is_utf8(head)) or _decodes(path, "utf-8"):
        return "utf-8", "UTF-8"
    if not _decodes(path, "gb18030"):
        raise _bad_encoding("既不是UTF-8，也不是GBK/GB18030", "neither UTF-8 nor GBK/GB18030")
    from charset_normalizer import from_bytes  # only GB-looking files need it (and it is slow to import)

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


def _after_bom(path: Path, codec: str) -> tuple[int, str]:
    """The byte-order mark's length and the codec for the bytes after it."""
    with path.open("rb") as fh:
        head = fh.read(4)
    for bom, whole, plain, _ in _BOMS:
        if whole == codec and head.startswith(bom):
            return len(bom), plain
    return 0, codec


def _trimmed(raw: list[str]) -> list[Cell]:
    while raw and not raw[-1]:
        raw.pop()
    return [c if c else None for c in raw]


def _bad_csv(exc: Exception, row: int) -> ReadError:
    return ReadError([critical(
        "bad_csv",
        f"第{row}行附近的CSV格式有误（{exc}），请检查引号是否成对。",
        f"The CSV is malformed near row {row} ({exc}); check that quotes are paired.",
        row=row,
    )])


def _read_head(path: Path, offset: int, codec: str, limits: ReadLimits,
               budget: Budget) -> tuple[list[list[Cell]], list[int], str, int, bool]:
    """The first records (trimmed) and their widths as written, the delimiter, the byte offset where the rest
    begins and whether the file ends there."""
    with path.open("rb") as raw_fh:
        raw_fh.seek(offset)
        fh = io.TextIOWrapper(raw_fh, encoding=codec, errors="strict", newline="")
        try:
            delimiter = sniff_delimiter(fh.read(64 * 1024))
            fh.detach()
            raw_fh.seek(offset)
            fh = io.TextIOWrapper(raw_fh, encoding=codec, errors="strict", newline="")
            consumed: list[str] = []

            def lines() -> Iterator[str]:
                while line := fh.readline():
                    consumed.append(line)
                    yield line

            rows: list[list[Cell]] = []
            widths: list[int] = []
            reader = csv.reader(lines(), delimiter=delimiter)
            number = 0
            try:
                for number, raw in enumerate(reader, start=1):  # noqa: B007 — the last number is reported
                    widths.append(len(raw))
                    row = _trimmed(raw)
                    budget.check_width(len(row), number)
                    if number > limits.max_rows:
                        budget.rows = limits.max_rows
                        budget.add_row(0, number)
                    for col0, cell in enumerate(row):
                        if cell is not None and len(cell) > limits.max_cell_chars:
                            budget.check_cell(cell, number, col0)
                    rows.append(row)
                    if number >= HEAD_ROWS:
                        break
            except csv.Error as exc:
                if "field larger than field limit" in str(exc):
                    budget.check_cell("x" * (limits.max_cell_chars + 1), number + 1, 0)
                raise _bad_csv(exc, number + 1) from exc
            at_end = len(rows) < HEAD_ROWS or not fh.readline()
        except UnicodeDecodeError as exc:
            raise _NotUtf8 from exc
        finally:
            if not fh.closed:
                fh.detach()
    return rows, widths, delimiter, offset + len("".join(consumed).encode(codec)), at_end


def _body_width(raw_widths: list[int]) -> int:
    """The width most data rows of the head have (as written, before trimming): pyarrow's column count."""
    wide = [w for w in raw_widths if w > 1] or raw_widths or [1]
    return max(set(wide), key=lambda w: (wide.count(w), w))


def _read(path: Path, codec: str, label: str, limits: ReadLimits, budget: Budget) -> RawSheet:
    bom, plain = _after_bom(path, codec)
    head, widths, delimiter, body_at, at_end = _read_head(path, bom, plain, limits, budget)
    body = Body([], np.zeros(0, dtype=np.int64), [])
    if not at_end:
        try:
            body = read_body(path, body_at, plain, delimiter, _body_width(widths), len(head), limits, budget)
        except pa.ArrowInvalid as exc:
            if "UTF8" in str(exc) and plain == "utf-8":
                raise _NotUtf8 from exc
            raise _bad_csv(exc, len(head) + 1) from exc
    names = {",": "逗号/comma", "\t": "制表符/tab", ";": "分号/semicolon"}
    note = info("read_csv", f"按{label}编码、{names[delimiter].split('/')[0]}分隔读取。",
                f"Read as {label}, {names[delimiter].split('/')[1]}-delimited.")
    return body.sheet(head, note, limits, budget)


def read_csv(path: Path, limits: ReadLimits, budget: Budget) -> list[RawSheet]:
    """Read a delimited text drop into one RawSheet named "" (row numbers as a text editor or Excel shows)."""
    codec, label = detect_encoding(path, assume_utf8=True)
    budget.check_time()
    try:
        return [_read(path, codec, label, limits, budget)]
    except _NotUtf8:
        pass
    codec, label = detect_encoding(path)  # not UTF-8 after all: decide again, reading the whole file
    try:
        return [_read(path, codec, label, limits, budget)]
    except _NotUtf8 as exc:  # the whole file decodes as UTF-8, yet pyarrow says otherwise: do not guess
        raise _bad_encoding("UTF-8解码结果不一致", "UTF-8 decoding gave inconsistent results") from exc
