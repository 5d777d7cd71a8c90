"""Column-at-a-time helpers: parse each distinct string once and map the results back to every row.

Targets, counties, periods and units have a handful of distinct values even in a million-row file, so the work
is proportional to the distinct values, not the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd

from tasks.normalize.problems import ParseProblem

ObjArray = np.ndarray[Any, np.dtype[np.object_]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


def obj_array(items: Sequence[Any]) -> ObjArray:
    """An object array that keeps tuples and Decimals as elements (np.array would unpack tuples)."""
    return np.fromiter(items, dtype=object, count=len(items))


def pick(mask: BoolArray, yes: Any, no: Any) -> ObjArray:
    """np.where for object columns: `yes` where mask, else `no` (arrays or one value for all rows)."""
    return np.asarray(np.where(mask, yes, no), dtype=object)


def cells_of(rows: Sequence[Sequence[str | None]], lengths: np.ndarray, index: int) -> ObjArray:
    """The cells of one column as written (None past a short row's end: trailing empty cells are trimmed)."""
    long = lengths > index
    if long.all():
        return np.fromiter(map(itemgetter(index), rows), dtype=object, count=len(rows))
    raw = np.full(len(rows), None, dtype=object)  # only the rows that reach this column are visited
    at = np.flatnonzero(long)
    raw[at] = np.fromiter((rows[i][index] for i in at.tolist()), dtype=object, count=len(at))
    return raw


def column_of(rows: Sequence[Sequence[str | None]], lengths: np.ndarray, index: int) -> ObjArray:
    """The cells of one column (rows may be short: trailing empty cells are trimmed), stripped, blank → None."""
    return map_unique(cells_of(rows, lengths, index), lambda s: s.strip() or None)[0]


def map_unique(values: ObjArray, fn: Callable[[str], Any]) -> tuple[ObjArray, BoolArray]:
    """Apply `fn` to each distinct non-null value; results per row (None for null) and a problem mask.

    A ParseProblem raised by `fn` becomes the row's result and sets the mask, so one bad spelling costs one call.
    """
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    results: list[Any] = []
    for u in uniques:
        try:
            results.append(fn(u))
        except ParseProblem as problem:
            results.append(problem)
    table = obj_array([*results, None])
    bad = np.array([isinstance(r, ParseProblem) for r in results] + [False], dtype=bool)
    return table[codes], bad[codes]


def blank(values: ObjArray) -> BoolArray:
    """Which cells are empty."""
    nothing: Any = None  # compared elementwise: the cells are str or None, never NaN
    return np.asarray(np.equal(values, nothing), dtype=np.bool_)
