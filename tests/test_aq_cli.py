"""`minsheng aq derive` on the Beijing example and on a feed it must refuse."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import minsheng.commands.aq  # noqa: F401  # registers the `aq` sub-app, as minsheng.cli._register does
from minsheng.cli import app

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "beijing"
FIELDS = {"area", "year", "month", "valid_days", "good_days", "good_ratio_pct", "pm25_mean", "heavy_days"}


def test_derive_json_on_the_beijing_example() -> None:
    result = CliRunner().invoke(app, ["aq", "derive", str(EXAMPLE / "beijing_aq.parquet"),
                                      "--stations", str(EXAMPLE / "stations.yaml"), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert all(set(row) == FIELDS for row in rows)
    years = {row["year"]: row for row in rows if row["month"] is None}
    assert sorted(years) == [2013, 2014, 2015, 2016, 2017]
    y2015 = years[2015]
    assert y2015["area"] == "110000" and y2015["valid_days"] == 363 and y2015["good_days"] == 187
    assert y2015["good_ratio_pct"] == 51.5 and y2015["pm25_mean"] == 79.2 and y2015["heavy_days"] == 47
    months = [row for row in rows if row["year"] == 2015 and row["month"] is not None]
    assert [row["month"] for row in months] == list(range(1, 13))
    assert sum(row["valid_days"] for row in months) == y2015["valid_days"]


def test_derive_table_names_the_area() -> None:
    result = CliRunner().invoke(app, ["aq", "derive", str(EXAMPLE / "beijing_aq.parquet"),
                                      "--stations", str(EXAMPLE / "stations.yaml")])
    assert result.exit_code == 0, result.output
    assert "beijing" in result.stdout and "2016" in result.stdout


def test_derive_refuses_a_feed_without_a_co_unit(tmp_path: Path) -> None:
    (tmp_path / "feed.csv").write_text("station,time,PM2.5,PM10,SO2,NO2,CO,O3\n"
                                       "Dongsi,2021-03-01 00:00,1,1,1,1,0.3,1\n"
                                       "Dongsi,2021-03-01 01:00,1,1,1,1,0.3,1\n", encoding="utf-8")
    (tmp_path / "stations.yaml").write_text("stations:\n  - {id: Dongsi, name: 东四, county_code: '110000'}\n",
                                            encoding="utf-8")
    result = CliRunner().invoke(app, ["aq", "derive", str(tmp_path / "feed.csv"),
                                      "--stations", str(tmp_path / "stations.yaml"), "--json"])
    assert result.exit_code == 1
    assert "co_unit_undeclared" in result.stderr and result.stdout == ""
    ok = CliRunner().invoke(app, ["aq", "derive", str(tmp_path / "feed.csv"), "--stations",
                                  str(tmp_path / "stations.yaml"), "--json", "--co-unit", "mg/m3"])
    assert ok.exit_code == 0, ok.output
    rows = json.loads(ok.stdout)
    assert rows[0]["valid_days"] == 0 and rows[0]["good_ratio_pct"] is None  # two hours are no valid day


def test_derive_reports_a_bad_registry_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "stations.yaml").write_text("stations:\n  - {id: S1, name: a, county_code: '532301', x: 1}\n",
                                            encoding="utf-8")
    result = CliRunner().invoke(app, ["aq", "derive", str(EXAMPLE / "beijing_aq.parquet"),
                                      "--stations", str(tmp_path / "stations.yaml")])
    assert result.exit_code == 2
    assert "stations.yaml:2: field stations.0.x (S1)" in result.stderr
