"""Reading, checking and deriving small station feeds generated in the test (CSV and Parquet)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from tasks.aq import (
    FeedError,
    StationRegistry,
    check_feed,
    load_registry,
    read_feed,
    run_derivation,
)
from tasks.contracts import NORMALIZED_COLUMNS, Outcome, Severity

REGISTRY = StationRegistry.model_validate({
    "prefecture_code": "532300",
    "stations": [
        {"id": "A1", "name": "test A1", "county_code": "532301"},
        {"id": "A2", "name": "test A2", "county_code": "532301"},
        {"id": "B1", "name": "test B1", "county_code": "532322", "valid_from": "2021-03-02"},
    ],
})


def _hours(stations: list[str], days: int = 2, levels: dict[str, float] | None = None) -> pd.DataFrame:
    """Complete hourly readings from 2021-03-01 00:00 for each station, constant levels per pollutant."""
    times = pd.date_range("2021-03-01", periods=24 * days, freq="h")
    rows = pd.DataFrame([(s, t) for s in stations for t in times], columns=["station", "time"])
    defaults = {"PM2.5": 30.0, "PM10": 50.0, "SO2": 5.0, "NO2": 20.0, "CO(mg/m3)": 0.5, "O3": 60.0}
    for column, value in {**defaults, **(levels or {})}.items():
        rows[column] = value
    return rows


def _codes(issues: list) -> set[str]:
    return {i.code for i in issues}


def test_aliases_na_and_year_month_day_hour_columns(tmp_path: Path) -> None:
    text = ("No,year,month,day,hour,pm2_5,PM10,so2,NO2,CO,o3,TEMP,station\n"
            "1,2021,3,1,0,NA,9,3,17,300,89,-0.5,A1\n"
            "2,2021,3,1,1,4,4,3,16,300,88,-0.7,A1\n")
    (tmp_path / "feed.csv").write_text(text, encoding="utf-8")
    feed = read_feed(tmp_path / "feed.csv", co_unit="ug/m3")
    frame = feed.frame
    assert list(frame.columns) == ["station", "time", "pm25", "pm10", "so2", "no2", "co", "o3"]
    pm25 = frame["pm25"].to_numpy()
    assert np.isnan(pm25[0]) and pm25[1] == 4  # NA is missing, never 0
    assert frame["co"].to_numpy()[0] == pytest.approx(0.3)  # µg/m³ declared → mg/m³
    assert list(frame["time"].dt.hour) == [0, 1]
    assert feed.granularity == "hourly" and feed.locate(1) == ("feed.csv", 3)


def test_times_with_an_offset_are_converted_to_beijing_time(tmp_path: Path) -> None:
    (tmp_path / "feed.csv").write_text(
        "station,datetime,PM25,pm10,SO2,NO2,CO(mg/m3),O3\n"
        "A1,2021-03-01T00:00:00Z,1,1,1,1,0.1,1\n"
        "A1,2021-03-01 09:00,2,2,2,2,0.2,2\n"
        "A1,2021/3/1 10:00:00+08:00,3,3,3,3,0.3,3\n", encoding="utf-8")
    frame = read_feed(tmp_path / "feed.csv").frame
    assert [str(t) for t in frame["time"]] == ["2021-03-01 08:00:00", "2021-03-01 09:00:00",
                                               "2021-03-01 10:00:00"]


def test_parquet_with_aware_timestamps_is_converted(tmp_path: Path) -> None:
    data = _hours(["A1"], days=1)
    data["time"] = data["time"].dt.tz_localize("Asia/Shanghai").dt.tz_convert("UTC")
    data.to_parquet(tmp_path / "feed.parquet")
    frame = read_feed(tmp_path / "feed.parquet").frame
    assert str(frame["time"].iloc[0]) == "2021-03-01 00:00:00"


@pytest.mark.parametrize(("header", "co_unit", "code"), [
    ("CO", None, "co_unit_undeclared"),
    ("CO(mg/m3)", "ug/m3", "co_unit_conflict"),
    ("CO(ppm)", None, "unsupported_unit"),
], ids=["undeclared", "conflict", "unsupported"])
def test_co_unit_must_be_declared_consistently(tmp_path: Path, header: str, co_unit: str | None,
                                               code: str) -> None:
    _hours(["A1"], days=1).rename(columns={"CO(mg/m3)": header}).to_csv(tmp_path / "f.csv", index=False)
    with pytest.raises(FeedError) as exc:
        read_feed(tmp_path / "f.csv", co_unit=co_unit)  # type: ignore[arg-type]
    assert code in _codes(exc.value.issues)
    assert all(i.severity == Severity.CRITICAL and i.message_zh for i in exc.value.issues)


def test_co_in_ug_declared_as_mg_is_implausible(tmp_path: Path) -> None:
    _hours(["A1"], levels={"CO(mg/m3)": 800.0}).to_csv(tmp_path / "f.csv", index=False)
    result = run_derivation(tmp_path / "f.csv", REGISTRY)
    assert "co_unit_implausible" in _codes(result.issues)
    assert result.outcome == Outcome.QUARANTINE and result.area_days.empty


@pytest.mark.parametrize(("text", "code"), [
    ("station,time,PM2.5,PM10,SO2,NO2,CO(mg/m3),O3\nA1,01/03/2021 08:00,1,1,1,1,0.1,1\n", "bad_time"),
    ("station,time,PM2.5,PM10,SO2,NO2,CO(mg/m3),O3\nA1,2021-03-01 08:00,1x,1,1,1,0.1,1\n", "bad_number"),
    ("station,time,PM2.5,PM10,SO2,CO(mg/m3),O3\nA1,2021-03-01 08:00,1,1,1,0.1,1\n", "missing_column"),
    ("site,year,month,day,hour,PM2.5,PM10,SO2,NO2,CO(mg/m3),O3\nA1,2021,3,1,24,1,1,1,1,0.1,1\n", "bad_time"),
    ("station,date,PM2.5,PM10,SO2,NO2,CO(mg/m3),O3\nA1,2021-03-01,1,1,1,1,0.1,1\n", "ambiguous_o3"),
    ("station,PM2.5,pm2_5,time,PM10,SO2,NO2,CO(mg/m3),O3\nA1,1,1,2021-03-01 08:00,1,1,1,0.1,1\n",
     "ambiguous_column"),
], ids=["day-first-date", "text-number", "no-NO2", "hour-24", "daily-O3-unnamed", "two-PM25-columns"])
def test_unreadable_feeds_are_refused_with_file_row_and_column(tmp_path: Path, text: str, code: str) -> None:
    (tmp_path / "bad.csv").write_text(text, encoding="utf-8")
    with pytest.raises(FeedError) as exc:
        read_feed(tmp_path / "bad.csv")
    issue = next(i for i in exc.value.issues if i.code == code)
    assert issue.sheet == "bad.csv"
    if code in ("bad_time", "bad_number"):
        assert issue.row == 2 and issue.column


def test_hours_labelled_by_their_end_are_shifted(tmp_path: Path) -> None:
    (tmp_path / "f.csv").write_text("station,year,month,day,hour,PM2.5,PM10,SO2,NO2,CO(mg/m3),O3\n"
                                    "A1,2021,3,1,1,1,1,1,1,0.1,1\nA1,2021,3,1,24,1,1,1,1,0.1,1\n")
    frame = read_feed(tmp_path / "f.csv", hour_label="end").frame
    assert [str(t) for t in frame["time"]] == ["2021-03-01 00:00:00", "2021-03-01 23:00:00"]


def test_quality_checks(tmp_path: Path) -> None:
    data = _hours(["A1", "A2", "B1", "ZZ"])
    data.loc[3, "PM2.5"] = -4.0
    data.loc[4, "PM10"] = 50000.0
    data = pd.concat([data, data.iloc[[5]], data.iloc[[6]].assign(NO2=99.0)], ignore_index=True)
    data.to_csv(tmp_path / "f.csv", index=False)
    feed = read_feed(tmp_path / "f.csv")
    checked, issues = check_feed(feed, REGISTRY, as_of=dt.date(2021, 3, 1))
    by_code = {i.code: i for i in issues}
    assert by_code["unknown_station"].severity == Severity.CRITICAL and by_code["unknown_station"].value == "ZZ"
    assert by_code["negative_value"].severity == Severity.WARNING and by_code["negative_value"].row == 5
    assert by_code["absurd_value"].column == "pm10"
    assert by_code["duplicate_exact"].severity == Severity.WARNING
    assert by_code["duplicate_conflict"].severity == Severity.CRITICAL and by_code["duplicate_conflict"].row == 8
    assert by_code["station_not_valid"].value == "B1"  # B1 counts from 2021-03-02
    assert by_code["future_time"].severity == Severity.CRITICAL  # day 2 is after as_of
    assert np.isnan(checked.frame["pm25"].iloc[3]) and np.isnan(checked.frame["pm10"].iloc[4])
    assert "ZZ" not in set(checked.frame["station"])
    # 4 stations × 48 h + 2 repeated rows, less ZZ, B1's first day and both repeats
    assert len(checked.frame) == 4 * 48 + 2 - 48 - 24 - 2


def test_area_values_average_concentrations_not_aqis(tmp_path: Path) -> None:
    # County 532301: PM2.5 70 and 80 → mean 75 → IAQI 100 (averaging the IAQIs 94 and 107 would give 101).
    data = pd.concat([_hours(["A1"], levels={"PM2.5": 70.0}), _hours(["A2"], levels={"PM2.5": 80.0}),
                      _hours(["B1"], days=2, levels={"PM2.5": 150.0})], ignore_index=True)
    data.to_parquet(tmp_path / "f.parquet")
    result = run_derivation(tmp_path / "f.parquet", REGISTRY)
    assert [i.code for i in result.issues] == ["station_not_valid"]
    days = result.area_days.set_index(["area", result.area_days["date"].dt.day])
    assert days.loc[("532301", 1), "aqi"] == 100 and days.loc[("532301", 1), "stations"] == 2
    assert days.loc[("532322", 2), "aqi"] == 200  # B1 from its valid_from only
    assert ("532322", 1) not in days.index
    # Prefecture: day 1 (A1, A2) mean 75 → 100; day 2 (A1, A2, B1) mean 100 → 50 + 50·25/40 → 132.
    assert days.loc[("532300", 1), "aqi"] == 100 and days.loc[("532300", 2), "aqi"] == 132


def test_observations_carry_targets_decimals_and_lineage(tmp_path: Path) -> None:
    data = _hours(["A1", "A2"], days=3)
    data.loc[data["time"].dt.day == 3, "PM2.5"] = 120.0  # day 3 is lightly polluted
    data.to_csv(tmp_path / "f.csv", index=False)
    result = run_derivation(tmp_path / "f.csv", REGISTRY)
    obs = result.observations(drop_sha256="ab" * 32, source="f.csv")
    assert tuple(obs.columns) == NORMALIZED_COLUMNS
    ratio = obs[(obs.target_id == "ecology.air_quality_good_days_ratio") & (obs.county_code == "532301")]
    assert set(ratio["basis"]) == {"month", "ytd"}
    assert list(ratio["value"]) == [Decimal("66.7"), Decimal("66.7")]  # 2 good of 3 valid days
    pm25 = obs[(obs.target_id == "ecology.pm25_concentration") & (obs.county_code == "532300")]
    assert pm25["value"].iloc[0] == Decimal("60.0") and pm25["unit"].iloc[0] == "ug_m3"  # (30+30+120)/3
    assert all(isinstance(v, Decimal) for v in obs["value"])
    assert set(obs["status"]) == {"provisional"} and set(obs["period"]) == {"2021-03"}
    assert obs["note"].str.contains("drop_sha256=" + "ab" * 32).all()
    assert obs.attrs["lineage"]["drop_sha256"] == "ab" * 32


def test_daily_feed_published_aqi_is_compared(tmp_path: Path) -> None:
    daily = pd.DataFrame({"station": ["A1", "A1"], "date": ["2021-03-01", "2021-03-02"],
                          "PM2.5_24h": [40, 30], "PM10_24h": [50, 50], "SO2_24h": [5, 5], "NO2_24h": [20, 20],
                          "CO_24h(mg/m3)": [0.5, 0.5], "O3_8h": [60, 60], "AQI": [57, 55]})
    daily.to_csv(tmp_path / "daily.csv", index=False)
    result = run_derivation(tmp_path / "daily.csv", REGISTRY)
    assert result.feed is not None and result.feed.granularity == "daily"
    mismatches = [i for i in result.issues if i.code == "aqi_mismatch"]
    # Day 1: PM2.5 40 → 57, as published. Day 2: PM2.5 30 → 43, PM10 50 → 50: AQI 50, not the published 55.
    assert len(mismatches) == 1
    assert mismatches[0].severity == Severity.WARNING and mismatches[0].row == 3
    assert "A1" in mismatches[0].message_en and "2021-03-02" in mismatches[0].message_en


def test_registry_errors_name_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "stations.yaml"
    path.write_text("stations:\n  - id: S1\n    name: one\n    county_code: '532301'\n    colour: red\n"
                    "  - id: S2\n    name: two\n    county_code: '53230'\n")
    with pytest.raises(ValueError) as exc:
        load_registry(path)
    message = str(exc.value)
    assert f"{path}:5: field stations.0.colour (S1)" in message
    assert f"{path}:8: field stations.1.county_code (S2)" in message


def test_registry_rejects_duplicates_reversed_dates_and_foreign_counties(tmp_path: Path) -> None:
    path = tmp_path / "stations.yaml"
    path.write_text("stations:\n  - {id: S1, name: a, county_code: '532301'}\n"
                    "  - {id: S1, name: b, county_code: '532301'}\n")
    with pytest.raises(ValueError, match="given twice"):
        load_registry(path)
    path.write_text("stations:\n  - {id: S1, name: a, county_code: '532301', valid_from: 2021-02-01, "
                    "valid_to: 2021-01-01}\n")
    with pytest.raises(ValueError, match="before valid_from"):
        load_registry(path)
    path.write_text("stations:\n  - {id: S1, name: a, county_code: '110000', lat: 39.9}\n")
    assert load_registry(path).stations[0].lat == Decimal("39.9")
    with pytest.raises(ValueError, match=r"stations.yaml:2: field stations.0.county_code \(S1\)"):
        load_registry(path, known_county_codes={"532301"})


def test_chuxiong_registry_ships_empty() -> None:
    registry = load_registry(Path(__file__).resolve().parent.parent / "expectations/catalog/stations.yaml")
    assert registry.stations == [] and registry.prefecture_code == "532300" and registry.co_unit is None


@pytest.mark.parametrize(("text", "expected"), [
    ("2021-03-01", "2021-03-01 00:00:00"),
    ("2021-03-01T00:00:00Z", "2021-03-01 08:00:00"),
    ("2021-03-01 08:00+0800", "2021-03-01 08:00:00"),
    ("2021-03-01T00:00:00-05:00", "2021-03-01 13:00:00"),
    ("2021/3/1 8:00", "2021-03-01 08:00:00"),
    ("2021年3月1日8时", "2021-03-01 08:00:00"),
    ("2021-03-01 08:00:00.000", "2021-03-01 08:00:00"),
    ("03/01/2021", "NaT"),
], ids=lambda v: v)
def test_time_texts(text: str, expected: str) -> None:
    from tasks.aq.columns import parse_time_strings

    parsed, _ = parse_time_strings(pd.Series([text]))
    assert str(parsed.iloc[0]) == expected


def test_prefect_task_turns_a_drop_into_a_verdict(tmp_path: Path) -> None:
    from tasks.aq.tasks import derive_air_quality
    from tasks.contracts import Drop

    path = tmp_path / "feed.parquet"
    _hours(["A1", "A2"]).to_parquet(path)
    drop = Drop(path, "ecology", "f" * 64, path.stat().st_size, 0.0, "feed.parquet")
    verdict = derive_air_quality.fn(drop, REGISTRY, as_of=dt.date(2021, 3, 31))
    assert verdict.outcome == Outcome.LOAD and not verdict.issues
    assert tuple(verdict.rows.columns) == NORMALIZED_COLUMNS
    assert verdict.rows["note"].str.contains("drop_sha256=" + "f" * 64).all()
    late = derive_air_quality.fn(drop, REGISTRY, as_of=dt.date(2021, 2, 28))
    assert late.outcome == Outcome.QUARANTINE and late.rows.empty
    assert {i.code for i in late.critical} == {"future_time"}


def test_folder_of_files_utf8_and_gbk_with_chinese_headers(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    _hours(["A1"], days=1).to_csv(drop / "a.csv", index=False)
    chinese = _hours(["A2"], days=1).rename(columns={
        "station": "站点编码", "time": "监测时间", "PM2.5": "细颗粒物", "PM10": "可吸入颗粒物", "SO2": "二氧化硫",
        "NO2": "二氧化氮", "CO(mg/m3)": "一氧化碳（毫克/立方米）", "O3": "臭氧"})
    chinese.loc[5, "二氧化氮"] = -1.0
    chinese.to_csv(drop / "b.csv", index=False, encoding="gb18030")
    (drop / "~$b.csv").write_text("lock file", encoding="utf-8")
    feed = read_feed(drop)
    assert [s.name for s in feed.segments] == ["a.csv", "b.csv"]
    assert list(feed.frame["station"].cat.categories) == ["A1", "A2"] and len(feed.frame) == 48
    _, issues = check_feed(feed, REGISTRY)
    negative = next(i for i in issues if i.code == "negative_value")
    assert (negative.sheet, negative.row, negative.column) == ("b.csv", 7, "no2")


def test_a_blank_station_is_refused(tmp_path: Path) -> None:
    data = _hours(["A1"], days=1)
    data.loc[3, "station"] = " "
    data.to_csv(tmp_path / "f.csv", index=False)
    with pytest.raises(FeedError) as exc:
        read_feed(tmp_path / "f.csv")
    assert [(i.code, i.row) for i in exc.value.issues] == [("missing_station", 5)]


def test_a_corrupt_parquet_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really parquet")
    with pytest.raises(FeedError) as exc:
        read_feed(tmp_path / "broken.parquet")
    assert [i.code for i in exc.value.issues] == ["unreadable"]


def test_hourly_times_off_the_hour_are_refused(tmp_path: Path) -> None:
    data = _hours(["A1"], days=1)
    data.loc[2, "time"] = pd.Timestamp("2021-03-01 02:30")
    data.to_parquet(tmp_path / "f.parquet")
    result = run_derivation(tmp_path / "f.parquet", REGISTRY)
    off = next(i for i in result.issues if i.code == "time_off_grid")
    assert off.severity == Severity.CRITICAL and off.row == 3 and "02:30" in (off.value or "")
    assert result.outcome == Outcome.QUARANTINE


def test_arrow_backed_feed_gives_the_same_days_in_any_row_order(tmp_path: Path) -> None:
    data = _hours(["A1", "A2", "B1"], days=3)
    rng = np.random.default_rng(3)
    for column in ("PM2.5", "PM10", "O3"):
        data[column] = rng.gamma(2.0, 30.0, len(data)).round().astype("float32")
        data.loc[rng.random(len(data)) < 0.2, column] = np.nan
    data.to_parquet(tmp_path / "ordered.parquet", row_group_size=50)  # several Arrow chunks
    data.sample(frac=1, random_state=2).to_parquet(tmp_path / "shuffled.parquet", row_group_size=50)
    ordered, shuffled = (run_derivation(tmp_path / f"{n}.parquet", REGISTRY) for n in ("ordered", "shuffled"))
    assert ordered.feed is not None and ordered.feed.grid().complete is False  # B1 rows before valid_from go
    assert read_feed(tmp_path / "ordered.parquet").grid().complete
    assert not read_feed(tmp_path / "shuffled.parquet").grid().complete
    pd.testing.assert_frame_equal(ordered.area_days, shuffled.area_days)
    # Station-days come in the order stations first appear in the feed: compare them by station and date.
    def by_station(days: pd.DataFrame) -> pd.DataFrame:
        days = days.assign(station=days["station"].astype(str))
        return days.sort_values(["station", "date"], ignore_index=True)

    pd.testing.assert_frame_equal(by_station(ordered.station_days), by_station(shuffled.station_days))


def test_bounds_check_ignores_what_null_slots_hold() -> None:
    from tasks.aq.frame import within

    # Slot 1 is null but its buffer holds -5 (writers leave anything there): only known values count.
    values = np.array([3.0, -5.0, 7.0], dtype=np.float32)
    validity = pa.py_buffer(np.packbits(np.array([1, 0, 1], dtype=np.uint8), bitorder="little").tobytes())
    column = pd.Series(pd.arrays.ArrowExtensionArray(
        pa.Array.from_buffers(pa.float32(), 3, [validity, pa.py_buffer(values.tobytes())], null_count=1)))
    assert within(column, 0, 10)
    assert not within(column, 0, 5)
    assert not within(pd.Series(pd.arrays.ArrowExtensionArray(pa.array([1.0, -1.0, None]))), 0, 10)
    assert within(pd.Series(pd.arrays.ArrowExtensionArray(pa.array([None, None], type=pa.float64()))), 0, 10)
    assert within(pd.Series([np.nan, 2.0]), 0, 10) and not within(pd.Series([np.nan, 12.0]), 0, 10)
