"""A station air-quality feed dropped like any file: derived, validated, loaded, evaluated and alerted on.

The feed is the real Beijing example (UCI Beijing Multi-Site Air Quality, CC BY 4.0) moved into the catalog's plan
year: its 2016-03-01 … 2016-12-31 readings shifted by exactly five calendar years to 2021-03-01 … 2021-12-31. The
span holds no 29 February and 2016-03-01 → 2021-03-01 is a constant 1,826 days, so the shift is one fixed timedelta
that keeps every hour's readings on the same wall-clock hour of the same calendar day: nothing is dropped, merged or
interpolated, and the days, months and their statistics are Beijing's 2016 ones under 2021 dates. The twelve
stations are registered in 楚雄市 (532301) in a test copy of the catalog directory.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from expectations.loader import DEFAULT_CATALOG_DIR, load_catalog
from flows.evaluate import evaluate
from flows.ingest import ingest
from minsheng.cli import _register, app
from tasks.aq import GOOD_DAYS_TARGET, PM25_TARGET, load_registry, run_derivation
from tasks.contracts import Outcome, Severity
from tasks.pipeline.feeds import is_station_feed, read_header
from tasks.pipeline.ingest import judge_file
from tasks.read import ReadLimits

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "beijing"
AS_OF = dt.date(2022, 1, 10)
SHIFT = dt.datetime(2021, 3, 1) - dt.datetime(2016, 3, 1)  # 1,826 days: 2016-03 … 2016-12 hold no 29 February
COUNTY, PREFECTURE = "532301", "532300"
PERIODS = [f"2021-{m:02d}" for m in range(3, 13)]
ONE_PLACE = Decimal("0.1")


@pytest.fixture(scope="module")
def feed_2021(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Beijing readings of 2016-03-01 … 2016-12-31, shifted to 2021-03-01 … 2021-12-31 (same schema)."""
    table = pq.read_table(EXAMPLE / "beijing_aq.parquet")
    kind = table.schema.field("time").type
    start, end = pa.scalar(dt.datetime(2016, 3, 1), kind), pa.scalar(dt.datetime(2017, 1, 1), kind)
    kept = table.filter(pc.and_(pc.greater_equal(table["time"], start), pc.less(table["time"], end)))
    shifted = pc.add(kept["time"], pa.scalar(SHIFT, pa.duration(kind.unit)))
    feed = kept.set_column(kept.schema.get_field_index("time"), "time", shifted)
    assert pc.min_max(feed["time"]).as_py() == {"min": dt.datetime(2021, 3, 1), "max": dt.datetime(2021, 12, 31, 23)}
    assert feed.num_rows == 12 * 24 * (dt.date(2017, 1, 1) - dt.date(2016, 3, 1)).days  # every station-hour
    path = tmp_path_factory.mktemp("feed") / "beijing_2021.parquet"
    pq.write_table(feed, path)
    return path


