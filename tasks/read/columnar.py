"""Parquet drops: typed columns rendered to exact text, the column names as row 1 (as if exported to Excel).

Columns stay columns: strings are dictionary-encoded as they are, integers cast by Arrow, and other types (decimals,
floats, dates) rendered in Python once per distinct value.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tasks.read.body import TEXT
from tasks.read.cells import render_value
from tasks.read.model import Budget, RawSheet, ReadError, critical, dictionary_column, text_column


def _column_text(column: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
    """One Arrow column as dictionary-encoded text: strings as they are ("" is empty), integers via Arrow,
    everything else rendered exactly in Python, once per distinct value."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    kind = column.type
    if pa.types.is_large_string(kind):
        column = column.cast(pa.string())
    elif pa.types.is_integer(kind):
        column = pc.cast(column, pa.string())
    elif not pa.types.is_string(kind):
        try:
            coded = column.dictionary_encode()
        except pa.ArrowNotImplementedError:  # nested types: rendered row by row
            return text_column([render_value(v) for v in column.to_pylist()])
        rendered = pa.array([render_value(v) for v in coded.dictionary.to_pylist()], pa.string())
        column = pc.take(rendered, coded.indices)
    return text_column(column)


def read_parquet(path: Path, budget: Budget) -> list[RawSheet]:
    """Read a Parquet drop into one RawSheet named "" (header = row 1, data from row 2)."""
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise ReadError([critical("bad_file", "Parquet文件无法打开（已损坏或格式不对）。",
                                  f"The Parquet file cannot be opened ({exc}).")]) from exc
    names = list(pf.schema_arrow.names)
    budget.check_width(len(names), 1)
    if pf.metadata.num_rows + 1 > budget.limits.max_rows:
        budget.rows = budget.limits.max_rows
        budget.add_row(len(names), pf.metadata.num_rows + 1)
    for index, name in enumerate(names):
        budget.check_cell(name, 1, index)
    try:
        table = pf.read()
        budget.check_time()
        columns = []
        for index, name in enumerate(names):
            text = _column_text(table.column(index))
            column = dictionary_column(pa.chunked_array([text_column([name]), text], TEXT))
            longest = pc.max(pc.utf8_length(column.dictionary)).as_py() or 0
            if longest > budget.limits.max_cell_chars:
                lengths = pc.utf8_length(column.dictionary_decode())
                at = int(pc.index(lengths, longest).as_py())
                budget.check_cell(column[at].as_py(), at + 1, index)
            columns.append(column)
    except pa.ArrowException as exc:
        raise ReadError([critical("bad_file", "Parquet文件内容已损坏。",
                                  f"The Parquet file is damaged ({exc}).")]) from exc
    del table
    numbers = np.arange(1, pf.metadata.num_rows + 2, dtype=np.int64)
    return [RawSheet(name="", columns=columns, row_numbers=numbers)]
