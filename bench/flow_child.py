"""One process of measure 4 (see bench.small_drops), configured by MINSHENG_* / PREFECT_* environment variables.

    python -m bench.flow_child flow <staging>    # ingest flow: empty inbox, then with the staged files
    python -m bench.flow_child plain <staging>   # the same per-file calls in a plain loop, no Prefect

Prints a JSON object on its last stdout line.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from bench.common import AS_OF
from flows.runners import per_file_task_runner


def stage_files(staging: Path, raw: Path) -> int:
    """Copy the staged department folders into the inbox (old mtimes kept: the files are stable)."""
    count = 0
    for folder in sorted(p for p in staging.iterdir() if p.is_dir()):
        shutil.copytree(folder, raw / folder.name, dirs_exist_ok=True)
        count += sum(1 for _ in folder.glob("*.csv"))
    return count


@task(name="bench-noop", cache_policy=NO_CACHE)
def noop(i: int) -> int:
    return i


@flow(name="bench-noop-map", task_runner=per_file_task_runner())
def noop_flow(n: int) -> int:
    """`n` tasks that do nothing, on the ingest flow's task runner: the orchestration's cost per task."""
    return sum(noop.map(list(range(n))).result())


def run_flow(staging: Path) -> dict[str, Any]:
    from flows.ingest import ingest
    from minsheng.settings import get_settings
    from tasks.pipeline.context import run_context
    from tasks.pipeline.ingest import judge_file

    settings = get_settings()
    raw = settings.data_dir / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    ingest(AS_OF)  # starts the ephemeral API and migrates the warehouse; no files yet
    empty = time.perf_counter() - started
    ctx = run_context(AS_OF)  # warm GX and the suites in this process, as the plain loop does
    judge_file(next(staging.glob("*/*.csv")), "finance", ctx.catalog, ctx.limits, ctx.as_of)
    files = sum(1 for _ in staging.glob("*/*.csv"))
    started = time.perf_counter()
    noop_flow(files)
    noop = time.perf_counter() - started
    stage_files(staging, raw)
    started = time.perf_counter()
    summary = ingest(AS_OF)
    elapsed = time.perf_counter() - started
    outcomes: dict[str, int] = {}
    for result in summary.results:
        outcomes[result.outcome.value] = outcomes.get(result.outcome.value, 0) + 1
    return {"runner": settings.task_runner, "files": files, "empty_flow_s": round(empty, 3),
            "noop_flow_s": round(noop, 3), "noop_per_task_s": round(noop / max(files, 1), 4),
            "flow_s": round(elapsed, 3), "rows_loaded": summary.rows_loaded, "outcomes": outcomes}


def run_plain(staging: Path) -> dict[str, Any]:
    """judge_file + load_drop + receipt per file, in discovery order, in this process (no orchestration)."""
    from tasks.contracts import Outcome
    from tasks.discover import scan_inbox
    from tasks.pipeline.context import run_context
    from tasks.pipeline.ingest import judge_file
    from tasks.receipts import write_receipt
    from tasks.statcache import StatCache
    from warehouse.db import upgrade
    from warehouse.dims import sync_dimensions
    from warehouse.load import load_drop
    from warehouse.queries import seen_hashes

    ctx = run_context(AS_OF)
    ctx.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(ctx.engine)
    sync_dimensions(ctx.engine, ctx.catalog)
    stage_files(staging, ctx.raw_dir)
    judge_file(next(staging.glob("*/*.csv")), "finance", ctx.catalog, ctx.limits, ctx.as_of)  # warm GX, like a worker
    started = time.perf_counter()
    cache = StatCache(ctx.state_dir / "seen_files.sqlite")
    try:
        scan = scan_inbox(ctx.raw_dir, {d.slug for d in ctx.catalog.departments}, seen_hashes(ctx.engine), cache,
                          now=time.time() + 60, stable_seconds=0)
    finally:
        cache.close()
    rows = 0
    processed_at = ctx.recorded_at.isoformat(timespec="seconds")
    for drop in scan.drops:
        verdict = judge_file(drop.path, drop.department, ctx.catalog, ctx.limits, ctx.as_of)
        result = load_drop(ctx.engine, drop, verdict, recorded_at=ctx.recorded_at)
        outcome = Outcome.QUARANTINE if result.issues else verdict.outcome
        write_receipt(ctx.raw_dir, drop, outcome, verdict.issues + result.issues, result.rows_loaded,
                      processed_at=processed_at)
        rows += result.rows_loaded
    elapsed = time.perf_counter() - started
    return {"files": len(scan.drops), "loop_s": round(elapsed, 3), "rows_loaded": rows,
            "per_file_s": round(elapsed / max(len(scan.drops), 1), 4)}


if __name__ == "__main__":
    mode, staging_dir = sys.argv[1], Path(sys.argv[2])
    print(json.dumps(run_flow(staging_dir) if mode == "flow" else run_plain(staging_dir)))
