"""Crashes and concurrency (G4, G8): SIGKILL mid-load leaves nothing of the file, and the next load loads it
exactly once; loaders racing behind a barrier never load a file twice."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import Engine, text
from wh_helpers import JOBS, T0, UNEMPLOYMENT, big_frame, catalog, concurrent_worker, content_of, frame, make_drop

from tasks.contracts import Drop, Outcome, Verdict
from warehouse.faults import STOP_ENV
from warehouse.load import LoadOutcome, load_drop

HELPER = Path(__file__).with_name("wh_helpers.py")
# 200k rows on SQLite; fewer on PostgreSQL, whose COPY path is the same code but several times slower per row
# on a shared test server (keeps the suite's runtime down).
BIG_ROWS = {"sqlite": 200_000, "postgresql": 60_000}
SHA = "5" * 64


def _wait_stopped_or_exited(proc: subprocess.Popen[bytes], timeout: float = 120) -> bool:
    """Wait until the process stopped itself at its fault point (SIGSTOP: True) or ended (False; a duplicate
    never reaches the point)."""
    deadline = time.monotonic() + timeout
    status = psutil.Process(proc.pid)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if status.status() == psutil.STATUS_STOPPED:
                return True
        except psutil.NoSuchProcess:
            return False
        time.sleep(0.02)
    raise AssertionError(f"loader neither stopped nor ended within {timeout}s")


def _all_or_nothing(engine: Engine, expected_rows: int, base_periods: int) -> str | None:
    """Assert the file is either absent or complete; returns its ledger status."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        status = conn.execute(text("SELECT status FROM drop_ledger WHERE sha256 = :s"), {"s": SHA}).scalar()
        rows = conn.execute(text("SELECT COUNT(*) FROM fact_observation")).scalar()
        periods = conn.execute(text("SELECT COUNT(*) FROM dim_period")).scalar()
        checks = conn.execute(text("SELECT COUNT(*) FROM fact_check")).scalar()
    if status is None:
        assert (rows, periods, checks) == (0, base_periods, 0)
    else:
        assert status == "loaded" and rows == expected_rows
    return status


def test_sigkill_mid_load_leaves_nothing_and_the_next_load_loads_once(engine: Engine, backend: str,
                                                                     tmp_path: Path) -> None:
    rows = big_frame(BIG_ROWS[backend])
    pickled = tmp_path / "big.pkl"
    rows.to_pickle(pickled)
    url = engine.url.render_as_string(hide_password=False)
    with engine.connect() as conn:
        base_periods = int(conn.execute(text("SELECT COUNT(*) FROM dim_period")).scalar_one())
    command = [sys.executable, str(HELPER), "load", url, str(pickled), SHA]
    rng = random.Random(20210408)
    # Stopped (SIGSTOP) at a known step, then SIGKILLed: mid-staging, with everything written but not committed,
    # at a random moment, and just after the commit.
    scenarios: list[tuple[str, Any]] = [("stop", "staged"), ("stop", "before_commit"),
                                        ("delay", rng.uniform(0.2, 3.0)), ("stop", "committed")]

    def start(kind: str, point: Any) -> subprocess.Popen[bytes]:
        env = dict(os.environ, **({STOP_ENV: point} if kind == "stop" else {}))
        return subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

    outcomes: list[tuple[Any, str | None]] = []
    upcoming = start(*scenarios[0])
    for number, (kind, point) in enumerate(scenarios):
        proc = upcoming
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
        if number + 1 < len(scenarios):  # the next loader imports while this one loads
            upcoming = start(*scenarios[number + 1])
        loaded_before = outcomes and outcomes[-1][1] == "loaded"
        if kind == "stop":
            stopped = _wait_stopped_or_exited(proc)
        else:
            time.sleep(point)
        proc.send_signal(signal.SIGKILL)
        _, stderr = proc.communicate(timeout=30)
        if kind == "stop" and not loaded_before:
            assert stopped, f"loader ended before reaching {point}: {stderr.decode()[-2000:]}"
        outcomes.append((point, _all_or_nothing(engine, len(rows), base_periods)))
    # Killed before the commit: nothing; killed after it (stage "committed"): the whole file.
    assert [status for _, status in outcomes[:2]] == [None, None]
    assert outcomes[-1] == ("committed", "loaded")
    final = load_drop(engine, Drop(pickled, "hrss", SHA, 1, 0.0, "big.csv"), Verdict(Outcome.LOAD, rows),
                      recorded_at=T0)
    assert final.outcome == LoadOutcome.DUPLICATE and final.previous_status == "loaded"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM drop_ledger")).scalar() == 1
        assert conn.execute(text("SELECT COUNT(*) FROM fact_observation WHERE superseded_at IS NULL")).scalar() \
            == len(rows)


def _rounds(count: int) -> list[list[tuple[str, str, Any]]]:
    """Per round three files: A and B report the same keys (B corrects A), C other keys; periods new each round."""
    counties = [c.code for c in catalog().counties if c.kind.value != "zone"]
    rounds = []
    for r in range(count):
        period = f"{2030 + r // 12}-{r % 12 + 1:02d}"
        a = frame([(UNEMPLOYMENT, c, period, f"4.{r}") for c in counties])
        b = frame([(UNEMPLOYMENT, c, period, f"5.{r}") for c in counties])
        c = frame([(JOBS, code, period, str(100 * r + i)) for i, code in enumerate(counties)])
        rounds.append([(make_drop(content_of(f)).sha256, f"round{r}-{n}.csv", f) for n, f in zip("abc", (a, b, c),
                                                                                                  strict=True)])
    return rounds


def test_concurrent_loaders_never_load_a_file_twice(engine: Engine, backend: str) -> None:
    workers, count = 3, (20 if backend == "sqlite" else 5)
    rounds = _rounds(count)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers)
    results = context.Queue()
    url = engine.url.render_as_string(hide_password=False)
    # Each worker starts at another file of the round, so every file is raced for.
    procs = [context.Process(target=concurrent_worker,
                             args=(url, barrier, [files[w:] + files[:w] for files in rounds], results, w))
             for w in range(workers)]
    for proc in procs:
        proc.start()
    reports = []
    try:
        for _ in range(workers * count * 3):
            reports.append(results.get(timeout=120))
            assert reports[-1][0] >= 0, reports[-1]
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
    outcomes = Counter((sha, outcome) for _, _, sha, outcome in reports)
    for files in rounds:
        for sha, _, _ in files:
            assert outcomes[(sha, "loaded")] == 1 and outcomes[(sha, "duplicate")] == workers - 1
    n = len(rounds[0][0][2])
    with engine.connect() as conn:
        ledger = conn.execute(text("SELECT status, COUNT(*) FROM drop_ledger GROUP BY status")).all()
        assert [tuple(r) for r in ledger] == [("loaded", 3 * count)]
        assert conn.execute(text("SELECT COUNT(*) FROM fact_observation")).scalar() == 3 * n * count
        assert conn.execute(text("SELECT COUNT(*) FROM fact_observation WHERE superseded_at IS NULL")).scalar() \
            == 2 * n * count
        assert conn.execute(text(
            "SELECT COUNT(*) FROM fact_observation o JOIN fact_observation n ON n.observation_id = o.superseded_by "
            "WHERE n.target_id = o.target_id AND n.county_code = o.county_code AND n.period = o.period")).scalar() \
            == n * count
        assert conn.execute(text("SELECT COUNT(*) FROM (SELECT source_sha256 FROM fact_observation "
                                 "GROUP BY source_sha256, load_id) x")).scalar() == 3 * count
