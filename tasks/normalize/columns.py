"""Column-at-a-time helpers: parse each distinct string once and map the results back to every row.

Targets, counties, periods and units have a handful of distinct values even in a million-row file, so the work
is proportional to the distinct values, not the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tasks.normalize.problems import ParseProblem

ObjArray = np.ndarray[Any, np.dtype[np.object_]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


def obj_array(items: Sequence[Any]) -> ObjArray:
    """An object array that keeps tuples and Decimals as elements (np.array would unpack tuples)."""
    return np.fromiter(items, dtype=object, count=len(items))


def same(n: int, value: Any) -> ObjArray:
    """An object column holding the same object in every row (np.full would copy a str into every row)."""
    column = np.empty(n, dtype=object)
    column.fill(value)
    return column


def pick(mask: BoolArray, yes: Any, no: Any) -> ObjArray:
    """np.where for object columns: `yes` where mask, else `no` (arrays or one value for all rows)."""
    return np.asarray(np.where(mask, yes, no), dtype=object)


class Coded:
    """One column of a sheet's rows as codes into its distinct values: row i holds `uniques[codes[i]]`, and code
    -1 means an empty cell. `uniques` are distinct and never None; some may be used by no row (values of rows
    left out), unless the column was compacted."""

    def __init__(self, codes: np.ndarray, uniques: ObjArray) -> None:
        self.codes = codes
        self.uniques = uniques
        self._rows: ObjArray | None = None

    @classmethod
    def of(cls, values: ObjArray) -> Coded:
        """Factorize a column of values (None is an empty cell)."""
        codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
        return cls(codes, obj_array(list(uniques)))

    @classmethod
    def of_texts(cls, column: pa.DictionaryArray | None, start: int, n: int, strip: bool = True) -> Coded:
        """A sheet column's cells from row `start` on; with `strip`, trimmed and blank as empty."""
        if column is None:
            return cls(np.full(n, -1, dtype=np.intp), obj_array([]))
        part = column.slice(start)
        indices = pc.fill_null(part.indices, -1).to_numpy().astype(np.intp)
        texts = part.dictionary.to_pylist()
        if not strip:
            return cls(indices, obj_array(texts))
        index: dict[str, int] = {}
        remap = np.full(len(texts) + 1, -1, dtype=np.intp)
        for i, text in enumerate(texts):
            stripped = text.strip()
            if stripped:
                remap[i] = index.setdefault(stripped, len(index))
        return cls(remap[indices], obj_array(list(index)))

    @classmethod
    def from_table(cls, codes: np.ndarray, table: Sequence[Any]) -> Coded:
        """Rows given as codes into a table of values that may repeat or hold None (code -1: None)."""
        index: dict[Any, int] = {}
        remap = np.full(len(table) + 1, -1, dtype=np.intp)
        for i, value in enumerate(table):
            if value is not None:
                remap[i] = index.setdefault(value, len(index))
        return cls(remap[codes], obj_array(list(index)))

    def compact(self) -> Coded:
        """The same rows with only the values they use, in order of first appearance."""
        codes, used = pd.factorize(self.codes)
        keep = used >= 0
        remap = np.full(len(used) + 1, -1, dtype=np.intp)
        remap[np.flatnonzero(keep)] = np.arange(int(keep.sum()))
        return Coded(remap[codes], self.uniques[used[keep]])

    def subset(self, mask: BoolArray, compact: bool = False) -> Coded:
        """The rows where mask is set; with `compact`, only the values they use (in order of first appearance)."""
        part = Coded(self.codes[mask], self.uniques)
        return part.compact() if compact else part

    @property
    def rows(self) -> ObjArray:
        """One value per row (None for an empty cell); shared objects, so cheap."""
        if self._rows is None:
            self._rows = obj_array([*self.uniques, None])[self.codes]
        return self._rows

    def __getitem__(self, i: int | np.integer[Any]) -> Any:
        code = self.codes[i]
        return None if code < 0 else self.uniques[code]

    def __len__(self) -> int:
        return len(self.codes)


Column = Coded | ObjArray


def rows_of(values: Column) -> ObjArray:
    """One value per row, whichever form the column is in."""
    return values.rows if isinstance(values, Coded) else values


def codes_of(values: Column) -> tuple[np.ndarray, ObjArray]:
    """Codes (-1 for None) and distinct values of a column; a Coded column is not factorized again."""
    if isinstance(values, Coded):
        return values.codes, values.uniques
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    return codes, obj_array(list(uniques))


def map_unique(values: Column, fn: Callable[[Any], Any]) -> tuple[ObjArray, BoolArray]:
    """Apply `fn` to each distinct non-null value; results per row (None for null) and a problem mask.

    A ParseProblem raised by `fn` becomes the row's result and sets the mask, so one bad spelling costs one call.
    """
    codes, uniques = codes_of(values)
    results: list[Any] = []
    for u in uniques:
        try:
            results.append(fn(u))
        except ParseProblem as problem:  # kept as data: without its traceback (and the frames it holds)
            results.append(problem.with_traceback(None))
    table = obj_array([*results, None])
    bad = np.array([isinstance(r, ParseProblem) for r in results] + [False], dtype=bool)
    return table[codes], bad[codes]


def blank(values: Column) -> BoolArray:
    """Which cells are empty."""
    if isinstance(values, Coded):
        return values.codes < 0
    nothing: Any = None  # compared elementwise: the cells are str or None, never NaN
    return np.asarray(np.equal(values, nothing), dtype=np.bool_)
