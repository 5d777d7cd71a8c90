"""Parquet drops: typed columns rendered to exact text, the column names as row 1 (as if exported to Excel)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tasks.read.cells import render_value
from tasks.read.model import Budget, Cell, RawSheet, ReadError, critical

_BATCH = 65_536


def _column_text(column: pa.Array) -> list[Cell]:
    """One Arrow column as text cells: integers and strings via Arrow, everything else exactly in Python."""
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return [v if v != "" else None for v in column.to_pylist()]
    if pa.types.is_integer(kind):
        return pc.cast(column, pa.string()).to_pylist()  # type: ignore[no-any-return]
    return [render_value(v) for v in column.to_pylist()]


def read_parquet(path: Path, budget: Budget) -> list[RawSheet]:
    """Read a Parquet drop in batches into one RawSheet named "" (header = row 1, data from row 2)."""
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
    rows: list[list[Cell]] = [list(names)]
    for name in names:
        budget.check_cell(name, 1, names.index(name))
    try:
        for batch in pf.iter_batches(batch_size=_BATCH):
            columns = [_column_text(batch.column(i)) for i in range(batch.num_columns)]
            for i, texts in enumerate(columns):
                longest = max((len(t) for t in texts if t is not None), default=0)
                if longest > budget.limits.max_cell_chars:
                    at = next(k for k, t in enumerate(texts) if t is not None and len(t) == longest)
                    budget.check_cell(texts[at] or "", len(rows) + at + 1, i)
            rows.extend(list(r) for r in zip(*columns, strict=True))
            budget.rows = len(rows)
            budget.check_time()
    except pa.ArrowException as exc:
        raise ReadError([critical("bad_file", "Parquet文件内容已损坏。",
                                  f"The Parquet file is damaged ({exc}).")]) from exc
    for row in rows:
        while row and row[-1] is None:
            row.pop()
    return [RawSheet(name="", rows=rows, row_numbers=list(range(1, len(rows) + 1)))]
