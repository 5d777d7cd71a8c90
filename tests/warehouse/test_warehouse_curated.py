"""Curated Parquet (G5): published after commit, atomically, never truncated; staleness detected and repaired."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, insert, update
from wh_helpers import (
    CHUXIONG,
    JOBS,
    PREFECTURE,
    T0,
    TWO_YEAR_ROWS,
    frame,
    load_rows,
    scalar,
)

from warehouse.curated import MANIFEST, curated_is_stale, partition_path, publish_curated, rebuild_curated
from warehouse.faults import set_fault_hook
from warehouse.load import LoadOutcome
from warehouse.models import FactAlert, FactTargetStatus


def _parquet_files(curated: Path) -> list[Path]:
    return sorted(curated.rglob("*.parquet"))


def _all_readable(curated: Path) -> int:
    """Open every Parquet file completely; returns how many there are (a truncated file would raise)."""
    files = _parquet_files(curated)
    for path in files:
        pq.read_table(path)
    assert not [p for p in curated.rglob("*") if p.name.endswith(".tmp")]
    return len(files)


def test_a_load_publishes_its_partitions_after_the_commit(engine: Engine, tmp_path: Path) -> None:
    curated = tmp_path / "curated"
    result = load_rows(engine, TWO_YEAR_ROWS, curated_dir=curated)
    assert result.outcome == LoadOutcome.LOADED and result.curated_published is True
    obs_2021 = pq.read_table(partition_path(curated, "fact_observation", "2021")).to_pandas()
    obs_2020 = pq.read_table(partition_path(curated, "fact_observation", "2020")).to_pandas()
    assert sorted(obs_2021["value"]) == [Decimal("300.25"), Decimal("1200")]
    assert obs_2020["value_text"].tolist() == ["4.1"]
    assert str(obs_2021["recorded_at"].dt.tz) == "UTC"
    ledger = pq.read_table(partition_path(curated, "drop_ledger", "2021")).to_pandas()
    assert ledger["status"].tolist() == ["loaded"] and ledger["sha256"].tolist() == [result.sha256]
    assert (curated / MANIFEST).is_file()
    assert not curated_is_stale(engine, curated)
    assert _all_readable(curated) == 3


def test_history_rows_stay_in_the_curated_observations(engine: Engine, tmp_path: Path) -> None:
    curated = tmp_path / "curated"
    load_rows(engine, TWO_YEAR_ROWS, curated_dir=curated)
    fix = frame([(JOBS, CHUXIONG, "2021-03", "1250")])
    load_rows(engine, fix, T0 + dt.timedelta(days=1), "fix.csv", curated_dir=curated)
    obs = pq.read_table(partition_path(curated, "fact_observation", "2021")).to_pandas()
    chuxiong = obs[obs["county_code"] == CHUXIONG].sort_values("observation_id")
    assert chuxiong["value_text"].tolist() == ["1200", "1250"]
    assert chuxiong["superseded_at"].notna().tolist() == [True, False]
    assert not curated_is_stale(engine, curated)


@pytest.mark.parametrize("stage", ["curated_before_rename", "curated_partition", "curated_manifest"], ids=str)
def test_a_failure_between_commit_and_publish_is_detected_and_rebuilt(engine: Engine, tmp_path: Path,
                                                                     stage: str) -> None:
    curated = tmp_path / "curated"
    load_rows(engine, TWO_YEAR_ROWS, curated_dir=curated)
    files_before = {p: p.read_bytes() for p in _parquet_files(curated)}
    fix = frame([(JOBS, CHUXIONG, "2021-03", "1250")])

    def fail(at: str, info: dict[str, Any]) -> None:
        if at == stage:
            raise OSError(f"disk full at {stage}")

    set_fault_hook(fail)
    try:
        result = load_rows(engine, fix, T0 + dt.timedelta(days=1), "fix.csv", curated_dir=curated)
    finally:
        set_fault_hook(None)
    assert result.outcome == LoadOutcome.LOADED  # the database commit stands
    assert result.curated_published is False and "disk full" in str(result.curated_error)
    assert scalar(engine, "SELECT COUNT(*) FROM fact_observation") == 4
    assert _all_readable(curated) == len(files_before)
    assert curated_is_stale(engine, curated)
    rebuild_curated(engine, curated)
    assert not curated_is_stale(engine, curated)
    obs = pq.read_table(partition_path(curated, "fact_observation", "2021")).to_pandas()
    assert len(obs) == 3 and "1250" in obs["value_text"].tolist()


def test_staleness_covers_every_curated_table(engine: Engine, tmp_path: Path) -> None:
    curated = tmp_path / "curated"
    assert curated_is_stale(engine, curated) is False  # an empty warehouse needs no files
    load_rows(engine, TWO_YEAR_ROWS)
    assert curated_is_stale(engine, curated)  # loaded without publishing
    written = publish_curated(engine, curated)
    assert written == {"fact_observation": 2, "fact_target_status": 0, "fact_alert": 0, "drop_ledger": 1}
    assert not curated_is_stale(engine, curated)
    assert set(publish_curated(engine, curated).values()) == {0}  # up to date: nothing rewritten
    opened = dt.datetime(2021, 4, 10, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        conn.execute(insert(FactTargetStatus).values(
            target_id=JOBS, county_code=PREFECTURE, as_of=dt.date(2021, 4, 10), period="2021-03",
            value=Decimal("1500"), target=Decimal("20000"), completion_pct=Decimal("7.5"),
            expected_pct=Decimal("25"), gap_points=Decimal("17.5"), light="yellow", method="linear",
            computed_at=opened))
    assert curated_is_stale(engine, curated)
    publish_curated(engine, curated, tables=["fact_target_status"])
    assert not curated_is_stale(engine, curated)
    with engine.begin() as conn:
        conn.execute(insert(FactAlert).values(
            fingerprint="abc", alert_class="progress_lag", kind="behind_schedule", severity="warning",
            target_id=JOBS, department="hrss", county_code=PREFECTURE, period="2021-03", opened_at=opened,
            updated_at=opened, escalation_level=0, message_zh="落后", message_en="behind", payload={"gap": "17.5"}))
    assert curated_is_stale(engine, curated)
    publish_curated(engine, curated, tables=["fact_alert"])
    assert not curated_is_stale(engine, curated)
    with engine.begin() as conn:  # resolving an alert changes no count, only content
        conn.execute(update(FactAlert).values(resolved_at=opened + dt.timedelta(days=3)))
    assert curated_is_stale(engine, curated)
    rebuild_curated(engine, curated)
    alerts = pq.read_table(partition_path(curated, "fact_alert", "2021")).to_pandas()
    assert alerts["payload"].tolist() == ['{"gap": "17.5"}'] and alerts["resolved_at"].notna().all()
    status = pq.read_table(partition_path(curated, "fact_target_status", "2021")).to_pandas()
    assert status["completion_pct"].tolist() == [Decimal("7.5")]
    assert _all_readable(curated) == 5


def test_rebuild_removes_partitions_the_database_no_longer_has(engine: Engine, tmp_path: Path) -> None:
    curated = tmp_path / "curated"
    load_rows(engine, TWO_YEAR_ROWS, curated_dir=curated)
    stray = partition_path(curated, "fact_observation", "1999")
    stray.parent.mkdir(parents=True)
    stray.write_bytes(partition_path(curated, "fact_observation", "2020").read_bytes())
    (curated / MANIFEST).write_text("{not json", encoding="utf-8")
    assert curated_is_stale(engine, curated)
    rebuild_curated(engine, curated)
    assert not stray.exists() and not curated_is_stale(engine, curated)


def test_unknown_tables_are_refused(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not curated tables"):
        publish_curated(engine, tmp_path, tables=["dim_target"])
