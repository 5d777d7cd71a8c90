"""Smoke test of the air-quality benchmark on a tiny feed (no timing assertions)."""

from __future__ import annotations

from pathlib import Path

from bench.aq_bench import run_aq_bench
from bench.common import peak_rss_mb


def test_run_aq_bench_tiny(tmp_path: Path) -> None:
    report = run_aq_bench(stations=12, hours=72, workdir=tmp_path, rounds=1)
    assert report["rows"] == 12 * 72
    assert report["issues"] == 0
    assert report["area_days"] == 3 * 11  # 10 pseudo counties and the prefecture, 3 days each
    assert report["pyarrow_read_s"] >= 0 and report["derive_s"] > 0 and report["ratio"] is not None
    assert report["derive_peak_rss_mb"] > 0
    assert (tmp_path / "aq_12x72.parquet").is_file()


def test_children_report_their_own_peak_memory_not_the_parents(tmp_path: Path) -> None:
    # A spawned child's ru_maxrss starts at its parent's high-water mark; VmHWM is the child's own.
    ballast = b"\x01" * (384 * 2**20)  # raise this process's high-water mark well above a tiny child's
    report = run_aq_bench(stations=3, hours=48, workdir=tmp_path, rounds=1)
    assert len(ballast) and peak_rss_mb() > 384
    assert 0 < report["derive_peak_rss_mb"] < peak_rss_mb() - 128
    assert 0 < report["pyarrow_read_peak_rss_mb"] < peak_rss_mb() - 128
