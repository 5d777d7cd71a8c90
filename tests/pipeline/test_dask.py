"""Per-file work on a real local Dask cluster gives exactly what the sequential run gives."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from expectations.loader import load_catalog
from flows.tick import tick
from minsheng.demo_drops import seed_demo_drops

pytestmark = pytest.mark.slow
DEPARTMENTS = ("hrss", "health", "civil_affairs", "ecology_env", "water")
QUERIES = {
    "current": "SELECT target_id, county_code, period, value_text, source_sha256 FROM v_observation_current",
    "ledger": "SELECT sha256, department, relative_name, status, outcome, rows_loaded FROM drop_ledger",
    "status": "SELECT target_id, county_code, as_of, period, value, completion_pct, light, method "
              "FROM fact_target_status",
    "alerts": "SELECT fingerprint, alert_class, kind, severity, message_zh FROM fact_alert",
}


def _snapshot(data_dir: Path) -> dict[str, pd.DataFrame]:
    engine = create_engine(f"sqlite:///{data_dir / 'warehouse.sqlite'}")
    with engine.connect() as conn:
        frames = {name: pd.read_sql(text(sql), conn) for name, sql in QUERIES.items()}
    engine.dispose()
    return {name: f.sort_values(list(f.columns)).reset_index(drop=True) for name, f in frames.items()}


def _run(root: Path, seeded: Path, monkeypatch: pytest.MonkeyPatch, runner: str, as_of: dt.date) -> dict:
    data_dir = root / runner
    for slug in DEPARTMENTS:
        shutil.copytree(seeded / slug, data_dir / "raw" / slug, copy_function=shutil.copy2)
    monkeypatch.setenv("MINSHENG_DATA_DIR", str(data_dir))
    monkeypatch.setenv("MINSHENG_TASK_RUNNER", runner)
    monkeypatch.setenv("MINSHENG_DASK_WORKERS", "3")
    summary = tick(as_of)
    assert summary.ingest.results, "the tick processed the seeded files"
    return _snapshot(data_dir)


def test_dask_cluster_tick_equals_sequential_tick(data_dir: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = seed_demo_drops(tmp_path / "seeded", load_catalog())
    sequential = _run(tmp_path, tmp_path / "seeded", monkeypatch, "sequential", manifest.as_of)
    on_dask = _run(tmp_path, tmp_path / "seeded", monkeypatch, "dask", manifest.as_of)
    assert len(sequential["current"]) > 500
    for name in QUERIES:
        pd.testing.assert_frame_equal(on_dask[name], sequential[name], obj=name)
