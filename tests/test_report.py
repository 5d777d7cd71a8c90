"""The supervision report renders pure HTML from a ReportData: problems shown, departments cut, text escaped."""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from expectations.models import Catalog
from tasks.report import ReportData, render_report, sample_report_data
from tasks.report.charts import Trajectory, nice_ceiling, trajectory_svg
from tasks.report.data import STATUS_COLUMNS
from tasks.report.evidence import link, open_alerts
from tasks.report.fmt import number, points, quantity
from tasks.report.sample_catalog import demo_catalog
from tasks.report.scorecard import counts_by_department, schedule_classes, scorecard, with_classes

AS_OF = dt.date(2021, 7, 10)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return demo_catalog()


@pytest.fixture(scope="module")
def data(catalog: Catalog) -> ReportData:
    return sample_report_data(catalog, AS_OF)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, data: ReportData, catalog: Catalog) -> Path:
    return render_report(data, catalog, tmp_path_factory.mktemp("report"))


def _text(html: str) -> str:
    """Visible text of a page, tags removed (enough to assert what a reader sees)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_report_shows_the_month_s_problems(rendered: Path) -> None:
    html = rendered.read_text(encoding="utf-8")
    text = _text(html)
    red_row = re.search(r'<tr id="t-housing\.old_community_renovation" class="target red">(.*?)</tr>', html, re.S)
    assert red_row is not None and "欠序时" in red_row.group(1) and "−33.3" in red_row.group(1)
    assert "改造城镇老旧小区，低于序时进度33.3个百分点" in text  # the open progress alert
    assert "上月进度滞后，本月已恢复" not in text  # resolved before the report date
    assert "2021-06月报（初稿）.xlsx" in text and "已隔离" in text
    assert 'href="../../quarantine/' in html and 'href="../../raw/health/_receipts/' in html
    assert "县市“东华县”不在楚雄州县市名录中" in text  # the quarantined file's first finding
    assert re.search(r'<tr class="lag"><td>州卫生健康委</td><td>2021-06</td>', html)
    assert "婴儿死亡率" in text and "无数据" in text  # the unreported target stays visible, grey
    assert "94.2% 最差 南华县" in text  # a per-county target is headlined by its worst county
    assert re.search(r't-education\.preschool_coverage".*?>已完成<', html, re.S)  # milestone 1 reads 已完成
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart trajectory"') == 5
    assert 'class="chart heatmap"' in html and 'class="chart burndown"' in html


def test_report_counts_schedule_classes_per_department(rendered: Path) -> None:
    html = rendered.read_text(encoding="utf-8")
    row = re.search(r'<a href="departments/hrss.html">州人力资源和社会保障局</a></td>(.*?)</tr>', html, re.S)
    assert row is not None
    cells = re.findall(r">(\d+)</td>", row.group(1))
    assert cells == ["1", "2", "1", "0", "4"]  # 超序时, 达序时, 欠序时, 无数据, 合计


def test_department_pages_hold_only_their_targets(rendered: Path, catalog: Catalog) -> None:
    pages = sorted(p.stem for p in (rendered.parent / "departments").glob("*.html"))
    assert pages == sorted(catalog.lead_department_slugs)
    housing = (rendered.parent / "departments" / "housing.html").read_text(encoding="utf-8")
    ids = set(re.findall(r'<tr id="t-([a-z_.]+)"', housing))
    assert ids == {t.id for t in catalog.lead_targets("housing")}
    assert "改造城镇老旧小区，低于序时进度" in housing  # its alert
    assert "城镇失业人员再就业本月增量" not in housing  # another department's alert
    assert "2021-06进度表.xlsx" in housing and "2021-06月报（初稿）.xlsx" not in housing
    assert 'href="../checks.html#drop-' in housing and 'href="../index.html"' in housing


def test_checks_page_lists_every_drop_with_its_checks(rendered: Path, data: ReportData) -> None:
    html = (rendered.parent / "checks.html").read_text(encoding="utf-8")
    for sha in data.ledger["sha256"]:
        assert f'id="drop-{sha[:16]}"' in html
    assert html.count('<tr class="check">') == len(data.checks)
    assert "unknown_county" in html and "value 约5 is not a number" in html


def test_department_report_alone(tmp_path: Path, data: ReportData, catalog: Catalog) -> None:
    index = render_report(data, catalog, tmp_path, department="health")
    html = index.read_text(encoding="utf-8")
    assert set(re.findall(r'<tr id="t-([a-z_.]+)"', html)) == {t.id for t in catalog.lead_targets("health")}
    assert "州卫生健康委" in html and not (tmp_path / "departments").exists()
    with pytest.raises(ValueError, match="unknown department"):
        render_report(data, catalog, tmp_path / "x", department="nobody")


def test_all_text_is_escaped_and_links_stay_relative(tmp_path: Path, data: ReportData, catalog: Catalog) -> None:
    hostile = "<script>alert(1)</script>"
    alerts = data.alerts.copy()
    alerts.loc[0, "message_zh"] = hostile
    ledger = data.ledger.copy()
    ledger.loc[2, "relative_name"] = "<img src=x onerror=alert(2)>.xlsx"
    ledger.loc[2, "receipt_path"] = "javascript:alert(3)"
    ledger.loc[2, "quarantine_path"] = "/etc/passwd"
    checks = data.checks.copy()
    checks.loc[3, "value"] = '"><svg onload=alert(4)>'
    bad = ReportData(as_of=AS_OF, status=data.status, history=data.history, alerts=alerts, ledger=ledger,
                     checks=checks, lag=data.lag, air_budget=data.air_budget)
    index = render_report(bad, catalog, tmp_path)
    for page in (index, tmp_path / "checks.html"):
        html = page.read_text(encoding="utf-8")
        assert "<script>alert" not in html and "<img src=x" not in html and "<svg onload" not in html
        assert "javascript:" not in html and 'href="/etc/passwd"' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index.read_text(encoding="utf-8")


@pytest.mark.parametrize(("path", "expected"), [
    ("../../raw/hrss/_receipts/6月 报表.xlsx.md", "../../raw/hrss/_receipts/6%E6%9C%88%20%E6%8A%A5%E8%A1%A8.xlsx.md"),
    ("javascript:alert(1)", None),
    ("https://example.com/x", None),
    ("/etc/passwd", None),
    ("C:\\quarantine\\x.xlsx", None),
    (None, None),
], ids=["relative-cjk", "javascript", "absolute-url", "absolute-path", "windows-drive", "missing"])
def test_links(path: str | None, expected: str | None) -> None:
    assert link(path) == expected


@pytest.mark.parametrize(("gap", "light", "expected"), [
    (15.0, "green", "ahead"), (10.0, "green", "ahead"), (0.0, "green", "on"), (-10.0, "green", "on"),
    (-10.5, "yellow", "behind"), (-40.0, "red", "behind"), (None, "green", "on"), (None, "yellow", "behind"),
    (None, "red", "behind"), (None, "grey", "nodata"), (None, None, "nodata"),
], ids=["ahead", "ahead-at-band", "on", "on-at-minus-band", "behind", "far-behind", "level-green",
        "level-yellow", "level-red", "grey", "no-light"])
def test_schedule_classes(gap: float | None, light: str | None, expected: str) -> None:
    frame = pd.DataFrame({"gap_points": [Decimal(str(gap)) if gap is not None else None], "light": [light]})
    assert schedule_classes(frame, 10.0).tolist() == [expected]


def test_headline_is_prefecture_row_else_worst_county(catalog: Catalog) -> None:
    rows: list[dict[str, object]] = [
        {"target_id": "income.urban_reemployment", "county_code": "532300", "light": "green", "gap_points": 1},
        {"target_id": "income.urban_reemployment", "county_code": "532301", "light": "red", "gap_points": -40},
        {"target_id": "ecology.good_air_days_ratio", "county_code": "532301", "light": "green", "gap_points": None},
        {"target_id": "ecology.good_air_days_ratio", "county_code": "532324", "light": "red", "gap_points": None},
    ]
    blank: dict[str, object] = dict.fromkeys(STATUS_COLUMNS)
    status = pd.DataFrame([blank | r for r in rows])
    card = scorecard(with_classes(status, 10.0), catalog, list(catalog.targets)).set_index("target_id")
    assert card.loc["income.urban_reemployment", "light"] == "green"
    assert card.loc["ecology.good_air_days_ratio", "county_code"] == "532324"
    assert card.loc["health.infant_mortality", "schedule"] == "nodata"
    counts = counts_by_department(card.reset_index(), catalog, list(catalog.targets))
    assert counts.loc["ecology_env", "behind"] == 1 and counts.loc["hrss", "nodata"] == 3


def test_open_alerts_are_those_open_at_the_end_of_the_day() -> None:
    alerts = pd.DataFrame({
        "id": [1, 2, 3, 4], "severity": ["warning", "critical", "warning", "info"],
        "opened_at": pd.to_datetime(["2021-07-01", "2021-07-09", "2021-07-11", "2021-06-01"]),
        "resolved_at": pd.to_datetime([None, None, None, "2021-07-11 08:00"]),
    })
    assert open_alerts(alerts, AS_OF)["id"].tolist() == [2, 1, 4]  # most severe first; #3 opened later
    resolved_that_day = alerts.assign(resolved_at=pd.to_datetime([None, None, None, "2021-07-10 23:00"]))
    assert open_alerts(resolved_that_day, AS_OF)["id"].tolist() == [2, 1]
    # Warehouse times are UTC: 2021-07-10 18:00 UTC is 02:00 on the 11th in Chuxiong, so still open on the 10th.
    utc = alerts.assign(resolved_at=pd.to_datetime([None, None, None, "2021-07-10 18:00"]).tz_localize("UTC"))
    assert open_alerts(utc, AS_OF)["id"].tolist() == [2, 1, 4]


@pytest.mark.parametrize(("target_id", "value", "expected"), [
    ("income.urban_reemployment", Decimal("13900"), "1.39万人"),
    ("income.urban_reemployment", 9309.0, "0.9309万人"),
    ("employment.urban_unemployment_rate", Decimal("5.06"), "5.06%"),
    ("health.infant_mortality", Decimal("4.5"), "4.5‰"),
    ("housing.old_community_renovation", None, "—"),
    ("housing.old_community_renovation", math.nan, "—"),
], ids=["wan-ren", "float-input", "percent", "permille", "none-is-dash", "nan-is-dash"])
def test_quantities_are_written_in_the_plan_s_unit(catalog: Catalog, target_id: str, value: object,
                                                   expected: str) -> None:
    assert quantity(value, catalog.target(target_id), catalog) == expected


def test_number_formatting() -> None:
    assert number(Decimal("1234567.891")) == "1,234,567.89"
    assert number(Decimal("0")) == "0" and number(None) == "—"
    assert points(Decimal("-33.25")) == "−33.2" and points(Decimal("12")) == "+12" and points(0) == "0"


def test_trajectory_svg_draws_actual_expected_target_and_projection() -> None:
    svg = str(trajectory_svg(Trajectory(title="A<b>", unit="万人", points=[(1, 0.1), (2, 0.3)], target=1.39,
                                        light="red", expected_now=(2, 0.23), projection=(1.8, 1.6, 2.0))))
    assert 'class="actual"' in svg and 'class="expected"' in svg and 'class="target"' in svg
    assert 'class="projection"' in svg and "A&lt;b&gt;" in svg and "<b>" not in svg
    assert nice_ceiling(1.8 * 1.05) == 2.0 and nice_ceiling(0.0) == 1.0 and nice_ceiling(260) == 500


def test_a_quiet_month_says_so(tmp_path: Path, data: ReportData, catalog: Catalog) -> None:
    quiet = ReportData(as_of=AS_OF, status=data.status[data.status["light"] == "green"])
    html = render_report(quiet, catalog, tmp_path).read_text(encoding="utf-8")
    assert "无未结预警" in html and "无隔离文件或数据问题" in html and "无逾期" in html
    assert 'class="target red"' not in html


def test_report_data_names_missing_columns() -> None:
    with pytest.raises(ValueError, match=r"ReportData.status lacks columns \['light'"):
        ReportData(as_of=AS_OF, status=pd.DataFrame({c: [] for c in STATUS_COLUMNS if c != "light"}))


def test_sample_is_deterministic(catalog: Catalog) -> None:
    first, second = sample_report_data(catalog, AS_OF), sample_report_data(catalog, AS_OF)
    pd.testing.assert_frame_equal(first.status, second.status)
    pd.testing.assert_frame_equal(first.ledger, second.ledger)
    assert set(first.status["light"]) == {"green", "yellow", "red"}


def test_report_command_with_sample_data(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    import minsheng.commands.report  # noqa: F401  (registers `report` and `template`)
    from minsheng.cli import app

    result = CliRunner().invoke(app, ["report", "--as-of", "2021-07-10", "--out", str(tmp_path), "--sample",
                                      "--department", "hrss"])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "州人力资源和社会保障局" in html and (tmp_path / "checks.html").is_file()
    bad = CliRunner().invoke(app, ["report", "--as-of", "2021-7-10", "--out", str(tmp_path), "--sample"])
    assert bad.exit_code != 0 and "2021-07-10" in bad.output
