"""What a reader hands to the normalizer: raw sheets of text cells, and the limits that keep reading bounded."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tasks.contracts import Issue, Severity

Cell = str | None


@dataclass(frozen=True)
class ReadLimits:
    """Upper bounds on one drop; exceeding any of them quarantines the file instead of exhausting the machine."""

    max_bytes: int = 200 * 1024 * 1024  # size of the file on disk
    max_rows: int = 10_000_000  # rows over all sheets
    max_columns: int = 200  # columns in any sheet
    max_cell_chars: int = 32_767  # Excel's own limit for one cell
    max_seconds: float = 300.0  # wall time for reading one file
    max_unzipped_bytes: int = 2 * 1024 * 1024 * 1024  # total uncompressed size of an xlsx package


@dataclass
class RawSheet:
    """One sheet of a drop as text, before any interpretation, held column by column.

    `columns[j]` holds column j's cells for every row read (dictionary-encoded text, null for an empty cell) and
    `row_numbers[i]` is row i's 1-based number as Excel or a text editor shows it. Cells are the raw text; typed
    cells are rendered exactly (numbers via a round-tripping repr, dates as ISO, percent-formatted numbers as
    "95.3%"). `flags` marks cells the reader could not give a value for, keyed by (row number, 0-based column):
    the normalizer decides whether they matter. Build one from row lists with `RawSheet.from_rows`.
    """

    name: str  # sheet name, "" for CSV and Parquet
    columns: list[pa.DictionaryArray]
    row_numbers: np.ndarray  # int64, one per row
    hidden: bool = False
    notes: list[Issue] = field(default_factory=list)  # what the reader did (info) or found (critical)
    flags: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col0) -> error_cell | uncached_formula

    @classmethod
    def from_rows(cls, name: str, rows: Sequence[Sequence[Cell]], row_numbers: Sequence[int] | None = None,
                  **extra: Any) -> RawSheet:
        """A sheet from row lists (rows may differ in length; "" and None are both an empty cell)."""
        width = max(map(len, rows), default=0)
        columns = [text_column([row[j] if j < len(row) else None for row in rows]) for j in range(width)]
        numbers = range(1, len(rows) + 1) if row_numbers is None else row_numbers
        return cls(name, columns, np.asarray(numbers, dtype=np.int64).reshape(-1), **extra)

    @property
    def n_rows(self) -> int:
        return len(self.row_numbers)

    def rows_at(self, indices: Sequence[int] | np.ndarray) -> list[list[Cell]]:
        """The rows at these 0-based positions as lists, trailing empty cells trimmed."""
        at = pa.array(np.asarray(indices, dtype=np.int64), pa.int64())
        columns = [column.take(at).dictionary_decode().to_pylist() for column in self.columns]
        rows = [list(row) for row in zip(*columns, strict=True)] if columns else [[] for _ in range(len(at))]
        for row in rows:
            while row and row[-1] is None:
                row.pop()
        return rows

    def head(self, n: int) -> list[list[Cell]]:
        """The first `n` rows as lists (what header detection looks at)."""
        return self.rows_at(np.arange(min(n, self.n_rows)))

    def filled_rows(self) -> int:
        """How many rows hold any text."""
        filled = np.zeros(self.n_rows, dtype=bool)
        for column in self.columns:
            filled |= column.is_valid().to_numpy(zero_copy_only=False)
        return int(filled.sum())

    def has_text(self) -> bool:
        """Whether any cell holds text."""
        return any(column.null_count < len(column) for column in self.columns)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while building many small objects, then restore it.

    A worker process that holds a large heap (the GX context) otherwise pays for full collections that walk all
    of it, again and again, while a sheet's cells or a drop's distinct values are being built.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def text_column(cells: Sequence[Cell]) -> pa.DictionaryArray:
    """Cells as a dictionary-encoded text column ("" becomes null: an empty cell)."""
    array = pa.array(cells, pa.string())
    array = pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)
    return dictionary_column(array)


def dictionary_column(array: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
    """One dictionary-encoded array (int32 indices into distinct texts) from text or dictionary chunks."""
    if isinstance(array, pa.ChunkedArray):
        if not pa.types.is_dictionary(array.type):
            array = array.combine_chunks()
        else:
            table = pa.table({"c": array}).unify_dictionaries().combine_chunks()
            array = table.column(0).chunk(0) if table.column(0).num_chunks else pa.array([], array.type)
    if not pa.types.is_dictionary(array.type):
        array = array.dictionary_encode()
    return array


class ReadError(Exception):
    """The file cannot be read at all (encoding, size, hostile content); `issues` say why, all critical."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(i.message_en for i in issues))
        self.issues = issues


