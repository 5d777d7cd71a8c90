"""minsheng itself, stage by stage: the same calls the ingest flow's `process_drop` makes, without Prefect.

discover (scan_inbox with its stat cache and the ledger's hashes) → read (read_table) → normalize → validate (the
generated GX suites) → load (load_drop: one transaction) → receipt (quarantine copy when quarantined, then the
receipt) → curated (publish_after_loads, as the flow's publish task). Read, normalize and validate do not
depend on the warehouse: they run once and every warehouse then gets its own discover, load, receipt and curated
publish, on a fresh database migrated and synced beforehand (untimed setup, as a deployment does it once).
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from pathlib import Path

from bench.catalog import catalog_for_rows
from bench.common import Case, RunResult, Stopwatch
from expectations.models import Catalog
from tasks.contracts import Outcome, Verdict, outcome_for
from tasks.discover import scan_inbox
from tasks.normalize.frame import empty_frame, normalize
from tasks.read import ReadError, ReadLimits, read_table
from tasks.receipts import quarantine_copy, write_receipt
from tasks.statcache import StatCache
from tasks.validate import validate_rows
from warehouse.curated import publish_after_loads
from warehouse.db import make_engine, upgrade
from warehouse.dims import sync_dimensions
from warehouse.load import LoadOutcome, load_drop
from warehouse.queries import seen_hashes

RECORDED_AT = dt.datetime(2022, 1, 20, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=8)))
# A 5M-row CSV is ~0.5 GB: the production default (200 MB) would quarantine it unread, so the bench raises it.
BENCH_LIMITS = ReadLimits(max_bytes=8 << 30, max_rows=50_000_000, max_seconds=3600.0)


def inbox(case: Case, backend: str) -> Path:
    """data/ of one warehouse's run, with the drop placed in the department's folder (hard link, no copy)."""
    data = case.workdir / f"minsheng_{backend}"
    shutil.rmtree(data, ignore_errors=True)
    dept = data / "raw" / case.department
    dept.mkdir(parents=True)
    try:
        (dept / case.drop.name).hardlink_to(case.drop)
    except OSError:
        shutil.copy2(case.drop, dept / case.drop.name)
    return data


def judge(case: Case, catalog: Catalog, times: dict[str, float], memory: dict[str, float]) -> Verdict:
    """Read, normalize and validate the drop, timed per stage; the verdict `judge_file` would give."""
    watch = Stopwatch(times, memory)
    with watch("read"):
        try:
            sheets = read_table(case.drop, BENCH_LIMITS)
        except ReadError as exc:
            return Verdict(Outcome.QUARANTINE, empty_frame(), list(exc.issues))
    with watch("normalize"):
        rows, issues = normalize(sheets, catalog, source_name=case.drop.name, as_of=case.as_of)
        del sheets
    with watch("validate"):
        if len(rows):
            issues = issues + validate_rows(rows, catalog, case.department, case.as_of)
    outcome = outcome_for(issues)
    return Verdict(outcome, rows if outcome != Outcome.QUARANTINE else empty_frame(), issues)


def load_into(case: Case, catalog: Catalog, verdict: Verdict, backend: str, url: str,
              times: dict[str, float], memory: dict[str, float]) -> int:
    """Discover the drop, load its verdict, write the receipt and publish curated Parquet; rows loaded."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        sync_dimensions(engine, catalog)
        data = inbox(case, backend)
        watch = Stopwatch(times, memory, f"@{backend}")
        with watch("discover"):
            cache = StatCache(data / ".minsheng" / "seen_files.sqlite")
            try:
                scan = scan_inbox(data / "raw", {case.department}, seen_hashes(engine), cache, now=time.time() + 60,
                                  stable_seconds=0)
            finally:
                cache.close()
        (drop,) = scan.drops
        processed_at = RECORDED_AT.isoformat(timespec="seconds")
        with watch("load"):
            result = load_drop(engine, drop, verdict, recorded_at=RECORDED_AT)
        with watch("receipt"):
            outcome = verdict.outcome
            if outcome == Outcome.QUARANTINE or result.outcome == LoadOutcome.QUARANTINED:
                outcome = Outcome.QUARANTINE
                quarantine_copy(data / "quarantine", drop, verdict.issues + result.issues, processed_at=processed_at)
            write_receipt(data / "raw", drop, outcome, verdict.issues + result.issues, result.rows_loaded,
                          processed_at=processed_at)
        with watch("curated"):
            # what the load wrote lets publish update the partitions without re-reading them (checked there)
            publish_after_loads(engine, data / "curated", [result.changes] if result.changes else [])
        return result.rows_loaded
    finally:
        engine.dispose()


def run(case: Case) -> RunResult:
    """The whole minsheng ingest of one drop into every warehouse of the case."""
    catalog = catalog_for_rows(case.rows)
    result = RunResult(impl="minsheng")
    verdict = judge(case, catalog, result.shared, result.memory_mb)
    result.outcome = verdict.outcome.value
    for backend, url in case.backends.items():
        times: dict[str, float] = {}
        result.rows_loaded[backend] = load_into(case, catalog, verdict, backend, url, times, result.memory_mb)
        result.per_backend[backend] = times
    return result
