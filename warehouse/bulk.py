"""Bulk writes of one load's observations, inside the load transaction: COPY on PostgreSQL, executemany on SQLite.

Rows go straight into fact_observation (no staging copy, no ORM, no per-row Python conversion beyond building
the parameter tuples SQLite needs). Supersession happens first — the partial unique index allows one current row
per key — then the new rows are written; ids are known to the loader (SQLite counts up from the maximum under
its write lock; PostgreSQL draws them from the column's sequence during COPY and reads the range back), so
superseded rows point at their successors and curated Parquet can be updated from what was written.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Connection

from warehouse.faults import fault_point
from warehouse.queries import KEY
from warehouse.types import UTCDateTime

# Columns compared to decide whether a row equals the current value of its key (then it is not rewritten).
COMPARED = ("value_text", "unit", "basis", "status", "note")
_TEXT_COLUMNS = ("target_id", "county_code", "period", "value_text", "unit", "basis", "status", "note",
                 "source_sheet")
_COPY_COLUMNS = ("target_id", "county_code", "period", "value", "value_text", "unit", "basis", "status", "note",
                 "source_sha256", "source_sheet", "source_row", "load_id", "recorded_at")


def in_key_order(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows sorted by (target_id, county_code, period): index pages then fill in order, not at random
    (at 1M rows, random-order inserts into the current-key index cost SQLite twice the time)."""
    if len(frame) < 2:
        return frame.reset_index(drop=True)
    codes = [pd.factorize(frame[c], sort=True)[0] for c in reversed(KEY)]
    order = np.lexsort(codes)
    if bool((np.diff(order) == 1).all()):
        return frame.reset_index(drop=True)
    return frame.take(order).reset_index(drop=True)


def split_unchanged(frame: pd.DataFrame, held: pd.DataFrame) -> tuple[pd.DataFrame, int, pd.DataFrame]:
    """(rows to insert, count of rows equal to their key's current value, superseded).

    `frame` holds the prepared rows (unique keys); `held` the current observations of (at least) those keys with
    observation_id and the COMPARED columns. `superseded` has one row per current observation a new row replaces:
    `observation_id` and `position`, the replacing row's position in the returned frame.
    """
    empty = pd.DataFrame({"observation_id": pd.Series([], dtype="int64"), "position": pd.Series([], dtype="int64")})
    if held.empty or frame.empty:
        return frame.reset_index(drop=True), 0, empty
    left = frame[[*KEY, *COMPARED]].astype(object).assign(_row=np.arange(len(frame)))
    right = held[["observation_id", *KEY, *COMPARED]].astype(object)
    matched = left.merge(right, on=KEY, suffixes=("", "_held"))
    same = np.ones(len(matched), dtype=bool)
    for column in COMPARED:
        same &= (matched[column] == matched[f"{column}_held"]).to_numpy(dtype=bool)
    keep = np.ones(len(frame), dtype=bool)
    keep[matched.loc[same, "_row"].to_numpy(dtype=np.int64)] = False
    positions = np.cumsum(keep) - 1  # a kept row's position among the kept rows
    replaced = matched.loc[~same]
    superseded = pd.DataFrame({
        "observation_id": replaced["observation_id"].to_numpy(dtype=np.int64),
        "position": positions[replaced["_row"].to_numpy(dtype=np.int64)],
    })
    return frame.loc[keep].reset_index(drop=True), int(same.sum()), superseded


def table_state(conn: Connection) -> tuple[int, int]:
    """(row count, maximum observation_id or 0) of fact_observation as this transaction sees it."""
    count, top = conn.exec_driver_sql("SELECT COUNT(*), COALESCE(MAX(observation_id), 0) FROM fact_observation").one()
    return int(count), int(top)


def _arrow_text(column: pd.Series) -> pa.Array:
    if isinstance(column.dtype, pd.CategoricalDtype):  # codes into a few distinct texts: no per-row objects
        codes = column.cat.codes.to_numpy()
        texts = pa.array(column.cat.categories.to_numpy(dtype=object), pa.string())
        return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), texts).dictionary_decode()
    return pa.array(column.to_numpy(dtype=object), pa.string())


