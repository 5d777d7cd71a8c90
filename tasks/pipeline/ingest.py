"""Ingest tasks: discover drops, judge each file, load it in one transaction, write receipts and quarantine.

One Prefect task per file (never per row). The verdict a department gets from `minsheng check` is the verdict the
pipeline acts on: both call `judge_file`.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from expectations.models import Catalog
from tasks.contracts import Drop, Issue, Outcome, Severity, Verdict, outcome_for
from tasks.discover import Scan, is_supported, scan_inbox
from tasks.normalize.frame import empty_frame, read_drop
from tasks.pipeline.context import RunContext
from tasks.pipeline.feeds import read_station_feed
from tasks.read import ReadLimits
from tasks.receipts import quarantine_copy, write_receipt
from tasks.statcache import StatCache
from tasks.validate import validate_rows
from warehouse.changes import ObservationChanges
from warehouse.db import upgrade
from warehouse.dims import sync_dimensions
from warehouse.load import LoadOutcome, load_drop
from warehouse.queries import seen_hashes

# Shipped to the run's Prefect logs (PREFECT_LOGGING_EXTRA_LOGGERS=minsheng) and shown on the terminal.
log = logging.getLogger("minsheng.pipeline")


@dataclass(frozen=True)
class DropResult:
    """What happened to one file."""

    department: str
    relative_name: str
    sha256: str
    outcome: Outcome
    rows_loaded: int
    issues: int
    receipt: str
    quarantined_to: str | None = None
    # What the load wrote, for publishing curated Parquet without re-reading the database (same process only).
    changes: ObservationChanges | None = field(default=None, repr=False, compare=False)


@dataclass
class IngestSummary:
    as_of: dt.date
    results: list[DropResult] = field(default_factory=list)
    duplicates: int = 0
    unstable: int = 0
    unknown_folders: list[str] = field(default_factory=list)
    skipped_links: int = 0

    def count(self, *outcomes: Outcome) -> int:
        return sum(r.outcome in outcomes for r in self.results)

    @property
    def rows_loaded(self) -> int:
        return sum(r.rows_loaded for r in self.results)


def unsupported_issue(path: Path) -> Issue:
    return Issue(Severity.CRITICAL, "unsupported_format",
                 f"不支持的文件类型“{path.suffix or '无扩展名'}”。"
                 "请另存为 CSV（UTF-8）、Excel（.xlsx/.xls）或 Parquet 后重新报送。",
                 f"Unsupported file type '{path.suffix or 'none'}'. Save it as CSV (UTF-8), Excel (.xlsx/.xls) or "
                 "Parquet and drop it again.")


def judge_file(path: Path, department: str, catalog: Catalog, limits: ReadLimits, as_of: dt.date,
               catalog_dir: Path | None = None) -> Verdict:
    """Read, normalize and validate one file as `department` would submit it; writes nothing.

    A station air-quality feed is derived instead of read (tasks.pipeline.feeds; `catalog_dir` holds its
    station registry, default the settings' catalog), then validated like any drop."""
    if path.suffix.lower() not in {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".parquet"}:
        return Verdict(Outcome.QUARANTINE, empty_frame(), [unsupported_issue(path)])
    feed = read_station_feed(path, department, catalog, limits, as_of, catalog_dir)
    rows, issues = feed if feed is not None else read_drop(path, catalog, limits, as_of)
    if len(rows):
        issues = issues + validate_rows(rows, catalog, department, as_of)
    outcome = outcome_for(issues)
    if not len(rows) and outcome != Outcome.QUARANTINE:
        issues.append(Issue(Severity.CRITICAL, "no_rows", "文件中没有可入库的数据行。", "The file holds no data rows."))
        outcome = Outcome.QUARANTINE
    return Verdict(outcome, rows if outcome != Outcome.QUARANTINE else empty_frame(), issues)


@task(name="prepare-warehouse", cache_policy=NO_CACHE)
def prepare_warehouse(ctx: RunContext) -> None:
    """Create or upgrade the schema and load the catalog's dimensions (idempotent)."""
    ctx.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(ctx.engine)
    sync_dimensions(ctx.engine, ctx.catalog)


@task(name="discover-drops", cache_policy=NO_CACHE)
def discover_drops(ctx: RunContext) -> Scan:
    """New stable files in registered department folders, minus bytes the ledger already holds."""
    departments = {d.slug for d in ctx.catalog.departments}
    cache = StatCache(ctx.state_dir / "seen_files.sqlite")
    try:
        scan = scan_inbox(ctx.raw_dir, departments, seen_hashes(ctx.engine), cache, now=ctx.wall_clock,
                          stable_seconds=ctx.stable_seconds)
    finally:
        cache.close()
    logger = log
    logger.info("found %d new file(s), %d still being written, %d already processed, %d renamed copies",
                len(scan.drops), len(scan.unstable), scan.already_processed, len(scan.duplicates))
    for folder in scan.unknown_folders:
        logger.warning("not a registered department folder, not loaded: %s", folder.name)
    return scan


@task(name="process-drop", cache_policy=NO_CACHE, task_run_name="process {drop.department}/{drop.relative_name}")
def process_drop(drop: Drop, ctx: RunContext) -> DropResult:
    """Judge one file, load it (or only its ledger and checks) in one transaction, then quarantine and receipt."""
    catalog = ctx.catalog
    if drop.size == 0:
        verdict = Verdict(Outcome.QUARANTINE, empty_frame(), [Issue(
            Severity.CRITICAL, "empty_file", "文件是空的（0字节）。请确认文件已完整保存后重新报送。",
            "The file is empty (0 bytes). Save it completely and drop it again.")])
    elif not is_supported(drop):
        verdict = Verdict(Outcome.QUARANTINE, empty_frame(), [unsupported_issue(drop.path)])
    else:
        verdict = judge_file(drop.path, drop.department, catalog, ctx.limits, ctx.as_of, ctx.catalog_dir)
    processed_at = ctx.recorded_at.isoformat(timespec="seconds")
    quarantined_to = None
    if verdict.outcome == Outcome.QUARANTINE:  # the bytes are safe in the dead-letter folder before the commit
        quarantined_to = quarantine_copy(ctx.quarantine_dir, drop, verdict.issues, processed_at=processed_at)
    result = load_drop(ctx.engine, drop, verdict, recorded_at=ctx.recorded_at)
    if result.outcome == LoadOutcome.DUPLICATE:  # a concurrent run claimed these bytes first; its receipt stands
        log.info("%s/%s was processed by another run", drop.department, drop.relative_name)
        return DropResult(drop.department, drop.relative_name, drop.sha256, Outcome.IGNORE, 0, 0, "")
    issues = verdict.issues + result.issues
    outcome = verdict.outcome
    if result.outcome == LoadOutcome.QUARANTINED and quarantined_to is None:  # the loader's cross-file checks
        outcome = Outcome.QUARANTINE
        quarantined_to = quarantine_copy(ctx.quarantine_dir, drop, issues, processed_at=processed_at)
    receipt = write_receipt(ctx.raw_dir, drop, outcome, issues, result.rows_loaded, processed_at=processed_at)
    log.info("%s/%s → %s (%d rows, %d issues)", drop.department, drop.relative_name, outcome.value,
             result.rows_loaded, len(issues))
    return DropResult(drop.department, drop.relative_name, drop.sha256, outcome, result.rows_loaded, len(issues),
                      str(receipt), str(quarantined_to) if quarantined_to else None, changes=result.changes)


@task(name="acknowledge-duplicates", cache_policy=NO_CACHE)
def acknowledge_duplicates(scan: Scan, ctx: RunContext) -> int:
    """Renamed copies of processed bytes: a sighting in the ledger and a receipt saying nothing new was loaded."""
    for drop in scan.duplicates:
        load_drop(ctx.engine, drop, Verdict(Outcome.IGNORE, empty_frame(), []), recorded_at=ctx.recorded_at)
        write_receipt(ctx.raw_dir, drop, Outcome.IGNORE, [], 0,
                      processed_at=ctx.recorded_at.isoformat(timespec="seconds"))
    return len(scan.duplicates)


def summarise_ingest(ctx: RunContext, scan: Scan, results: list[DropResult], duplicates: int) -> IngestSummary:
    """What the run did, per file; the loads' changes are left out (published by then, and possibly large)."""
    kept = [replace(r, changes=None) for r in results]
    return IngestSummary(as_of=ctx.as_of, results=kept, duplicates=duplicates, unstable=len(scan.unstable),
                         unknown_folders=[p.name for p in scan.unknown_folders],
                         skipped_links=len(scan.skipped_links))


def ingest_table(summary: IngestSummary) -> pd.DataFrame:
    """One row per processed file, for the artifact and the terminal."""
    return pd.DataFrame([{"department": r.department, "file": r.relative_name, "outcome": r.outcome.value,
                          "rows": r.rows_loaded, "issues": r.issues} for r in summary.results])
