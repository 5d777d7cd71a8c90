"""What a reader hands to the normalizer: raw sheets of text cells, and the limits that keep reading bounded."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

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
    """One sheet of a drop as text, before any interpretation.

    `rows[i]` is the i-th non-skipped row of the sheet and `row_numbers[i]` its 1-based number as Excel or a text
    editor shows it. Cells are the raw text (None for empty); typed cells are rendered exactly (numbers via a
    round-tripping repr, dates as ISO, percent-formatted numbers as "95.3%"). `flags` marks cells the reader could
    not give a value for, keyed by (row number, 0-based column): the normalizer decides whether they matter.
    """

    name: str  # sheet name, "" for CSV and Parquet
    rows: list[list[Cell]]
    row_numbers: list[int]
    hidden: bool = False
    notes: list[Issue] = field(default_factory=list)  # what the reader did (info) or found (critical)
    flags: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col0) -> error_cell | uncached_formula


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