@pytest.fixture
def catalog_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped catalog whose stations.yaml registers the twelve Beijing stations in 楚雄市."""
    directory = tmp_path / "catalog"
    shutil.copytree(DEFAULT_CATALOG_DIR, directory)
    example = yaml.safe_load((EXAMPLE / "stations.yaml").read_text(encoding="utf-8"))
    stations = [{"id": s["id"], "name": s["name"], "county_code": COUNTY} for s in example["stations"]]
    registry = {"prefecture_code": PREFECTURE, "stations": stations}
    (directory / "stations.yaml").write_text(yaml.safe_dump(registry, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("MINSHENG_CATALOG_DIR", str(directory))
    return directory


@pytest.mark.parametrize(("headers", "expected"), [
    pytest.param(["station", "time", "PM2.5", "PM10", "SO2", "NO2", "CO(ug/m3)", "O3"], True, id="beijing"),
    pytest.param(["站点编码", "监测时间", "细颗粒物", "二氧化硫", "一氧化碳（毫克/立方米）"], True,
                 id="chinese-3-pollutants"),
    pytest.param(["site", "date", "pm25", "pm10"], False, id="two-pollutants"),
    pytest.param(["time", "PM2.5", "PM10", "SO2", "NO2"], False, id="no-station"),
    pytest.param(["指标", "县市", "月份", "数值", "单位"], False, id="hand-reported-table"),
])
def test_a_feed_is_recognised_by_its_header(headers: list[str], expected: bool) -> None:
    assert is_station_feed(headers) is expected


def test_only_the_header_is_read(tmp_path: Path, feed_2021: Path) -> None:
    gbk = tmp_path / "feed.csv"
    gbk.write_bytes("站点,时间,PM2.5,PM10,SO2\n".encode("gb18030") + b"\xff" * 10)  # the body is never decoded
    assert read_header(gbk) == ["站点", "时间", "PM2.5", "PM10", "SO2"]
    assert read_header(feed_2021) == ["station", "time", "PM2.5", "PM10", "SO2", "NO2", "CO(ug/m3)", "O3"]
    assert read_header(tmp_path / "missing.parquet") is None
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    assert read_header(tmp_path / "broken.parquet") is None


def test_a_feed_from_a_department_without_the_air_targets_is_refused(catalog_dir: Path, feed_2021: Path) -> None:
    verdict = judge_file(feed_2021, "finance", load_catalog(catalog_dir), ReadLimits(), AS_OF, catalog_dir)
    assert verdict.outcome == Outcome.QUARANTINE and not len(verdict.rows)
    assert [i.code for i in verdict.critical] == ["not_owner"]
    assert "州生态环境局" in verdict.critical[0].message_zh


def test_the_shipped_empty_registry_quarantines_every_station(feed_2021: Path) -> None:
    verdict = judge_file(feed_2021, "ecology_env", load_catalog(), ReadLimits(), AS_OF, DEFAULT_CATALOG_DIR)
    assert verdict.outcome == Outcome.QUARANTINE and not len(verdict.rows)
    assert {i.code for i in verdict.critical} == {"unknown_station"} and len(verdict.critical) == 12


def _ytd_expected(feed: Path, registry_path: Path) -> dict[tuple[str, str, str], Decimal]:
    """(target, area, period) → year-to-date value, recomputed from `minsheng aq derive`'s figures.

    Good-days ratio: the monthly good and valid days of `summary()` summed from March, 100·good/valid rounded
    half-even to one decimal. PM2.5: the mean of the area's valid daily values (integers) since March.
    """
    result = run_derivation(feed, load_registry(registry_path))
    assert result.issues == []
    monthly = result.summary().dropna(subset=["month"])
    days = result.area_days
    expected = {}
    for row in monthly.itertuples(index=False):
        period = f"{row.year}-{int(row.month):02d}"
        upto = monthly[(monthly["area"] == row.area) & (monthly["month"] <= row.month)]
        good, valid = int(upto["good_days"].sum()), int(upto["valid_days"].sum())
        expected[(GOOD_DAYS_TARGET, row.area, period)] = (Decimal(100 * good) / valid).quantize(ONE_PLACE,
                                                                                              ROUND_HALF_EVEN)
        pm25 = days.loc[(days["area"] == row.area) & (days["date"].dt.month <= row.month), "pm25"].dropna()
        expected[(PM25_TARGET, row.area, period)] = (Decimal(int(pm25.sum())) / len(pm25)).quantize(
            ONE_PLACE, ROUND_HALF_EVEN)
    yearly = result.summary().query("month.isna()").set_index("area")
    for area in (COUNTY, PREFECTURE):  # December's year to date is `aq derive`'s whole-year row
        assert expected[(GOOD_DAYS_TARGET, area, "2021-12")] == yearly.loc[area, "good_ratio_pct"]
        assert expected[(PM25_TARGET, area, "2021-12")] == yearly.loc[area, "pm25_mean"]
        march = monthly[(monthly["area"] == area) & (monthly["month"] == 3)].iloc[0]
        assert expected[(GOOD_DAYS_TARGET, area, "2021-03")] == march["good_ratio_pct"]
    return expected


def _warehouse(data_dir: Path, sql: str) -> pd.DataFrame:
    engine = create_engine(f"sqlite:///{data_dir / 'warehouse.sqlite'}")
    with engine.connect() as conn:
        frame = pd.read_sql(text(sql), conn)
    engine.dispose()
    return frame


def test_a_station_feed_goes_through_ingest_evaluation_and_alerts(data_dir: Path, catalog_dir: Path,
                                                                  feed_2021: Path) -> None:
    dropped = data_dir / "raw" / "ecology_env" / "aq" / "beijing_2021.parquet"
    dropped.parent.mkdir(parents=True)
    shutil.copyfile(feed_2021, dropped)
    _register()
    checked = CliRunner().invoke(app, ["check", str(dropped), "--department", "ecology_env", "--as-of",
                                       AS_OF.isoformat(), "--json"])
    assert checked.exit_code == 0, checked.output
    verdict = json.loads(checked.stdout)

    summary = ingest(AS_OF)

    [result] = summary.results
    assert result.relative_name == "aq/beijing_2021.parquet"
    # Beijing's ~55 % good days and ~70 µg/m³ miss 97.2 % and < 35: loaded, with target_missed warnings.
    assert result.outcome == Outcome.LOAD_WITH_WARNINGS and verdict["outcome"] == result.outcome.value
    assert result.rows_loaded == len(verdict["rows"]) == 2 * 2 * len(PERIODS)  # 2 targets × 2 areas × 10 months
    warned = [i for i in verdict["issues"] if i["severity"] == Severity.WARNING]
    assert {i["code"] for i in warned} == {"target_missed", "ytd_from_first_month"}
    assert [i["message_en"] for i in warned if i["code"] == "ytd_from_first_month"] == [
        "2021 year-to-date values count from 2021-03, the first month of that year in this file (it holds no "
        "earlier readings)."]

    rows = _warehouse(data_dir, "SELECT target_id, county_code, period, value_text, basis, note, source_file "
                                "FROM v_observation_current ORDER BY target_id, county_code, period")
    assert set(rows["source_file"]) == {"aq/beijing_2021.parquet"} and set(rows["basis"]) == {"ytd"}
    for target in (GOOD_DAYS_TARGET, PM25_TARGET):
        assert list(rows.loc[(rows["target_id"] == target) & (rows["county_code"] == COUNTY), "period"]) == PERIODS
    held = {(r.target_id, r.county_code, r.period): Decimal(r.value_text) for r in rows.itertuples()}
    assert held == _ytd_expected(dropped, catalog_dir / "stations.yaml")
    for r in rows[rows["target_id"] == GOOD_DAYS_TARGET].itertuples():  # the lineage note's counts give the ratio
        counts = dict(re.findall(r"(\w+)=(\d+)(?:;|$)", r.note))
        ratio = (Decimal(100 * int(counts["good_days"])) / int(counts["valid_days"])).quantize(ONE_PLACE)
        assert ratio == Decimal(r.value_text)
    verdict_values = {(v["target_id"], v["county_code"], v["period"]): Decimal(str(v["value"]))
                      for v in verdict["rows"]}
    assert verdict_values == held

    evaluate(AS_OF)

    progress = _warehouse(data_dir, "SELECT target_id, light, will_meet, period FROM v_target_progress "
                                    f"WHERE county_code = '{COUNTY}' AND target_id IN "
                                    f"('{GOOD_DAYS_TARGET}', '{PM25_TARGET}')").set_index("target_id")
    assert set(progress["light"]) == {"red"} and not progress["will_meet"].astype(bool).any()
    assert set(progress["period"]) == {"2021-12"}
    alerts = _warehouse(data_dir, f"SELECT target_id, county_code FROM v_open_alerts WHERE county_code = '{COUNTY}'")
    assert {GOOD_DAYS_TARGET, PM25_TARGET} <= set(alerts["target_id"])
