"""What a committed load changed in fact_observation, and how curated partitions follow it without re-reading the
database: previous partition (Parquet) + the rows the load superseded + the rows it appended.

The loader knows exactly what it wrote. The changes carry the table's state (row count, largest id) the load
started from, so the publisher can prove the curated files show that state and the database shows nothing but
these changes since — otherwise it re-reads the database (see `warehouse.curated`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from warehouse.curated_io import OBSERVATION_SCHEMA, UTC_MICROS, observation_batch


@dataclass(frozen=True)
class ObservationChanges:
    """One load's effect on fact_observation.

    `before_count` / `before_max_id`: row count and largest observation_id of the table when the load began
    writing (inside its transaction). `appended`: the inserted rows in the curated schema (ids ascending).
    `superseded`: observation_id, superseded_at, superseded_by of every earlier row the load superseded.
    """

    load_id: int
    before_count: int
    before_max_id: int
    appended: pa.Table
    superseded: pa.Table

    @property
    def after_count(self) -> int:
        return self.before_count + self.appended.num_rows

    @property
    def after_max_id(self) -> int:
        if self.appended.num_rows == 0:
            return self.before_max_id
        return max(self.before_max_id, int(pc.max(self.appended["observation_id"]).as_py()))

    def years(self) -> set[str]:
        """Years (of `period`) whose partitions these changes touch (supersession stays within a key's year)."""
        return set(self._by_year)

    def appended_in(self, year: str) -> pa.Table:
        """The appended rows whose period lies in `year` (ids ascending; empty when none)."""
        return self._by_year.get(year, self.appended.slice(0, 0))

    @cached_property
    def _by_year(self) -> dict[str, pa.Table]:
        """The appended rows split by the year of their period; a load of one year is its table as is (no copy)."""
        periods = pc.unique(self.appended["period"]).to_pylist()
        years = sorted({p[:4] for p in periods if p is not None})
        if len(years) <= 1:
            return {y: self.appended for y in years}
        year_of = pc.utf8_slice_codeunits(self.appended["period"], 0, 4)
        return {y: self.appended.filter(pc.equal(year_of, y)) for y in years}


def build_changes(rows: pd.DataFrame, ids: np.ndarray, superseded: pd.DataFrame, *, sha256: str, load_id: int,
                  recorded_at: dt.datetime, before: tuple[int, int],
                  texts: dict[str, pa.Array] | None = None) -> ObservationChanges:
    """The changes of a load that inserted `rows` (PREPARED_COLUMNS) as `ids` and superseded
    `superseded.observation_id` by the rows at `superseded.position`; `texts` are the rows' text columns as
    Arrow strings when the caller has them."""
    n = len(rows)
    stamp = pa.scalar(recorded_at.astimezone(dt.UTC), UTC_MICROS)
    names = ("target_id", "county_code", "period", "value_text", "unit", "basis", "status", "note", "source_sheet")
    columns: dict[str, pa.Array] = {c: texts[c] if texts is not None and c in texts else
                                    pa.array(rows[c].to_numpy(dtype=object), pa.string()) for c in names}
    columns |= {
        "observation_id": pa.array(ids, pa.int64()),
        "source_row": pa.array(rows["source_row"], pa.int64(), from_pandas=True),
        "source_sha256": pa.array(np.repeat(np.array([sha256], dtype=object), n), pa.string()),
        "load_id": pa.array(np.full(n, load_id, dtype=np.int64)),
        "recorded_at": pa.array(np.full(n, int(stamp.value), dtype=np.int64)),
        "superseded_at": pa.nulls(n, pa.int64()),
        "superseded_by": pa.nulls(n, pa.int64()),
    }
    appended = pa.Table.from_batches([observation_batch(columns)], schema=OBSERVATION_SCHEMA)
    old = superseded["observation_id"].to_numpy(dtype=np.int64)
    replaced = pa.table({
        "observation_id": pa.array(old, pa.int64()),
        "superseded_at": pa.array(np.full(len(old), int(stamp.value), dtype=np.int64)).cast(UTC_MICROS),
        "superseded_by": pa.array(ids[superseded["position"].to_numpy(dtype=np.int64)], pa.int64()),
    })
    return ObservationChanges(load_id, before[0], before[1], appended, replaced)


def apply_changes(previous: pa.Table, year: str, changes: Sequence[ObservationChanges]) -> pa.Table:
    """The partition of `year` after `changes` (in load order), given the partition `previous` before them."""
    table = previous if previous.schema == OBSERVATION_SCHEMA else previous.cast(OBSERVATION_SCHEMA)
    for change in changes:
        if change.superseded.num_rows and table.num_rows:
            table = _supersede(table, change.superseded)
        added = change.appended_in(year)
        if added.num_rows:
            table = pa.concat_tables([table, added]) if table.num_rows else added
    return table


def _supersede(table: pa.Table, superseded: pa.Table) -> pa.Table:
    index = pc.index_in(table["observation_id"], value_set=superseded["observation_id"])
    hit = pc.is_valid(index)
    if not pc.any(hit).as_py():
        return table
    at = pc.if_else(hit, pc.take(superseded["superseded_at"], index), table["superseded_at"])
    by = pc.if_else(hit, pc.take(superseded["superseded_by"], index), table["superseded_by"])
    table = table.set_column(table.schema.get_field_index("superseded_at"), "superseded_at", at)
    return table.set_column(table.schema.get_field_index("superseded_by"), "superseded_by", by)


def partition_signature(table: pa.Table) -> str:
    """The database signature of a partition's rows: count, largest id, rows superseded ("n:max:c")."""
    if table.num_rows == 0:
        return "0:None:0"
    top = pc.max(table["observation_id"]).as_py()
    return f"{table.num_rows}:{top}:{table.num_rows - table['superseded_at'].null_count}"
