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
        yield chunk.to_numpy(zero_copy_only=False)


def rows(column: pd.Series, start: int, stop: int) -> np.ndarray:
    """Rows `start`…`stop-1` of the column as numpy (a small copy for Arrow-backed columns)."""
    data = arrow_of(column)
    if data is None:
        return column.to_numpy()[start:stop]
    return data.slice(start, stop - start).to_numpy()


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


def sample(column: pd.Series, size: int) -> np.ndarray:
    """About `size` values taken at a regular stride (deterministic), as numpy."""
    step = max(1, len(column) // max(size, 1))
    data = arrow_of(column)
    if data is None:
        return column.to_numpy()[::step]
    return data.take(pa.array(np.arange(0, len(data), step))).to_numpy()
