"""Incremental curated publish (G5): the partitions a load's changes produce equal a full rebuild from the
database, and whenever the manifest, the files or the database disagree with the changes, the publisher re-reads
the database instead."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, text
from wh_helpers import (
    CHUXIONG,
    JOBS,
    LUFENG,
    PREFECTURE,
    SHUANGBAI,
    T0,
    TWO_YEAR_ROWS,
    UNEMPLOYMENT,
    frame,
    load_rows,
)

import warehouse.curated as curated_module
import warehouse.curated_io as curated_io
from warehouse.curated import MANIFEST, curated_is_stale, partition_path, publish_curated, rebuild_curated
from warehouse.curated_io import OBSERVATION_SCHEMA
from warehouse.load import LoadResult

SECOND = frame([(JOBS, CHUXIONG, "2021-03", "1250"), (JOBS, SHUANGBAI, "2021-03", "300.25"),
                (JOBS, LUFENG, "2021-04", "0.0000000001"), (UNEMPLOYMENT, PREFECTURE, "2022-01", "4.0")],
               status="revised")
_ORIGINAL_READ = curated_module.read_observation_year
THIRD = frame([(JOBS, CHUXIONG, "2021-03", "1300"), (JOBS, LUFENG, "2021-04", "12345678901234567890.5")])


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Years of fact_observation the publisher re-read from the database."""
    seen: list[str] = []
    original = curated_module.read_observation_year

    def spy(conn: Any, year: str) -> Any:
        seen.append(year)
        return original(conn, year)

    monkeypatch.setattr(curated_module, "read_observation_year", spy)
    return seen


def _load(engine: Engine, rows: pd.DataFrame, name: str, day: int) -> LoadResult:
    return load_rows(engine, rows, T0 + dt.timedelta(days=day), name)


def _observations(curated: Path) -> dict[str, pd.DataFrame]:
    return {path.parent.name: pq.read_table(path).to_pandas().sort_values("observation_id", ignore_index=True)
            for path in sorted((curated / "fact_observation").glob("year=*/part.parquet"))}


def _assert_same_as_rebuild(engine: Engine, curated: Path, tmp_path: Path) -> None:
    rebuilt = tmp_path / "rebuilt"
    with pytest.MonkeyPatch.context() as patch:  # the rebuild's own reads are not the publisher's
        patch.setattr(curated_module, "read_observation_year", _ORIGINAL_READ)
        rebuild_curated(engine, rebuilt)
    ours, theirs = _observations(curated), _observations(rebuilt)
    assert ours.keys() == theirs.keys()
    for year, expected in theirs.items():
        pd.testing.assert_frame_equal(ours[year], expected)
        assert pq.read_schema(partition_path(curated, "fact_observation", year[5:])) == \
            pq.read_schema(partition_path(rebuilt, "fact_observation", year[5:]))
    manifest = json.loads((curated / MANIFEST).read_text())["tables"]
    assert manifest == json.loads((rebuilt / MANIFEST).read_text())["tables"]
    assert not curated_is_stale(engine, curated)


def test_publishing_the_changes_of_each_load_equals_a_rebuild(engine: Engine, tmp_path: Path,
                                                             reads: list[str]) -> None:
    curated = tmp_path / "curated"
    for number, rows in enumerate((TWO_YEAR_ROWS, SECOND, THIRD)):
        result = _load(engine, rows, f"drop{number}.csv", number)
        assert result.changes is not None
        publish_curated(engine, curated, changes=[result.changes])
        _assert_same_as_rebuild(engine, curated, tmp_path / f"check{number}")
    assert reads == []  # every publish followed the loads' changes without reading fact_observation
    obs = _observations(curated)["year=2021"]
    assert obs.loc[obs["county_code"] == CHUXIONG, "value_text"].tolist() == ["1200", "1250", "1300"]
    assert obs["superseded_by"].notna().sum() == 4  # 1200 → 1250 → 1300, SHUANGBAI revised, LUFENG
    assert str(obs["recorded_at"].dt.tz) == "UTC"


def test_the_changes_of_several_loads_publish_together_in_any_order(engine: Engine, tmp_path: Path,
                                                                   reads: list[str]) -> None:
    curated = tmp_path / "curated"
    results = [_load(engine, rows, f"drop{n}.csv", n) for n, rows in enumerate((TWO_YEAR_ROWS, SECOND, THIRD))]
    publish_curated(engine, curated, changes=[r.changes for r in reversed(results) if r.changes is not None])
    assert reads == []
    _assert_same_as_rebuild(engine, curated, tmp_path)


def test_a_load_the_publisher_was_not_told_about_forces_a_reread(engine: Engine, tmp_path: Path,
                                                                reads: list[str]) -> None:
    curated = tmp_path / "curated"
    first = _load(engine, TWO_YEAR_ROWS, "first.csv", 0)
    publish_curated(engine, curated, changes=[first.changes] if first.changes else [])
    _load(engine, SECOND, "second.csv", 1)  # e.g. another worker's load, published by nobody yet
    third = _load(engine, THIRD, "third.csv", 2)
    publish_curated(engine, curated, changes=[third.changes] if third.changes else [])
    assert sorted(set(reads)) == ["2021", "2022"]  # the years whose signatures changed were re-read
    _assert_same_as_rebuild(engine, curated, tmp_path)