def text_arrays(rows: pd.DataFrame) -> dict[str, pa.Array]:
    """The text columns of prepared rows as Arrow strings (built once per load: COPY and curated both use them)."""
    return {c: _arrow_text(rows[c]) for c in _TEXT_COLUMNS}


def write_observations(conn: Connection, rows: pd.DataFrame, superseded: pd.DataFrame, *, sha256: str,
                       load_id: int, recorded_at: dt.datetime, max_id: int, chunk_rows: int,
                       texts: dict[str, pa.Array] | None = None) -> np.ndarray:
    """Supersede the replaced current rows, then insert `rows` (PREPARED_COLUMNS); returns the new rows' ids.

    `texts` are the rows' text_arrays when the caller already has them.

    `max_id` is the largest observation_id before the load (SQLite numbers the new rows after it). Fault points:
    "superseded" after the supersession, "staged" after every chunk of inserted rows, "inserted" at the end.
    """
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be positive, got {chunk_rows}")
    if conn.dialect.name == "postgresql":
        return _write_postgres(conn, rows, texts or text_arrays(rows), superseded, sha256, load_id, recorded_at,
                               chunk_rows)
    return _write_sqlite(conn, rows, superseded, sha256, load_id, recorded_at, max_id, chunk_rows)


def _stamp(conn: Connection, at: dt.datetime) -> Any:
    """`at` as the driver stores it in a UTCDateTime column (SQLite: naive UTC ISO text)."""
    process = UTCDateTime().dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return process(at) if process is not None else at


def _columns(rows: pd.DataFrame) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {c: rows[c].to_numpy(dtype=object).tolist() for c in _TEXT_COLUMNS}
    source_row = rows["source_row"]
    out["source_row"] = source_row.astype(object).where(source_row.notna(), None).tolist()
    return out


def _chunk_tuples(rows: pd.DataFrame, ids: np.ndarray, constants: tuple[Any, ...],
                  chunk_rows: int) -> Iterator[list[tuple[Any, ...]]]:
    """The INSERT parameters a chunk at a time (Python objects exist for one chunk only, not the whole load)."""
    for start in range(0, len(rows), chunk_rows):
        cols = _columns(rows.iloc[start:start + chunk_rows])
        n = len(cols["source_row"])
        yield list(zip(
            ids[start:start + n].tolist(), cols["target_id"], cols["county_code"], cols["period"],
            cols["value_text"], cols["unit"], cols["basis"], cols["status"], cols["note"], cols["source_sheet"],
            cols["source_row"], *([constant] * n for constant in constants), strict=True))


def _write_sqlite(conn: Connection, rows: pd.DataFrame, superseded: pd.DataFrame, sha256: str, load_id: int,
                  recorded_at: dt.datetime, max_id: int, chunk_rows: int) -> np.ndarray:
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    stamp = _stamp(conn, recorded_at)
    ids = np.arange(max_id + 1, max_id + 1 + len(rows), dtype=np.int64)
    if len(superseded):
        cursor.executemany(
            "UPDATE fact_observation SET superseded_at = ?, superseded_by = ? "
            "WHERE observation_id = ? AND superseded_at IS NULL",
            zip([stamp] * len(superseded), ids[superseded["position"].to_numpy()].tolist(),
                superseded["observation_id"].tolist(), strict=True))
    fault_point("superseded", rows=len(superseded))
    sql = ("INSERT INTO fact_observation (observation_id, target_id, county_code, period, value, value_text, unit, "
           "basis, status, note, source_sha256, source_sheet, source_row, load_id, recorded_at) VALUES "
           "(?1, ?2, ?3, ?4, CAST(?5 AS NUMERIC(30, 10)), ?5, ?6, ?7, ?8, ?9, ?12, ?10, ?11, ?13, ?14)")
    written = 0
    for chunk in _chunk_tuples(rows, ids, (sha256, load_id, stamp), chunk_rows):
        cursor.executemany(sql, chunk)
        written += len(chunk)
        fault_point("staged", rows=written)
    cursor.close()
    fault_point("inserted", rows=written)
    return ids


