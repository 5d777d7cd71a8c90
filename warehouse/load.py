"""Load one drop in ONE transaction: claim it by sha256, check, write observations and checks, supersede, mark.

Either everything of a file becomes visible at commit or nothing does (G1, G4). The claim is the unique
sha256 in drop_ledger, taken under SQLite's write lock (BEGIN IMMEDIATE) or PostgreSQL's
INSERT … ON CONFLICT DO NOTHING, so concurrent ticks and workers never load a file twice (G2, G8).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, Table, select, text

from tasks.contracts import Drop, Issue, Outcome, Verdict
from warehouse.bulk import COMPARED, in_key_order, split_unchanged, table_state, text_arrays, write_observations
from warehouse.changes import ObservationChanges, build_changes
from warehouse.db import write_connection
from warehouse.dims import ensure_periods
from warehouse.faults import fault_point
from warehouse.ledger import claim, finish_ledger, record_duplicate, record_sighting, write_checks
from warehouse.loadchecks import check_cumulative_not_decreasing
from warehouse.models import DimCounty, DimTarget
from warehouse.prepare import prepare_rows
from warehouse.queries import KEY, current_series_query, fetch_frame
from warehouse.retry import retry_transient

log = logging.getLogger(__name__)

SHA256 = re.compile(r"^[0-9a-f]{64}$")
TARGETS: Table = DimTarget.__table__  # type: ignore[assignment]
COUNTIES: Table = DimCounty.__table__  # type: ignore[assignment]
HELD_COLUMNS = ["observation_id", *KEY, *COMPARED]


class LoadOutcome(StrEnum):
    LOADED = "loaded"
    QUARANTINED = "quarantined"
    IGNORED = "ignored"
    DUPLICATE = "duplicate"  # these bytes were decided before; nothing was written (G2)


@dataclass(frozen=True)
class LoadResult:
    """What one `load_drop` call did. For a duplicate, `load_id` and `previous_status` describe the earlier
    ledger entry of the same bytes. `issues` are the loader's own findings (e.g. a cumulative decrease against
    the warehouse), already written to fact_check."""

    sha256: str
    outcome: LoadOutcome
    load_id: int | None
    previous_status: str | None = None
    rows_loaded: int = 0
    rows_unchanged: int = 0
    rows_superseded: int = 0
    checks_written: int = 0
    issues: list[Issue] = field(default_factory=list)
    attempts: int = 1
    curated_published: bool | None = None  # None: no curated_dir given
    curated_error: str | None = None
    # What the load wrote to fact_observation (for `publish_curated(changes=...)`); None unless rows were loaded.
    changes: ObservationChanges | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class _Counts:
    loaded: int = 0
    unchanged: int = 0
    superseded: int = 0


def _verdict_status(verdict: Verdict) -> LoadOutcome:
    if verdict.outcome == Outcome.IGNORE:
        return LoadOutcome.IGNORED
    if verdict.outcome == Outcome.QUARANTINE or verdict.critical:
        return LoadOutcome.QUARANTINED
    return LoadOutcome.LOADED


def _lock_targets(conn: Connection, target_ids: Collection[str]) -> None:
    """PostgreSQL: serialize loads touching the same targets (supersession and the cumulative check read
    what concurrent loads write). Locks are taken in sorted order, so two loads cannot deadlock."""
    if conn.dialect.name != "postgresql":
        return  # SQLite's BEGIN IMMEDIATE already serializes every writer
    for target_id in sorted(set(target_ids)):
        key = int.from_bytes(hashlib.blake2b(target_id.encode(), digest_size=8).digest(), "big", signed=True)
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def _write_observations(conn: Connection, frame: pd.DataFrame, *, sha256: str, load_id: int,
                        recorded_at: dt.datetime, chunk_rows: int,
                        held: pd.DataFrame) -> tuple[_Counts, ObservationChanges]:
    """Skip rows equal to their key's current value (`held`), supersede the current rows of the others, insert."""
    ensure_periods(conn, frame["period"].unique())
    before = table_state(conn)
    rows, unchanged, superseded = split_unchanged(in_key_order(frame), held)
    fault_point("unchanged_removed", rows=unchanged)
    texts = text_arrays(rows)
    ids = write_observations(conn, rows, superseded, sha256=sha256, load_id=load_id, recorded_at=recorded_at,
                             max_id=before[1], chunk_rows=chunk_rows, texts=texts)
    changes = build_changes(rows, ids, superseded, sha256=sha256, load_id=load_id, recorded_at=recorded_at,
                            before=before, texts=texts)
    return _Counts(loaded=len(rows), unchanged=unchanged, superseded=len(superseded)), changes


def _held(conn: Connection, frame: pd.DataFrame) -> pd.DataFrame:
    """Current observations of the series the prepared rows touch (read after the target locks)."""
    if frame.empty:
        return pd.DataFrame(columns=HELD_COLUMNS)
    return fetch_frame(conn, current_series_query(frame, HELD_COLUMNS), HELD_COLUMNS)


def _known_dimensions(conn: Connection) -> tuple[dict[str, str], set[str], set[str]]:
    units = dict(conn.execute(select(TARGETS.c.target_id, TARGETS.c.unit)).tuples().all())
    if not units:
        raise RuntimeError("the warehouse has no targets: run sync_dimensions(engine, catalog) "
                           "(`minsheng db sync`) before loading")
    cumulative = set(conn.execute(select(TARGETS.c.target_id).where(TARGETS.c.kind == "cumulative")).scalars())
    counties = set(conn.execute(select(COUNTIES.c.county_code)).scalars())
    return units, counties, cumulative


