"""Bulk paths into a per-transaction staging table: COPY on PostgreSQL, executemany on SQLite.

Rows never go through the ORM one INSERT at a time. The staging table lives only inside the load transaction
(PostgreSQL: ON COMMIT DROP; SQLite: dropped before commit, and a rollback undoes its creation too).
"""

from __future__ import annotations

import csv
import io

import pandas as pd
import pyarrow as pa
from sqlalchemy import Connection

from warehouse.faults import fault_point
from warehouse.loadchecks import STAGE_COLUMNS

STAGE = "_stage_obs"
SUPERSEDED = "_superseded_obs"

_TEXT = ", ".join(f"{c} TEXT NOT NULL" for c in STAGE_COLUMNS if c != "source_row")


def create_stage(conn: Connection) -> None:
    """Create the empty staging tables for this transaction."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {STAGE} ({_TEXT}, source_row INTEGER, new_id BIGINT) "
                             "ON COMMIT DROP")
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {SUPERSEDED} (observation_id BIGINT PRIMARY KEY, "
                             "new_id BIGINT NOT NULL) ON COMMIT DROP")
        return
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{STAGE}")
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{SUPERSEDED}")
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {STAGE} ({_TEXT}, source_row INTEGER, new_id INTEGER)")
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {SUPERSEDED} (observation_id INTEGER PRIMARY KEY, "
                         "new_id INTEGER NOT NULL)")


def drop_stage(conn: Connection) -> None:
    """Remove the staging tables before commit (SQLite keeps temp tables per connection otherwise)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"DROP TABLE temp.{STAGE}")
        conn.exec_driver_sql(f"DROP TABLE temp.{SUPERSEDED}")


def fill_stage(conn: Connection, frame: pd.DataFrame, *, chunk_rows: int) -> int:
    """Bulk-insert `frame` (STAGE_COLUMNS) into the staging table in chunks; returns rows staged.

    A fault point follows every chunk ("staged", rows=<so far>) so tests can fail the load after k rows.
    """
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be positive, got {chunk_rows}")
    if conn.dialect.name == "postgresql":
        return _copy_postgres(conn, frame, chunk_rows)
    placeholders = ", ".join("?" for _ in STAGE_COLUMNS)
    sql = f"INSERT INTO {STAGE} ({', '.join(STAGE_COLUMNS)}) VALUES ({placeholders})"
    staged = 0
    for start in range(0, len(frame), chunk_rows):
        chunk = pa.Table.from_pandas(frame.iloc[start:start + chunk_rows], preserve_index=False)
        conn.exec_driver_sql(sql, list(zip(*(column.to_pylist() for column in chunk.columns), strict=True)))
        staged += chunk.num_rows
        fault_point("staged", rows=staged)
    return staged


def _copy_postgres(conn: Connection, frame: pd.DataFrame, chunk_rows: int) -> int:
    raw = conn.connection.driver_connection
    assert raw is not None
    columns = ", ".join(STAGE_COLUMNS)
    # Every field is quoted, so an empty text stays '' (NOT NULL holds); only source_row maps "" to NULL.
    copy_sql = f"COPY {STAGE} ({columns}) FROM STDIN (FORMAT csv, FORCE_NULL (source_row))"
    staged = 0
    with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for start in range(0, len(frame), chunk_rows):
            chunk = frame.iloc[start:start + chunk_rows]
            buffer = io.StringIO()
            chunk.to_csv(buffer, index=False, header=False, quoting=csv.QUOTE_ALL, na_rep="", lineterminator="\n")
            copy.write(buffer.getvalue())
            staged += len(chunk)
            fault_point("staged", rows=staged)
    if staged > 1000:
        conn.exec_driver_sql(f"ANALYZE {STAGE}")  # temp tables have no statistics; the joins need them
    return staged


def allocate_ids(conn: Connection) -> None:
    """Give every staged row its future observation_id, so superseded rows can point at it in one pass.

    PostgreSQL draws from the column's sequence (safe with concurrent loads); SQLite counts up from the current
    maximum, which is safe because the load holds the database's write lock.
    """
    if conn.dialect.name == "postgresql":
        sequence = conn.exec_driver_sql(
            "SELECT pg_get_serial_sequence('fact_observation', 'observation_id')").scalar_one()
        conn.exec_driver_sql(f"UPDATE {STAGE} SET new_id = nextval('{sequence}')")
        return
    conn.exec_driver_sql(
        f"UPDATE {STAGE} SET new_id = rowid + (SELECT COALESCE(MAX(observation_id), 0) FROM fact_observation)")
