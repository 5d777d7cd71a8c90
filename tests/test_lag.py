"""Lag: the reporting calendar on Chinese working days, delivery lag with escalation, progress lag; and when a
file counts as delivered (its drop time), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pandas as pd
import pytest
from sqlalchemy import Engine

from expectations.loader import load_catalog
from expectations.models import Catalog
from tasks.contracts import NORMALIZED_COLUMNS, Drop, Issue, Outcome, Severity, Verdict
from tasks.evaluate import target_status
from tasks.lag import calendar_periods, delivery_lag, due_date, nth_workday, progress_lag
from warehouse.evaluation import submissions, unresolved_quarantines
from warehouse.load import load_drop

CATALOG_DIR = Path(__file__).parent / "cases" / "good_catalog_small"
HRSS_TARGETS = ["employment.new_urban_jobs", "employment.urban_unemployment_rate"]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG_DIR)


@pytest.mark.parametrize(
    ("year", "month", "n", "expected"),
    [(2021, 10, 5, dt.date(2021, 11, 5)),
     (2021, 9, 5, dt.date(2021, 10, 13)),
     (2021, 9, 1, dt.date(2021, 10, 8)),
     (2021, 4, 5, dt.date(2021, 5, 11)),
     (2021, 1, 5, dt.date(2021, 2, 5)),
     (2021, 2, 5, dt.date(2021, 3, 5)),
     (2021, 12, 5, dt.date(2022, 1, 10))],
    ids=["oct-data-plain-november", "sep-data-after-national-day", "sep-data-first-day-after-holiday",
         "apr-data-after-may-day", "jan-data", "feb-data-after-spring-festival", "dec-data-after-new-year"],
)
def test_due_date_on_chinese_working_days(year: int, month: int, n: int, expected: dt.date) -> None:
    assert due_date(year, month, n) == expected


def test_september_2021_follows_the_published_holidays() -> None:
    # 1–7 October 2021 off; Sunday 26 September and Saturday 9 October were working days
    assert not any(chinese_calendar.is_workday(dt.date(2021, 10, d)) for d in range(1, 8))
    assert chinese_calendar.is_workday(dt.date(2021, 9, 26)) and chinese_calendar.is_workday(dt.date(2021, 10, 9))
    assert [nth_workday(2021, 10, n) for n in range(1, 6)] == [
        dt.date(2021, 10, 8), dt.date(2021, 10, 9), dt.date(2021, 10, 11), dt.date(2021, 10, 12),
        dt.date(2021, 10, 13)]


def test_calendar_outside_known_years_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="chinesecalendar"):
        due_date(2099, 1, 5)


def submitted(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """Rows of (target_id, period, first_recorded_at)."""
    return pd.DataFrame([{"department": "hrss", "target_id": t, "period": p, "first_recorded_at": at}
                         for t, p, at in rows], columns=["department", "target_id", "period", "first_recorded_at"])


def all_delivered(catalog: Catalog, until: str, at: str | None = None) -> list[tuple[str, str, str]]:
    """Every monthly lead target of every department delivered on time up to period `until`."""
    rows = []
    for period in calendar_periods(catalog):
        if period > until:
            break
        for target in catalog.targets:
            if target.frequency.value == "monthly":
                y, m = int(period[:4]), int(period[5:])
                rows.append((target.id, period, at or due_date(y, m, 3).isoformat()))
    return rows


def test_nothing_late_nothing_reported(catalog: Catalog) -> None:
    lag = delivery_lag(catalog, submitted(all_delivered(catalog, "2021-06")), dt.date(2021, 7, 20))
    assert lag.empty


def test_missing_after_the_due_date(catalog: Catalog) -> None:
    rows = [r for r in all_delivered(catalog, "2021-06")
            if not (r[1] == "2021-06" and r[0] == "employment.urban_unemployment_rate")]
    due = due_date(2021, 6, 5)
    assert due == dt.date(2021, 7, 7)
    assert delivery_lag(catalog, submitted(rows), due).empty  # on the due day it is not late yet
    lag = delivery_lag(catalog, submitted(rows), dt.date(2021, 7, 8))
    assert len(lag) == 1
    row = lag.iloc[0]
    assert (row["department"], row["period"], row["due_date"]) == ("hrss", "2021-06", due)
    assert row["missing_targets"] == ["employment.urban_unemployment_rate"]
    assert row["expected_targets"] == HRSS_TARGETS
    assert row["days_overdue"] == 1 and row["consecutive_misses"] == 1 and not row["escalated"]


def test_second_consecutive_miss_escalates(catalog: Catalog) -> None:
    rows = [r for r in all_delivered(catalog, "2021-06")
            if not (r[1] in ("2021-05", "2021-06") and r[0] in HRSS_TARGETS)]
    lag = delivery_lag(catalog, submitted(rows), dt.date(2021, 7, 20))
    hrss = lag[lag["department"] == "hrss"].set_index("period")
    assert list(hrss.index) == ["2021-05", "2021-06"]
    assert hrss.loc["2021-05", "consecutive_misses"] == 1 and not hrss.loc["2021-05", "escalated"]
    assert hrss.loc["2021-06", "consecutive_misses"] == 2 and hrss.loc["2021-06", "escalated"]
    assert set(lag["department"]) == {"hrss"}


def test_a_late_delivery_still_counts_as_a_miss(catalog: Catalog) -> None:
    rows = [r for r in all_delivered(catalog, "2021-06") if not (r[1] == "2021-06" and r[0] in HRSS_TARGETS)]
    rows = [(t, p, "2021-06-20") if p == "2021-05" and t in HRSS_TARGETS else (t, p, at) for t, p, at in rows]
    lag = delivery_lag(catalog, submitted(rows), dt.date(2021, 7, 20))
    row = lag[lag["department"] == "hrss"].iloc[0]
    assert row["period"] == "2021-06" and row["consecutive_misses"] == 2 and row["escalated"]


def test_what_was_known_on_as_of(catalog: Catalog) -> None:
    rows = [r for r in all_delivered(catalog, "2021-06") if not (r[1] == "2021-06" and r[0] in HRSS_TARGETS)]
    rows += [(t, "2021-06", "2021-07-15") for t in HRSS_TARGETS]
    assert len(delivery_lag(catalog, submitted(rows), dt.date(2021, 7, 12))) == 1
    assert delivery_lag(catalog, submitted(rows), dt.date(2021, 7, 16)).empty


def test_department_due_day_override(catalog: Catalog) -> None:
    rows = [r for r in all_delivered(catalog, "2021-06") if not (r[1] == "2021-06" and r[0].startswith("ecology"))]
    lag = delivery_lag(catalog, submitted(rows), dt.date(2021, 7, 6))
    assert list(lag["department"]) == ["ecology"]  # working day 3 of July 2021 is 5 July
    assert lag.iloc[0]["due_date"] == dt.date(2021, 7, 5)


def test_annual_targets_are_expected_in_december_only(catalog: Catalog) -> None:
    lag = delivery_lag(catalog, submitted(all_delivered(catalog, "2021-12")), dt.date(2022, 1, 20))
    assert list(lag["department"]) == ["agriculture"] and list(lag["period"]) == ["2021-12"]
    assert lag.iloc[0]["missing_targets"] == ["agriculture.grain_area"]


def test_bad_submitted_frame_is_named(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="first_recorded_at"):
        delivery_lag(catalog, pd.DataFrame({"target_id": []}), dt.date(2021, 7, 20))


def test_progress_lag_names_the_lead_department(catalog: Catalog) -> None:
    obs = pd.DataFrame([{"target_id": "employment.new_urban_jobs", "county_code": "532300", "period": "2021-06",
                         "value": Decimal(7000), "basis": "ytd", "recorded_at": pd.Timestamp("2021-07-05")},
                        {"target_id": "housing.old_communities", "county_code": "532300", "period": "2021-06",
                         "value": Decimal(160), "basis": "ytd", "recorded_at": pd.Timestamp("2021-07-05")}])
    lag = progress_lag(target_status(obs, catalog, dt.date(2021, 7, 10)), catalog)
    assert list(lag["target_id"]) == ["employment.new_urban_jobs"]
    row = lag.iloc[0]
    assert (row["department"], row["light"], row["gap_points"]) == ("hrss", "red", Decimal("32.50"))


SHANGHAI = ZoneInfo("Asia/Shanghai")


def _load(engine: Engine, name: str, rows: list[tuple[str, str, str]], dropped: dt.datetime,
          seen_by_tick_of: dt.date, quarantined: bool = False) -> None:
    """Load a drop of hrss (rows of target_id, period, value for the prefecture) as a replayed tick on
    `seen_by_tick_of` would: recorded at the end of that day, the file's mtime being `dropped`."""
    frame = pd.DataFrame([{"target_id": t, "county_code": "532300", "period": p, "value": Decimal(v),
                           "unit": "person" if t == HRSS_TARGETS[0] else "percent", "basis": "ytd",
                           "status": "provisional", "note": "", "source_sheet": "", "source_row": i + 2}
                          for i, (t, p, v) in enumerate(rows)], columns=list(NORMALIZED_COLUMNS))
    content = f"{name}:{rows}".encode()
    drop = Drop(path=Path(name), department="hrss", sha256=hashlib.sha256(content).hexdigest(), size=len(content),
                mtime=dropped.timestamp(), relative_name=name)
    issue = Issue(Severity.CRITICAL, "cumulative_decrease", "累计数下降", "year-to-date value fell")
    verdict = (Verdict(Outcome.QUARANTINE, frame.iloc[0:0], [issue]) if quarantined
               else Verdict(Outcome.LOAD, frame, []))
    load_drop(engine, drop, verdict, recorded_at=dt.datetime.combine(seen_by_tick_of, dt.time(23, 59, 59),
                                                                     SHANGHAI))