def _load_once(engine: Engine, drop: Drop, verdict: Verdict, recorded_at: dt.datetime,
               cumulative_target_ids: Collection[str] | None, chunk_rows: int) -> LoadResult:
    with write_connection(engine) as conn, conn.begin():
        fault_point("begin")
        load_id, previous = claim(conn, drop, recorded_at)
        if load_id is None:
            record_duplicate(conn, drop, recorded_at)
            return LoadResult(drop.sha256, LoadOutcome.DUPLICATE, previous[0] if previous else None,
                              previous_status=previous[1] if previous else None)
        fault_point("claimed", load_id=load_id)
        status = _verdict_status(verdict)
        loader_issues: list[Issue] = []
        counts = _Counts()
        changes: ObservationChanges | None = None
        if status == LoadOutcome.LOADED:
            units, counties, cumulative = _known_dimensions(conn)
            frame, loader_issues = prepare_rows(verdict.rows, target_units=units, county_codes=counties)
            _lock_targets(conn, frame["target_id"].dropna().unique())
            if not loader_issues:
                held = _held(conn, frame)
                ids = cumulative if cumulative_target_ids is None else cumulative_target_ids
                loader_issues = check_cumulative_not_decreasing(conn, verdict.rows, ids, held=held)
            fault_point("checked", issues=len(loader_issues))
            if loader_issues:
                status = LoadOutcome.QUARANTINED
            else:
                counts, changes = _write_observations(conn, frame, sha256=drop.sha256, load_id=load_id,
                                                      recorded_at=recorded_at, chunk_rows=chunk_rows, held=held)
        all_issues = [*verdict.issues, *loader_issues]
        checks = write_checks(conn, load_id, drop.sha256, all_issues, recorded_at)
        fault_point("checks_written", rows=checks)
        finish_ledger(conn, load_id, status=status.value, verdict=verdict, issues=all_issues,
                      counts=(counts.loaded, counts.unchanged, counts.superseded), finished_at=recorded_at)
        record_sighting(conn, drop, recorded_at, status.value)
        fault_point("before_commit")
    fault_point("committed", load_id=load_id)
    return LoadResult(drop.sha256, status, load_id, rows_loaded=counts.loaded, rows_unchanged=counts.unchanged,
                      rows_superseded=counts.superseded, checks_written=checks, issues=loader_issues,
                      changes=changes)


def load_drop(engine: Engine, drop: Drop, verdict: Verdict, *, recorded_at: dt.datetime,
              cumulative_target_ids: Collection[str] | None = None, max_attempts: int = 5,
              chunk_rows: int = 50_000, curated_dir: Path | None = None) -> LoadResult:
    """Load one drop and its verdict in one transaction; idempotent by the sha256 of the file's bytes.

    - sha256 already in the ledger → outcome duplicate; nothing written except last_seen and a sighting.
    - verdict quarantine (or any critical issue) → ledger row + fact_check rows, no observations.
    - verdict ignore → ledger row (ignored) + checks.
    - otherwise the rows are checked once more (values fit, dimensions known, cumulative values never
      decrease against the warehouse — `cumulative_target_ids`, by default every dim_target of kind
      cumulative); a critical finding quarantines the drop in the same transaction. Rows equal to the current
      value of their key are skipped; the others supersede the current row of their key.
    Transient database errors are retried with backoff up to `max_attempts`; data errors are raised at once.
    With `curated_dir`, the affected curated Parquet partitions are rewritten after the commit; a failure
    there leaves the load committed and is reported in `curated_error` (`curated_is_stale` then says so).
    """
    if recorded_at.tzinfo is None:
        raise ValueError("recorded_at must be timezone-aware (e.g. datetime.now(ZoneInfo('Asia/Shanghai')))")
    if not SHA256.match(drop.sha256):
        raise ValueError(f"drop {drop.relative_name!r}: sha256 must be 64 lowercase hex digits, got {drop.sha256!r}")
    attempts = 0

    def attempt() -> LoadResult:
        nonlocal attempts
        attempts += 1
        return _load_once(engine, drop, verdict, recorded_at, cumulative_target_ids, chunk_rows)

    result = retry_transient(attempt, max_attempts=max_attempts)
    result = _with(result, attempts=attempts)
    if curated_dir is not None:
        result = _publish_after_load(engine, curated_dir, drop, verdict, result)
    return result


def _with(result: LoadResult, **changes: Any) -> LoadResult:
    return replace(result, **changes)


def _publish_after_load(engine: Engine, curated_dir: Path, drop: Drop, verdict: Verdict,
                        result: LoadResult) -> LoadResult:
    from warehouse.curated import publish_curated

    years: set[int] = set()
    if result.outcome == LoadOutcome.LOADED and len(verdict.rows):
        years = {int(p[:4]) for p in verdict.rows["period"].astype("string").dropna().unique()}
    try:
        publish_curated(engine, curated_dir, tables=("fact_observation", "drop_ledger"), observation_years=years,
                        changes=[result.changes] if result.changes is not None else [])
    except Exception as error:  # the load is committed; the reconciler republishes from the database
        log.exception("curated publish after loading %s failed", drop.relative_name)
        return _with(result, curated_published=False, curated_error=f"{type(error).__name__}: {error}")
    return _with(result, curated_published=True)