def info(code: str, zh: str, en: str, sheet: str | None = None, row: int | None = None) -> Issue:
    """An info Issue: something the reader did that the department should know about."""
    return Issue(Severity.INFO, code, zh, en, sheet=sheet, row=row)


def critical(code: str, zh: str, en: str, sheet: str | None = None, row: int | None = None,
             column: str | None = None, value: str | None = None) -> Issue:
    """A critical Issue: the file must be quarantined."""
    return Issue(Severity.CRITICAL, code, zh, en, sheet=sheet, row=row, column=column, value=value)


def column_letter(col0: int) -> str:
    """Excel's column name for a 0-based index (0 → A, 26 → AA)."""
    name = ""
    n = col0 + 1
    while n:
        n, rem = divmod(n - 1, 26)
        name = chr(65 + rem) + name
    return name


class Budget:
    """Tracks a file's limits while it is being read; every check raises ReadError when a limit is passed."""

    def __init__(self, limits: ReadLimits, sheet: str | None = None) -> None:
        self.limits = limits
        self.started = time.monotonic()
        self.rows = 0
        self.sheet = sheet

    def check_time(self) -> None:
        elapsed = time.monotonic() - self.started
        if elapsed > self.limits.max_seconds:
            raise ReadError([critical(
                "too_slow",
                f"读取文件超过{self.limits.max_seconds:g}秒仍未完成，请拆分成较小的文件后重新报送。",
                f"Reading the file took longer than {self.limits.max_seconds:g} s; split it into smaller files.",
            )])

    def add_row(self, width: int, row_number: int) -> None:
        """Count one row of `width` cells; raise when the row or column limit is passed."""
        self.rows += 1
        if self.rows > self.limits.max_rows:
            raise ReadError([critical(
                "too_many_rows",
                f"文件超过{self.limits.max_rows}行的上限，请拆分后重新报送。",
                f"The file has more than {self.limits.max_rows} rows; split it into smaller files.",
                sheet=self.sheet, row=row_number,
            )])
        self.check_width(width, row_number)
        if self.rows % 10_000 == 0:
            self.check_time()

    def add_rows(self, numbers: Sequence[int], width: int = 0) -> None:
        """Count rows at once (their numbers, in order); raise as add_row would at the first row past a limit."""
        if numbers:
            self.check_width(width, int(numbers[0]))
        room = self.limits.max_rows - self.rows
        if len(numbers) > room:
            self.rows = self.limits.max_rows
            self.add_row(0, int(numbers[max(room, 0)]))
        self.rows += len(numbers)
        self.check_time()

    def check_width(self, width: int, row_number: int | None = None) -> None:
        if width > self.limits.max_columns:
            raise ReadError([critical(
                "too_many_columns",
                f"表格有{width}列，超过{self.limits.max_columns}列的上限；请只保留指标、县市、月份、完成值等列。",
                f"The sheet has {width} columns, more than the limit of {self.limits.max_columns}; keep only the "
                "target, county, period and value columns.",
                sheet=self.sheet, row=row_number,
            )])

    def check_cell(self, text: str, row_number: int, col0: int) -> None:
        if len(text) > self.limits.max_cell_chars:
            raise ReadError([critical(
                "cell_too_long",
                f"第{row_number}行{column_letter(col0)}列的内容有{len(text)}个字符，超过"
                f"{self.limits.max_cell_chars}个字符的上限。",
                f"Row {row_number}, column {column_letter(col0)} holds {len(text)} characters, more than the "
                f"limit of {self.limits.max_cell_chars}.",
                sheet=self.sheet, row=row_number, column=column_letter(col0),
            )])


def too_large(size: int, limit: int, what_zh: str = "文件", what_en: str = "The file") -> ReadError:
    """The error for a file (or its unpacked content) larger than allowed."""
    return ReadError([critical(
        "too_large",
        f"{what_zh}大小为{size}字节，超过{limit}字节的上限，未读取；请拆分后重新报送。",
        f"{what_en} is {size} bytes, more than the limit of {limit} bytes; it was not read. Split it into "
        "smaller files.",
    )])