@pytest.mark.parametrize("damage", ["manifest_state", "partition_file", "missing_file", "no_manifest"])
def test_a_disagreeing_manifest_or_file_falls_back_to_the_database(engine: Engine, tmp_path: Path,
                                                                   reads: list[str], damage: str) -> None:
    curated = tmp_path / "curated"
    first = _load(engine, TWO_YEAR_ROWS, "first.csv", 0)
    publish_curated(engine, curated, changes=[first.changes] if first.changes else [])
    path = partition_path(curated, "fact_observation", "2021")
    if damage == "manifest_state":
        manifest = json.loads((curated / MANIFEST).read_text())
        manifest["fact_observation_state"] = "99:99"
        (curated / MANIFEST).write_text(json.dumps(manifest))
    elif damage == "partition_file":  # an older file under the right name: its signature gives it away
        table = pq.read_table(path)
        pq.write_table(table.slice(0, 1), path)
    elif damage == "missing_file":
        path.unlink()
    else:
        (curated / MANIFEST).unlink()
    second = _load(engine, SECOND, "second.csv", 1)
    publish_curated(engine, curated, changes=[second.changes] if second.changes else [])
    assert "2021" in reads
    _assert_same_as_rebuild(engine, curated, tmp_path)


def test_a_fresh_table_drops_leftover_partitions_of_another_database(engine: Engine, tmp_path: Path,
                                                                     reads: list[str]) -> None:
    curated = tmp_path / "curated"
    stray = partition_path(curated, "fact_observation", "1999")
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"not parquet")
    first = _load(engine, TWO_YEAR_ROWS, "first.csv", 0)
    publish_curated(engine, curated, changes=[first.changes] if first.changes else [])
    assert reads == [] and not stray.exists()
    _assert_same_as_rebuild(engine, curated, tmp_path)


def test_the_check_after_a_publish_trusts_the_recorded_state_and_still_sees_changes(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    curated = tmp_path / "curated"
    first = _load(engine, TWO_YEAR_ROWS, "first.csv", 0)
    publish_curated(engine, curated, changes=[first.changes] if first.changes else [])
    grouped: list[str] = []
    original = curated_module._period_signatures

    def spy(conn: Any, name: str) -> dict[str, str]:
        grouped.append(name)
        return original(conn, name)

    monkeypatch.setattr(curated_module, "_period_signatures", spy)
    assert not curated_is_stale(engine, curated)
    assert "fact_observation" not in grouped  # the manifest's state is the table's: no scan of every row
    with engine.begin() as conn:  # a row deleted behind the pipeline's back changes the count
        conn.execute(text("DELETE FROM fact_observation WHERE observation_id = "
                          "(SELECT MIN(observation_id) FROM fact_observation)"))
    assert curated_is_stale(engine, curated)
    rebuild_curated(engine, curated)
    assert not curated_is_stale(engine, curated)
    _load(engine, SECOND, "second.csv", 1)  # a load nobody published
    assert curated_is_stale(engine, curated)
    manifest = json.loads((curated / MANIFEST).read_text())
    del manifest["fact_observation_state"]  # no state recorded: the years are signed from the database
    (curated / MANIFEST).write_text(json.dumps(manifest))
    grouped.clear()
    assert curated_is_stale(engine, curated) and "fact_observation" in grouped


def test_partitions_are_written_in_large_row_groups_and_an_empty_one_is_valid(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(curated_io, "ROW_GROUP_ROWS", 2)
    path = tmp_path / "part.parquet"
    curated_io.write_batches(path, OBSERVATION_SCHEMA, [])
    assert pq.read_table(path).schema == OBSERVATION_SCHEMA and pq.read_metadata(path).num_rows == 0
    first = _load(engine, TWO_YEAR_ROWS, "first.csv", 0)
    second = _load(engine, SECOND, "second.csv", 1)
    assert first.changes is not None and second.changes is not None
    table = pa.concat_tables([first.changes.appended, second.changes.appended])
    batches = [b for t in (table.slice(0, 1), table.slice(1, 4), table.slice(5)) for b in t.to_batches()]
    curated_io.write_batches(path, OBSERVATION_SCHEMA, batches)
    meta = pq.read_metadata(path)
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [2, 2, 2, 1]
    assert pq.read_table(path).equals(table)
    assert meta.row_group(0).column(0).is_stats_set  # observation_id: readers filter by it


def test_changes_split_their_rows_by_year(engine: Engine) -> None:
    result = _load(engine, SECOND, "second.csv", 0)
    changes = result.changes
    assert changes is not None and changes.years() == {"2021", "2022"}
    assert changes.appended_in("2021")["period"].to_pylist() == ["2021-03", "2021-03", "2021-04"]
    assert changes.appended_in("2022")["period"].to_pylist() == ["2022-01"]
    assert changes.appended_in("2019").num_rows == 0
    one_year = _load(engine, THIRD, "third.csv", 1).changes
    assert one_year is not None and one_year.appended_in("2021") is one_year.appended  # no copy
