"""Smoke test of the air-quality benchmark on a tiny feed (no timing assertions)."""

from __future__ import annotations

from pathlib import Path

from bench.aq_bench import run_aq_bench


def test_run_aq_bench_tiny(tmp_path: Path) -> None:
    report = run_aq_bench(stations=12, hours=72, workdir=tmp_path)
    assert report["rows"] == 12 * 72
    assert report["issues"] == 0
    assert report["area_days"] == 3 * 11  # 10 pseudo counties and the prefecture, 3 days each
    assert report["pyarrow_read_s"] >= 0 and report["derive_s"] > 0 and report["ratio"] is not None
    assert report["derive_peak_rss_mb"] > 0
    assert (tmp_path / "aq_12x72.parquet").is_file()
