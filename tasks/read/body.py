"""The body of a CSV drop — every record after the first few — parsed by pyarrow into dictionary-encoded columns.

pyarrow reads rows of one width (the width most of the head's rows have). A row of any other width (a note under
the table, a stray trailing comma) comes back through the invalid-row handler with its record number; it is
parsed with the csv module and put back in its place, so nothing is dropped and every row keeps its number.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from tasks.contracts import Issue
from tasks.read.model import Budget, Cell, RawSheet, ReadLimits, dictionary_column, text_column

_BLOCK = 4 << 20
TEXT = pa.dictionary(pa.int32(), pa.string())


@dataclass
class Body:
    """What pyarrow read after the head: record batches of text columns, their rows' record numbers (1-based, in
    the whole file) and the rows of another width as (record number, trimmed cells)."""

    batches: list[pa.RecordBatch]
    numbers: np.ndarray
    ragged: list[tuple[int, list[Cell]]]

    def sheet(self, head: list[list[Cell]], note: Issue, limits: ReadLimits, budget: Budget) -> RawSheet:
        """The whole CSV as one RawSheet: head rows, body rows and ragged rows in record order."""
        body_width = self.batches[0].num_columns if self.batches else 0
        width = max([body_width, *map(len, head), *(len(r) for _, r in self.ragged)])
        numbers = np.concatenate([np.arange(1, len(head) + 1, dtype=np.int64), self.numbers,
                                  np.asarray([n for n, _ in self.ragged], dtype=np.int64)])
        order = np.argsort(numbers, kind="stable") if self.ragged else None
        columns = []
        for j in range(width):
            parts = [text_column([row[j] if j < len(row) else None for row in head])]
            parts += [b.column(j) if j < body_width else pa.nulls(b.num_rows, TEXT) for b in self.batches]
            parts.append(text_column([row[j] if j < len(row) else None for _, row in self.ragged]))
            column = dictionary_column(pa.chunked_array([p.cast(TEXT) for p in parts], TEXT))
            if order is not None:
                column = column.take(pa.array(order))
            columns.append(column)
        numbers = numbers[order] if order is not None else numbers
        check_lengths(columns, numbers, limits, budget)
        return RawSheet(name="", columns=columns, row_numbers=numbers, notes=[note])


def check_lengths(columns: list[pa.DictionaryArray], numbers: np.ndarray, limits: ReadLimits,
                   budget: Budget) -> None:
    """Raise cell_too_long for the first cell (by row, then column) longer than the limit."""
    first: tuple[int, int] | None = None
    for col0, column in enumerate(columns):
        long = pc.greater(pc.utf8_length(column.dictionary), limits.max_cell_chars)
        if not pc.any(long).as_py():
            continue
        hits = np.flatnonzero(pc.fill_null(pc.take(long, column.indices), False).to_numpy(zero_copy_only=False))
        if len(hits) and (first is None or hits[0] < first[0]):
            first = (int(hits[0]), col0)
    if first is not None:
        row, col0 = first
        budget.check_cell(columns[col0][row].as_py(), int(numbers[row]), col0)


def _parse_ragged(text: str, delimiter: str) -> list[Cell]:
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    raw = [cell for row in rows for cell in row] if rows else []
    while raw and not raw[-1]:
        raw.pop()
    return [c if c else None for c in raw]


def _drain(pending: list[tuple[int, str]], ragged: list[tuple[int, list[Cell]]], delimiter: str,
           budget: Budget) -> None:
    for number, text in pending:
        cells = _parse_ragged(text, delimiter)
        budget.check_width(len(cells), number)
        ragged.append((number, cells))
    pending.clear()


def read_body(path: Path, offset: int, codec: str, delimiter: str, width: int, first: int,
              limits: ReadLimits, budget: Budget) -> Body:
    """Parse the file from byte `offset` (record number `first` + 1 on) into `width` text columns."""
    names = [str(j) for j in range(width)]
    pending: list[tuple[int, str]] = []

    def other_width(row: pacsv.InvalidRow) -> str:
        pending.append((first + int(row.number), row.text))
        return "skip"

    read_options = pacsv.ReadOptions(use_threads=False, column_names=names, block_size=_BLOCK,
                                     encoding="utf8" if codec == "utf-8" else codec)
    parse_options = pacsv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True, escape_char=False,
                                       newlines_in_values=True, ignore_empty_lines=False,
                                       invalid_row_handler=other_width)
    convert_options = pacsv.ConvertOptions(column_types=dict.fromkeys(names, TEXT), strings_can_be_null=True,
                                           null_values=[""], quoted_strings_can_be_null=True, check_utf8=True)
    batches: list[pa.RecordBatch] = []
    ragged: list[tuple[int, list[Cell]]] = []
    rows = 0
    with pa.OSFile(str(path), "r") as fh:  # native reads: no Python bytes objects per block
        fh.seek(offset)
        reader = pacsv.open_csv(fh, read_options=read_options, parse_options=parse_options,
                                convert_options=convert_options)
        for batch in reader:
            batches.append(batch)
            rows += batch.num_rows
            _drain(pending, ragged, delimiter, budget)
            if first + rows + len(ragged) > limits.max_rows:  # stop at the limit: the rest is never read
                budget.rows = limits.max_rows
                budget.add_row(0, limits.max_rows + 1)
            budget.check_time()
    _drain(pending, ragged, delimiter, budget)
    mask = np.ones(rows + len(ragged), dtype=bool)
    mask[np.asarray([n - first - 1 for n, _ in ragged], dtype=np.int64)] = False
    return Body(batches, first + 1 + np.flatnonzero(mask).astype(np.int64), ragged)
