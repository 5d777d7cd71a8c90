"""The ingest flow as a department and the data team meet it: drops in folders, receipts, quarantine, warehouse."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from flows.ingest import ingest
from minsheng.cli import _register, app

CASES = Path(__file__).resolve().parents[1] / "cases"
AS_OF = dt.date(2021, 8, 10)


def _drop(data_dir: Path, case: str, department: str, name: str | None = None) -> Path:
    target = data_dir / "raw" / department / (name or case)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(CASES / case, target)
    return target


def _current(data_dir: Path) -> pd.DataFrame:
    engine = create_engine(f"sqlite:///{data_dir / 'warehouse.sqlite'}")
    with engine.connect() as conn:
        frame = pd.read_sql(text("SELECT target_id, county_code, period, value_text FROM v_observation_current "
                                 "ORDER BY target_id, county_code, period"), conn)
    engine.dispose()
    return frame


def _ledger(data_dir: Path) -> dict[str, int]:
    engine = create_engine(f"sqlite:///{data_dir / 'warehouse.sqlite'}")
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT status, count(*) FROM drop_ledger GROUP BY status")).all())
    engine.dispose()
    return rows


def _check_json(path: Path, department: str) -> dict:
    _register()
    result = CliRunner().invoke(app, ["check", str(path), "--department", department, "--as-of", AS_OF.isoformat(),
                                      "--json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def test_new_user_drops_gbk_csv_and_merged_header_xlsx(data_dir: Path) -> None:
    gbk = _drop(data_dir, "good_gbk_title_total.csv", "hrss", "2021年4月就业进度.csv")
    xlsx = _drop(data_dir, "good_merged_header.xlsx", "hrss", "7月/进度表.xlsx")
    verdicts = {p.name: _check_json(p, "hrss") for p in (gbk, xlsx)}

    summary = ingest(AS_OF)

    by_name = {Path(r.relative_name).name: r for r in summary.results}
    for name, verdict in verdicts.items():
        assert by_name[name].outcome.value == verdict["outcome"] == "load"
        assert by_name[name].rows_loaded == len(verdict["rows"])
    current = _current(data_dir)
    expected = pd.concat([pd.read_csv(CASES / f, dtype=str) for f in
                          ("good_gbk_title_total.expected.csv", "good_merged_header.expected.csv")])
    assert sorted(zip(current.target_id, current.county_code, current.period, current.value_text.map(Decimal),
                      strict=True)) == \
        sorted(zip(expected.target_id, expected.county_code, expected.period, expected.value.map(Decimal),
                   strict=True))
    receipt = (data_dir / "raw" / "hrss" / "_receipts" / "2021年4月就业进度.csv.md").read_text(encoding="utf-8")
    assert "已入库" in receipt and "Rows loaded: 2" in receipt and "合计" in receipt


def test_a_bad_file_is_quarantined_whole_and_the_tick_goes_on(data_dir: Path) -> None:
    bad = _drop(data_dir, "bad_ambiguous_period.csv", "hrss")
    _drop(data_dir, "good_hrss_march.csv", "hrss")
    verdict = _check_json(bad, "hrss")

    summary = ingest(AS_OF)

    outcomes = {Path(r.relative_name).name: r.outcome.value for r in summary.results}
    assert outcomes == {"bad_ambiguous_period.csv": "quarantine", "good_hrss_march.csv": "load"}
    assert verdict["outcome"] == "quarantine" and any(i["code"] == "ambiguous_period" for i in verdict["issues"])
    sha = hashlib.sha256(bad.read_bytes()).hexdigest()
    kept = (data_dir / "quarantine" / f"{sha}_bad_ambiguous_period.csv")
    assert kept.read_bytes() == bad.read_bytes()
    report = json.loads(kept.with_name(kept.name + ".report.json").read_text(encoding="utf-8"))
    assert {i["code"] for i in report["issues"]} >= {"ambiguous_period"}
    assert set(_current(data_dir)["period"]) == {"2021-03"}
    receipt = (data_dir / "raw" / "hrss" / "_receipts" / "bad_ambiguous_period.csv.md").read_text(encoding="utf-8")
    assert "未入库" in receipt and "ambiguous_period" in receipt
    assert _ledger(data_dir) == {"loaded": 1, "quarantined": 1}


def test_a_department_cannot_submit_another_departments_targets(data_dir: Path) -> None:
    _drop(data_dir, "good_hrss_march.csv", "health", "jobs_in_the_wrong_folder.csv")
    summary = ingest(AS_OF)
    assert [r.outcome.value for r in summary.results] == ["quarantine"]
    assert _current(data_dir).empty
    receipt = (data_dir / "raw" / "health" / "_receipts" / "jobs_in_the_wrong_folder.csv.md").read_text("utf-8")
    assert "not_owner" in receipt


def test_redropping_the_same_bytes_changes_nothing(data_dir: Path) -> None:
    _drop(data_dir, "good_hrss_march.csv", "hrss")
    ingest(AS_OF)
    before = _current(data_dir)

    again = ingest(AS_OF)
    _drop(data_dir, "good_hrss_march.csv", "hrss", "copy/再次报送.csv")
    renamed = ingest(AS_OF)

    assert again.results == [] and again.duplicates == 0
    assert renamed.results == [] and renamed.duplicates == 1
    pd.testing.assert_frame_equal(_current(data_dir), before)
    assert _ledger(data_dir) == {"loaded": 1}
    receipt = data_dir / "raw" / "hrss" / "_receipts" / "copy" / "再次报送.csv.md"
    assert "已忽略" in receipt.read_text(encoding="utf-8")


def test_unknown_folders_and_lock_files_are_not_loaded(data_dir: Path) -> None:
    _drop(data_dir, "good_hrss_march.csv", "not_a_department")
    _drop(data_dir, "good_hrss_march.csv", "hrss", "~$good_hrss_march.csv")
    summary = ingest(AS_OF)
    assert summary.results == [] and summary.unknown_folders == ["not_a_department"]
    assert not (data_dir / "raw" / "hrss" / "_receipts").exists()


def test_an_empty_file_waits_then_is_quarantined(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = data_dir / "raw" / "hrss" / "empty.csv"
    empty.parent.mkdir()
    empty.write_bytes(b"")
    monkeypatch.setenv("MINSHENG_STABLE_SECONDS", "5")
    assert ingest(AS_OF).results == []  # still within the grace period: maybe still being written
    old = empty.stat().st_mtime - 3600
    os.utime(empty, (old, old))
    summary = ingest(AS_OF)
    assert [(r.relative_name, r.outcome.value) for r in summary.results] == [("empty.csv", "quarantine")]
    assert "empty_file" in (data_dir / "raw" / "hrss" / "_receipts" / "empty.csv.md").read_text("utf-8")