def _csv_chunk(texts: dict[str, pa.Array], source_row: pa.Array, sha256: str, load_id: int, stamp: str) -> bytes:
    n = len(source_row)
    one = pa.array(np.zeros(n, dtype=np.int32))
    columns = dict(texts)
    columns["value"] = columns["value_text"]
    columns["source_row"] = source_row
    columns["source_sha256"] = pa.DictionaryArray.from_arrays(one, pa.array([sha256]))
    columns["load_id"] = pa.DictionaryArray.from_arrays(one, pa.array([str(load_id)]))
    columns["recorded_at"] = pa.DictionaryArray.from_arrays(one, pa.array([stamp]))
    buffer = io.BytesIO()
    # Strings are always quoted, nulls never: an empty note stays '' and a missing source_row becomes NULL.
    pa_csv.write_csv(pa.table({c: columns[c] for c in _COPY_COLUMNS}), buffer,
                     pa_csv.WriteOptions(include_header=False))
    return buffer.getvalue()


def _write_postgres(conn: Connection, rows: pd.DataFrame, texts: dict[str, pa.Array], superseded: pd.DataFrame,
                    sha256: str, load_id: int, recorded_at: dt.datetime, chunk_rows: int) -> np.ndarray:
    raw = conn.connection.driver_connection
    assert raw is not None
    stamp = recorded_at.astimezone(dt.UTC).isoformat()
    with raw.cursor() as cursor:
        if len(superseded):
            cursor.execute("UPDATE fact_observation SET superseded_at = %s WHERE observation_id = ANY(%s) "
                           "AND superseded_at IS NULL", (recorded_at, superseded["observation_id"].tolist()))
        fault_point("superseded", rows=len(superseded))
        written = 0
        with cursor.copy(f"COPY fact_observation ({', '.join(_COPY_COLUMNS)}) FROM STDIN (FORMAT csv)") as copy:
            source_row = pa.array(rows["source_row"], pa.int64(), from_pandas=True)
            for start in range(0, len(rows), chunk_rows):
                chunk = {c: a.slice(start, chunk_rows) for c, a in texts.items()}
                copy.write(_csv_chunk(chunk, source_row.slice(start, chunk_rows), sha256, load_id, stamp))
                written += min(chunk_rows, len(rows) - start)
                fault_point("staged", rows=written)
        ids = _copied_ids(cursor, load_id, written)
        if len(superseded):
            cursor.execute(
                "UPDATE fact_observation o SET superseded_by = v.new_id FROM unnest(%s::bigint[], %s::bigint[]) "
                "AS v(old_id, new_id) WHERE o.observation_id = v.old_id",
                (superseded["observation_id"].tolist(), ids[superseded["position"].to_numpy()].tolist()))
    fault_point("inserted", rows=written)
    return ids


def _copied_ids(cursor: Any, load_id: int, count: int) -> np.ndarray:
    """The ids the sequence gave the copied rows, in COPY order (nextval increases within a session)."""
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    low, high, n = cursor.execute("SELECT MIN(observation_id), MAX(observation_id), COUNT(*) FROM fact_observation "
                                  "WHERE load_id = %s", (load_id,)).fetchone()
    if n != count:
        raise RuntimeError(f"load {load_id}: copied {count} rows but the table holds {n}")
    if high - low + 1 == count:  # no concurrent load drew from the sequence meanwhile
        return np.arange(low, high + 1, dtype=np.int64)
    cursor.execute("SELECT observation_id FROM fact_observation WHERE load_id = %s ORDER BY observation_id",
                   (load_id,))
    return np.fromiter((r[0] for r in cursor), dtype=np.int64, count=count)
