"""Loading drops (G1–G3, G13): current view, duplicates, corrections with history, quarantine, cumulative rule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import partial

import pandas as pd
import pytest
from sqlalchemy import Engine, text
from wh_helpers import (
    CHUXIONG,
    JOBS,
    LUFENG,
    MATERNAL,
    PREFECTURE,
    SHUANGBAI,
    T0,
    UNEMPLOYMENT,
    checksum,
    content_of,
    current,
    frame,
    load_rows,
    make_drop,
    scalar,
)

from tasks.contracts import Issue, Outcome, Severity
from warehouse.load import LoadOutcome
from warehouse.queries import current_values, observations_as_of, seen_hashes, was_loaded

MARCH = frame([(JOBS, CHUXIONG, "2021-03", "1200"), (JOBS, SHUANGBAI, "2021-03", "300"),
               (UNEMPLOYMENT, PREFECTURE, "2021-03", "4.1"), (MATERNAL, PREFECTURE, "2021-03", "16")])

_load = partial(load_rows, name="march.csv")


def test_loaded_rows_appear_in_the_current_view_with_their_provenance(engine: Engine) -> None:
    result = _load(engine, MARCH)
    assert result.outcome == LoadOutcome.LOADED and result.rows_loaded == 4 and result.load_id is not None
    assert current(engine) == {(JOBS, CHUXIONG, "2021-03"): "1200", (JOBS, SHUANGBAI, "2021-03"): "300",
                               (UNEMPLOYMENT, PREFECTURE, "2021-03"): "4.1",
                               (MATERNAL, PREFECTURE, "2021-03"): "16"}
    with engine.connect() as conn:
        row = conn.execute(text("SELECT target_name_zh, county_name_zh, source_department, source_file, source_row, "
                                "source_sha256, load_id FROM v_observation_current WHERE county_code = :c"),
                           {"c": CHUXIONG}).one()
        ledger = conn.execute(text("SELECT status, outcome, row_count, rows_loaded FROM drop_ledger")).one()
    assert row.county_name_zh == "楚雄市" and row.source_department == "hrss" and row.source_file == "march.csv"
    assert row.source_row == 2 and row.source_sha256 == make_drop(content_of(MARCH)).sha256
    assert row.load_id == result.load_id and row.target_name_zh
    assert tuple(ledger) == ("loaded", "load", 4, 4)
    assert was_loaded(engine, row.source_sha256) == "loaded" and seen_hashes(engine) == {row.source_sha256}


def test_same_bytes_under_another_name_change_nothing(engine: Engine) -> None:
    first = _load(engine, MARCH)
    before = current(engine)
    count = scalar(engine, "SELECT COUNT(*) FROM fact_observation")
    again = _load(engine, MARCH, T0 + dt.timedelta(days=3), name="copy of march.csv")
    assert again.outcome == LoadOutcome.DUPLICATE and again.previous_status == "loaded"
    assert again.load_id == first.load_id and again.rows_loaded == 0
    assert current(engine) == before and scalar(engine, "SELECT COUNT(*) FROM fact_observation") == count
    with engine.connect() as conn:
        ledger = conn.execute(text("SELECT status, first_seen, last_seen FROM drop_ledger")).all()
        sightings: dict[str, str] = dict(
            conn.execute(text("SELECT relative_name, outcome FROM drop_sighting")).tuples().all())
    assert len(ledger) == 1 and ledger[0].status == "loaded"
    assert str(ledger[0].last_seen) > str(ledger[0].first_seen)
    assert sightings == {"march.csv": "loaded", "copy of march.csv": "duplicate"}


def test_a_correction_supersedes_keeps_history_and_never_reverts(engine: Engine) -> None:
    _load(engine, MARCH, T0)
    corrected = frame([(JOBS, CHUXIONG, "2021-03", "1250"), (JOBS, SHUANGBAI, "2021-03", "300")],
                      status="revised")
    later = T0 + dt.timedelta(days=5)
    result = _load(engine, corrected, later, name="march corrected.csv")
    assert (result.outcome, result.rows_loaded, result.rows_superseded) == (LoadOutcome.LOADED, 2, 2)
    assert current(engine)[(JOBS, CHUXIONG, "2021-03")] == "1250"
    with engine.connect() as conn:
        history = conn.execute(text(
            "SELECT observation_id, value_text, status, is_current, superseded_by, superseded_at, recorded_at "
            "FROM v_observation_history WHERE target_id = :t AND county_code = :c ORDER BY observation_id"),
            {"t": JOBS, "c": CHUXIONG}).all()
    assert [(h.value_text, h.is_current) for h in history] == [("1200", 0), ("1250", 1)]
    assert history[0].superseded_by == history[1].observation_id
    old = observations_as_of(engine, T0.date())
    new = observations_as_of(engine, later.date())
    key = (old["target_id"] == JOBS) & (old["county_code"] == CHUXIONG)
    assert old.loc[key, "value"].tolist() == [Decimal("1200")]
    assert new.loc[(new["target_id"] == JOBS) & (new["county_code"] == CHUXIONG), "value"].tolist() == [
        Decimal("1250")]
    assert observations_as_of(engine, T0 - dt.timedelta(days=1)).empty
    assert len(old) == len(new) == 4
    redrop = _load(engine, MARCH, later + dt.timedelta(days=1), name="march (old).csv")
    assert redrop.outcome == LoadOutcome.DUPLICATE
    assert current(engine)[(JOBS, CHUXIONG, "2021-03")] == "1250"


def test_unchanged_rows_are_not_rewritten(engine: Engine) -> None:
    _load(engine, MARCH)
    april = pd.concat([MARCH, frame([(JOBS, CHUXIONG, "2021-04", "1900")])], ignore_index=True)
    result = _load(engine, april, T0 + dt.timedelta(days=30), name="april.csv")
    assert (result.rows_loaded, result.rows_unchanged, result.rows_superseded) == (1, 4, 0)
    assert scalar(engine, "SELECT COUNT(*) FROM fact_observation") == 5


def test_a_quarantined_verdict_writes_ledger_and_checks_only(engine: Engine) -> None:
    issues = [Issue(Severity.CRITICAL, "unknown_target", "未知指标", "unknown target", sheet="Sheet1", row=7,
                    column="指标", value="奇怪指标"),
              Issue(Severity.WARNING, "target_missed", "未达目标", "target missed")]
    result = _load(engine, MARCH, outcome=Outcome.QUARANTINE, issues=issues)
    assert result.outcome == LoadOutcome.QUARANTINED and result.rows_loaded == 0 and result.checks_written == 2
    assert scalar(engine, "SELECT COUNT(*) FROM fact_observation") == 0
    with engine.connect() as conn:
        ledger = conn.execute(text("SELECT status, outcome, reason_codes, critical_count, warning_count "
                                   "FROM drop_ledger")).one()
        check = conn.execute(text("SELECT rule, severity, sheet, row_number, column_name, value, message_zh, "
                                  "message_en, load_id FROM fact_check WHERE severity = 'critical'")).one()
    assert (ledger.status, ledger.outcome, ledger.critical_count, ledger.warning_count) == (
        "quarantined", "quarantine", 1, 1)
    assert "unknown_target" in str(ledger.reason_codes)
    assert tuple(check)[:8] == ("unknown_target", "critical", "Sheet1", 7, "指标", "奇怪指标", "未知指标",
                                "unknown target")
    assert check.load_id == result.load_id


def test_an_ignored_verdict_is_ledgered_without_rows(engine: Engine) -> None:
    result = _load(engine, MARCH, outcome=Outcome.IGNORE)
    assert result.outcome == LoadOutcome.IGNORED
    assert scalar(engine, "SELECT status FROM drop_ledger") == "ignored"
    assert scalar(engine, "SELECT COUNT(*) FROM fact_observation") == 0


def test_a_cumulative_decrease_against_the_warehouse_quarantines(engine: Engine) -> None:
    _load(engine, frame([(JOBS, CHUXIONG, "2021-04", "5000"), (JOBS, LUFENG, "2021-04", "800")]))
    before = checksum(engine)
    may = frame([(JOBS, CHUXIONG, "2021-05", "4000"), (JOBS, LUFENG, "2021-05", "900")], sheet="5月")
    result = _load(engine, may, T0 + dt.timedelta(days=30), name="may.csv")
    assert result.outcome == LoadOutcome.QUARANTINED and result.rows_loaded == 0
    assert [(i.code, i.row, i.sheet, i.value) for i in result.issues] == [("cumulative_decrease", 2, "5月", "4000")]
    assert "5000" in result.issues[0].message_zh and "2021-04" in result.issues[0].message_en
    assert scalar(engine, "SELECT COUNT(*) FROM fact_observation") == 2
    assert scalar(engine, "SELECT status FROM drop_ledger WHERE load_id = :i", i=result.load_id) == "quarantined"
    assert scalar(engine, "SELECT rule FROM fact_check WHERE load_id = :i", i=result.load_id) == "cumulative_decrease"
    assert before != checksum(engine)  # the quarantine itself is recorded
    # Correcting April in the same drop makes the series consistent again: it loads.
    fixed = frame([(JOBS, CHUXIONG, "2021-04", "3500"), (JOBS, CHUXIONG, "2021-05", "4000")])
    assert _load(engine, fixed, T0 + dt.timedelta(days=31), name="may fixed.csv").outcome == LoadOutcome.LOADED
    # A new March value above the held April value is a decrease too (seen from the later month).
    march = frame([(JOBS, LUFENG, "2021-03", "900")])
    late = _load(engine, march, T0 + dt.timedelta(days=32), name="march late.csv")
    assert late.outcome == LoadOutcome.QUARANTINED and late.issues[0].code == "cumulative_decrease"


def test_level_targets_may_go_down(engine: Engine) -> None:
    _load(engine, frame([(UNEMPLOYMENT, PREFECTURE, "2021-04", "4.5")]))
    result = _load(engine, frame([(UNEMPLOYMENT, PREFECTURE, "2021-05", "4.0")]), T0 + dt.timedelta(days=30),
                   name="may.csv")
    assert result.outcome == LoadOutcome.LOADED


def test_current_values_reads_the_whole_year_of_each_series(engine: Engine) -> None:
    _load(engine, frame([(JOBS, CHUXIONG, "2021-03", "100"), (JOBS, CHUXIONG, "2021-04", "250.5"),
                         (JOBS, SHUANGBAI, "2021-04", "7"), (JOBS, CHUXIONG, "2020-12", "999")]))
    keys = pd.DataFrame({"target_id": [JOBS], "county_code": [CHUXIONG], "period": ["2021-05"]})
    with engine.connect() as conn:
        held = current_values(conn, keys)
    assert held[["period", "value"]].values.tolist() == [["2021-03", Decimal("100")], ["2021-04", Decimal("250.5")]]


BAD_ROWS = {
    "unknown_target": lambda: frame([(JOBS, CHUXIONG, "2021-03", "1")]).assign(target_id="employment.nothing"),
    "unknown_county": lambda: frame([(JOBS, "999999", "2021-03", "1")]),
    "bad_period": lambda: frame([(JOBS, CHUXIONG, "2021-13", "1")]),
    "duplicate_key": lambda: frame([(JOBS, CHUXIONG, "2021-03", "1"), (JOBS, CHUXIONG, "2021-03", "2")]),
    "value_precision": lambda: frame([(UNEMPLOYMENT, CHUXIONG, "2021-03", "0.30000000000000004")]),
    "value_out_of_range": lambda: frame([(JOBS, CHUXIONG, "2021-03", "1E+21")]),
    "bad_status": lambda: frame([(JOBS, CHUXIONG, "2021-03", "1")], status="draft"),
}


@pytest.mark.parametrize("code", sorted(BAD_ROWS), ids=str)
def test_rows_the_warehouse_cannot_hold_quarantine_the_file(engine: Engine, code: str) -> None:
    result = _load(engine, BAD_ROWS[code]())
    assert result.outcome == LoadOutcome.QUARANTINED
    assert code in {i.code for i in result.issues}
    assert all(i.severity == Severity.CRITICAL and i.message_zh and i.message_en for i in result.issues)
    assert scalar(engine, "SELECT COUNT(*) FROM fact_observation") == 0
    assert scalar(engine, "SELECT COUNT(*) FROM fact_check") == len(result.issues)


def test_missing_values_and_wrong_units_quarantine(engine: Engine) -> None:
    rows = frame([(JOBS, CHUXIONG, "2021-03", "1"), (JOBS, SHUANGBAI, "2021-03", "2")])
    rows.loc[0, "value"] = None
    rows.loc[1, "unit"] = "yuan"
    result = _load(engine, rows)
    assert result.outcome == LoadOutcome.QUARANTINED
    assert {(i.code, i.row) for i in result.issues} == {("missing_value", 2), ("unit_mismatch", 3)}