def test_a_file_is_delivered_when_it_was_dropped_not_when_a_replay_saw_it(engine: Engine,
                                                                           catalog: Catalog) -> None:
    """May's file was dropped on 3 June (due 7 June) and first seen by the replayed tick of 10 June: on time,
    so June's missing data is a first miss, not a second one escalated. A file whose mtime lies after the
    tick that saw it counts from that tick."""
    may = [(t, "2021-05", v) for t, v in zip(HRSS_TARGETS, ["16000", "4.8"], strict=True)]
    july = [(t, "2021-07", v) for t, v in zip(HRSS_TARGETS, ["18500", "4.9"], strict=True)]
    _load(engine, "may.csv", may, dt.datetime(2021, 6, 3, 9, 30, tzinfo=SHANGHAI), dt.date(2021, 6, 10))
    _load(engine, "july.csv", july, dt.datetime(2021, 8, 30, tzinfo=SHANGHAI), dt.date(2021, 8, 10))
    delivered = submissions(engine, dt.date(2021, 8, 20)).set_index(["target_id", "period"])["first_recorded_at"]
    assert delivered[(HRSS_TARGETS[0], "2021-05")] == pd.Timestamp("2021-06-03 01:30", tz="UTC")
    assert delivered[(HRSS_TARGETS[0], "2021-07")] == pd.Timestamp("2021-08-10 15:59:59", tz="UTC")
    calendar = catalog.calendar.model_copy(update={"first_period": "2021-05", "last_period": "2021-06"})
    lag = delivery_lag(catalog.model_copy(update={"calendar": calendar}), submissions(engine, dt.date(2021, 7, 20)),
                       dt.date(2021, 7, 20))
    june = lag[lag["department"] == "hrss"]
    assert list(june["period"]) == ["2021-06"]
    assert (june.iloc[0]["consecutive_misses"], june.iloc[0]["escalated"]) == (1, False)


def test_a_quarantine_is_settled_only_by_a_file_delivered_after_it(engine: Engine) -> None:
    """Both files are first seen by the same replayed tick: their drop times tell which came first."""
    rows = [(HRSS_TARGETS[0], "2021-08", "19500")]
    tick = dt.date(2021, 10, 10)
    _load(engine, "before.csv", [(HRSS_TARGETS[0], "2021-07", "18500")],
          dt.datetime(2021, 9, 1, tzinfo=SHANGHAI), tick)
    _load(engine, "bad.csv", [(HRSS_TARGETS[0], "2021-08", "9500")], dt.datetime(2021, 9, 3, tzinfo=SHANGHAI), tick,
          quarantined=True)
    assert list(unresolved_quarantines(engine, tick)["relative_name"]) == ["bad.csv"]
    _load(engine, "fixed.csv", rows, dt.datetime(2021, 9, 14, tzinfo=SHANGHAI), tick)
    assert unresolved_quarantines(engine, tick).empty
