"""Reading the canonical frame's columns piece by piece, whether numpy- or Arrow-backed.

`read_feed` keeps the pollutant and time columns as the Arrow arrays the reader produced (pandas ArrowDtype,
no copy): on a national feed each full numpy copy is 60-120 MB of fresh memory, and touching fresh memory is
what costs most. Consumers take the columns a chunk or a block of rows at a time through these helpers, so the
temporaries stay small; frames built from numpy arrays (tests, daily feeds) work the same way.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def arrow_of(column: pd.Series) -> pa.ChunkedArray | None:
    """The Arrow data behind an ArrowDtype column, or None for a numpy-backed one."""
    array = column.array
    return array._pa_array if isinstance(array, pd.arrays.ArrowExtensionArray) else None


def pieces(column: pd.Series) -> Iterator[np.ndarray]:
    """The column's values in row order as numpy pieces (NaN / NaT for missing), one per Arrow chunk."""
    data = arrow_of(column)
    if data is None:
        yield column.to_numpy()
        return
    for chunk in data.chunks:
        yield _numpy(chunk)


def rows(column: pd.Series, start: int, stop: int) -> np.ndarray:
    """Rows `start`…`stop-1` of the column as numpy (a small copy for Arrow-backed columns)."""
    data = arrow_of(column)
    if data is None:
        return column.to_numpy()[start:stop]
    return _numpy(data.slice(start, stop - start))


def _numpy(data: pa.Array | pa.ChunkedArray) -> np.ndarray:
    # Arrow's own null-to-NaN conversion is several times slower than filling the nulls with NaN in a compute
    # kernel and then taking the buffer as is.
    if data.null_count and pa.types.is_floating(data.type):
        data = pc.fill_null(data, pa.scalar(np.nan, data.type))
    return data.to_numpy(zero_copy_only=False) if isinstance(data, pa.Array) else data.to_numpy()


def is_float32(column: pd.Series) -> bool:
    data = arrow_of(column)
    return pa.types.is_float32(data.type) if data is not None else column.dtype == np.float32


def min_max(column: pd.Series) -> tuple[float, float]:
    """Smallest and largest value, missing ones ignored; (nan, nan) when nothing is known."""
    low, high = float("nan"), float("nan")
    for piece in pieces(column):  # numpy's NaN-skipping reductions beat Arrow's min_max several times over
        if len(piece):
            low, high = float(np.fmin(low, np.fmin.reduce(piece))), float(np.fmax(high, np.fmax.reduce(piece)))
    return low, high


def within(column: pd.Series, low: float, high: float) -> bool:
    """Whether every known value lies in [low, high] (missing ones ignored): the usual answer, yes, is read
    straight from the Arrow value buffers without converting anything."""
    data = arrow_of(column)
    if data is not None and all(_raw_within(chunk, low, high) for chunk in data.chunks):
        return True
    smallest, largest = min_max(column)
    return not (smallest < low or largest > high)


def _raw_within(chunk: pa.Array, low: float, high: float) -> bool:
    # Every slot of the value buffer, nulls' slots included (they hold whatever the writer left there): when
    # even those are within the bounds, so are the values. False only means "look properly".
    dtype = {pa.float32(): np.float32, pa.float64(): np.float64}.get(chunk.type)
    buffers = chunk.buffers()
    if dtype is None or len(buffers) < 2 or buffers[1] is None:
        return False
    values = np.frombuffer(buffers[1], dtype=dtype, count=chunk.offset + len(chunk))[chunk.offset:]
    if not len(values):
        return True
    smallest, largest = np.fmin.reduce(values), np.fmax.reduce(values)  # NaN only when every slot is NaN
    return bool(np.isnan(smallest) or (smallest >= low and largest <= high))


def sample(column: pd.Series, size: int) -> np.ndarray:
    """About `size` values taken at a regular stride (deterministic), as numpy."""
    step = max(1, len(column) // max(size, 1))
    data = arrow_of(column)
    if data is None:
        return column.to_numpy()[::step]
    return data.take(pa.array(np.arange(0, len(data), step))).to_numpy()
