"""Read a department's drop file into raw text sheets, safely and within limits.

`read_table` is the only entry point: it picks the reader by the file's leading bytes (not its name, which
departments get wrong: an .xls that is really xlsx, a .csv saved as UTF-16), checks the size before reading, and
raises ReadError with critical Issues when the file cannot be read at all.
"""

from __future__ import annotations

from pathlib import Path

from tasks.read.columnar import read_parquet
from tasks.read.excel import read_xls, read_xlsx
from tasks.read.model import Budget, Cell, RawSheet, ReadError, ReadLimits, critical, too_large
from tasks.read.text import read_csv

__all__ = ["Cell", "RawSheet", "ReadError", "ReadLimits", "read_table"]

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PARQUET = b"PAR1"
_TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}


def read_table(path: Path, limits: ReadLimits) -> list[RawSheet]:
    """Every sheet of a drop as raw text cells with 1-based row numbers, plus the reader's notes.

    Raises ReadError (critical Issues: too_large, bad_encoding, hostile_xml, too_many_rows, too_many_columns,
    cell_too_long, too_slow, bad_file, bad_csv) when the file as a whole cannot be read.
    """
    if path.is_symlink() or not path.is_file():
        raise ReadError([critical("bad_file", "不是普通文件，未读取。", "Not a regular file; it was not read.")])
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise too_large(size, limits.max_bytes)
    with path.open("rb") as fh:
        head = fh.read(8)
    budget = Budget(limits)
    if head.startswith(_ZIP):
        return read_xlsx(path, budget)
    if head.startswith(_OLE):
        return read_xls(path, budget)
    if head.startswith(_PARQUET):
        return read_parquet(path, budget)
    if path.suffix.lower() in _TEXT_SUFFIXES or path.suffix == "":
        return read_csv(path, limits, budget)
    raise ReadError([critical(
        "bad_file",
        f"不支持的文件格式“{path.suffix}”，请报送CSV、Excel（.xlsx/.xls）或Parquet文件。",
        f"Unsupported file format '{path.suffix}'; send CSV, Excel (.xlsx/.xls) or Parquet.",
    )])
