"""Every drop fixture in tests/cases: its outcome, its issue codes and, for good files, its exact rows."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from expectations.loader import load_catalog
from expectations.models import Catalog
from tasks.contracts import NORMALIZED_COLUMNS, Issue, Outcome, Severity, outcome_for
from tasks.normalize import normalize, read_drop
from tasks.read import RawSheet, ReadLimits

CASES_DIR = Path(__file__).parent / "cases"
AS_OF = dt.date(2021, 12, 20)

# file → (critical codes expected, info codes that must be among the notes)
CASES: dict[str, tuple[set[str], set[str]]] = {
    "good_utf8.csv": (set(), {"read_csv"}),
    "good_hrss_march.csv": (set(), {"read_csv"}),
    "good_gbk_title_total.csv": (set(), {"title_rows", "total_row", "notes_row", "assumed_year"}),
    "good_utf16.csv": (set(), {"read_csv"}),
    "good_bom_semicolon.csv": (set(), {"read_csv"}),
    "good_milestone.csv": (set(), set()),
    "good_merged_header.xlsx": (set(), {"merged_cells", "title_rows"}),
    "good_percent_cells.xlsx": (set(), set()),
    "good_serial_dates.xlsx": (set(), set()),
    "good_hidden_sheet.xlsx": (set(), {"hidden_sheet", "no_header"}),
    "good_cached_formulas.xlsx": (set(), {"cached_formulas", "ignored_cells", "extra_column"}),
    "good.parquet": (set(), set()),
    "good_typed.parquet": (set(), set()),
    "good_legacy.xls": (set(), {"merged_cells", "hidden_sheet", "title_rows"}),
    "bad_div0.xlsx": ({"error_cell"}, set()),
    "bad_uncached_formula.xlsx": ({"uncached_formula"}, set()),
    "bad_xml_bomb.xlsx": ({"hostile_xml"}, set()),
    "bad_xxe.xlsx": ({"hostile_xml"}, set()),
    "bad_zip_bomb.xlsx": ({"too_large"}, set()),
    "bad_ambiguous_period.csv": ({"ambiguous_period"}, set()),
    "bad_unit_conflict.csv": ({"unit_conflict"}, set()),
    "bad_wrong_unit.csv": ({"wrong_unit"}, set()),
    "bad_missing_value.csv": ({"missing_value"}, set()),
    "bad_unknown_county.csv": ({"unknown_county"}, set()),
    "bad_unknown_target.csv": ({"unknown_target"}, set()),
    "bad_bad_value.csv": ({"bad_value"}, set()),
    "bad_bad_period.csv": ({"bad_period"}, set()),
    "bad_missing_column.csv": ({"missing_column"}, set()),
    "bad_basis_conflict.csv": ({"basis_conflict"}, set()),
    "bad_too_wide.csv": ({"too_many_columns"}, set()),
    "bad_encoding.csv": ({"bad_encoding"}, set()),
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _case_files() -> list[str]:
    return sorted(p.name for p in CASES_DIR.iterdir()
                  if p.is_file() and p.name.startswith(("good", "bad_")) and not p.name.endswith(".expected.csv"))


def test_every_case_file_has_an_expectation() -> None:
    assert _case_files() == sorted(CASES)


def _rows(frame: object) -> list[list[str]]:
    out = []
    for record in frame.itertuples(index=False):  # type: ignore[attr-defined]
        row = []
        for name, value in zip(NORMALIZED_COLUMNS, record, strict=True):
            if name == "value":
                assert isinstance(value, Decimal), f"value {value!r} is not a Decimal"
                row.append(format(value, "f"))
            else:
                row.append("" if value is None else str(value))
        out.append(row)
    return out


@pytest.mark.parametrize("name", sorted(CASES), ids=lambda n: n)
def test_case(name: str, catalog: Catalog) -> None:
    frame, issues = read_drop(CASES_DIR / name, catalog, ReadLimits(), AS_OF)
    critical_codes, info_codes = CASES[name]
    found = {i.code for i in issues if i.severity == Severity.CRITICAL}
    assert found == critical_codes, [i.message_en for i in issues if i.severity == Severity.CRITICAL]
    assert info_codes <= {i.code for i in issues if i.severity == Severity.INFO}
    assert list(frame.columns) == list(NORMALIZED_COLUMNS)
    for issue in issues:
        assert issue.message_zh and issue.message_en
    if name.startswith("bad_"):
        assert outcome_for(issues) == Outcome.QUARANTINE
        return
    assert outcome_for(issues) != Outcome.QUARANTINE
    golden = CASES_DIR / (name.split(".")[0] + ".expected.csv")
    with golden.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        assert next(reader) == list(NORMALIZED_COLUMNS)
        assert _rows(frame) == list(reader)


def _sheet(rows: list[list[str | None]], name: str = "") -> RawSheet:
    return RawSheet(name=name, rows=rows, row_numbers=list(range(1, len(rows) + 1)))


def _run(catalog: Catalog, rows: list[list[str | None]], *, name: str = "", source: str = "drop.csv",
         as_of: dt.date | None = AS_OF) -> tuple[list[list[str]], list[Issue]]:
    frame, issues = normalize([_sheet(rows, name)], catalog, source_name=source, as_of=as_of)
    return _rows(frame), issues


def _critical(issues: list[Issue]) -> list[str]:
    return [i.code for i in issues if i.severity == Severity.CRITICAL]


@pytest.mark.parametrize(("as_of", "period"), [(dt.date(2022, 1, 10), "2021-12"), (dt.date(2021, 12, 31), "2021-12"),
                                               (None, "2021-12")], ids=["next-january", "same-year", "plan-year"])
def test_bare_month_year_comes_from_as_of(catalog: Catalog, as_of: dt.date | None, period: str) -> None:
    rows, issues = _run(catalog, [["指标名称", "县市", "月份", "完成值"], ["城镇新增就业", "楚雄市", "12月", "100"]],
                        as_of=as_of)
    assert rows[0][2] == period
    assumed = [i for i in issues if i.code == "assumed_year"]
    assert len(assumed) == 1 and "12月" in assumed[0].message_zh


def test_two_value_columns_pick_by_basis(catalog: Catalog) -> None:
    rows, issues = _run(catalog, [
        ["指标名称", "县市", "月份", "本月完成", "累计完成", "口径"],
        ["城镇新增就业", "楚雄市", "2021-03", "100", "900", None],
        ["城镇新增就业", "双柏县", "2021-03", "50", "400", "当月"],
        ["城镇登记失业率", "全州", "2021-03", "3.1", "3.3", None],
    ])
    assert _critical(issues) == []
    assert [(r[1], r[3], r[5]) for r in rows] == [("532301", "900", "ytd"), ("532322", "50", "month"),
                                                  ("532300", "3.1", "month")]


def test_unit_word_column_is_read_as_unit_when_it_holds_units(catalog: Catalog) -> None:
    rows, issues = _run(catalog, [["指标名称", "县市", "月份", "完成值", "单位"],
                                  ["城镇新增就业", "楚雄市", "2021-03", "1.2", "万人"]])
    assert _critical(issues) == [] and rows[0][3] == "12000"


def test_id_and_name_columns_must_agree(catalog: Catalog) -> None:
    rows, issues = _run(catalog, [["指标编码", "指标名称", "县市", "月份", "完成值"],
                                  ["employment.new_urban_jobs", "城镇新增就业", "楚雄市", "2021-03", "1"],
                                  ["employment.new_urban_jobs", "孕产妇死亡率", "楚雄市", "2021-03", "1"]])
    assert _critical(issues) == ["target_conflict"]
    assert len(rows) == 1


def test_repeated_header_and_no_period_column(catalog: Catalog) -> None:
    rows, issues = _run(catalog, [["指标名称", "县市", "完成值"], ["城镇新增就业", "楚雄市", "5"],
                                  ["指标名称", "县市", "完成值"], ["城镇新增就业", "双柏县", "6"]],
                        name="2021年5月")
    assert _critical(issues) == []
    assert [(r[1], r[2], r[8], r[9]) for r in rows] == [("532301", "2021-05", "2021年5月", "2"),
                                                        ("532322", "2021-05", "2021年5月", "4")]
    assert {"repeated_header", "default_period"} <= {i.code for i in issues}


def test_no_county_column_means_the_prefecture(catalog: Catalog) -> None:
    rows, issues = _run(catalog, [["指标", "月份", "完成值"], ["城镇登记失业率", "2021-03", "3.2%"]])
    assert rows[0][1] == catalog.prefecture_code
    assert "default_county" in {i.code for i in issues}


def test_missing_period_everywhere_is_a_missing_column(catalog: Catalog) -> None:
    _, issues = _run(catalog, [["指标名称", "县市", "完成值"], ["城镇新增就业", "楚雄市", "5"]], source="jobs.csv")
    assert _critical(issues) == ["missing_column"]
    assert "月份" in issues[-1].message_zh or any("月份" in i.message_zh for i in issues)


def test_row_issues_are_capped_with_a_summary(catalog: Catalog) -> None:
    body: list[list[str | None]] = [["城镇新增就业", "火星", "2021-03", "1"] for _ in range(250)]
    rows, issues = _run(catalog, [["指标名称", "县市", "月份", "完成值"], *body])
    unknown = [i for i in issues if i.code == "unknown_county"]
    assert rows == [] and len(unknown) == 101
    assert "150" in unknown[-1].message_en and unknown[-1].row is None


def test_header_only_file_warns(catalog: Catalog) -> None:
    rows, issues = _run(catalog, [["指标名称", "县市", "月份", "完成值"]])
    assert rows == [] and [i.code for i in issues if i.severity == Severity.WARNING] == ["no_rows"]


def test_issue_points_at_the_cell(catalog: Catalog) -> None:
    sheet: list[list[str | None]] = [["标题"], ["指标名称", "县市", "月份", "完成值"],
                                     ["城镇新增就业", "楚雄市", "2021.1", "5"]]
    _, issues = _run(catalog, sheet, name="进度")
    issue = next(i for i in issues if i.code == "ambiguous_period")
    assert (issue.sheet, issue.row, issue.column, issue.value) == ("进度", 3, "月份", "2021.1")
    assert issue.message_zh == ("工作表「进度」第3行「月份」列的值“2021.1”有歧义（1月还是10月？），"
                                "请写成2021-01或2021-10。")
    assert issue.message_en == "Sheet 进度, row 3, column 月份: '2021.1' is ambiguous (January or October?); write " \
                               "2021-01 or 2021-10."


@pytest.mark.parametrize(("headers", "unit_cell", "value"), [
    (["指标", "县（市、区）", "统计期", "完成值（万人）"], None, "15000"),
    (["Indicator", " County ", "PERIOD", "Value"], "万人", "15000"),
    (["项目", "地区", "报告期", "累计完成（万人）"], None, "15000"),
], ids=["brackets", "english-spacing-case", "unit-in-value-header"])
def test_header_aliases(catalog: Catalog, headers: list[str | None], unit_cell: str | None, value: str) -> None:
    row: list[str | None] = ["城镇新增就业", "楚雄市", "2021-03", "1.5"]
    if unit_cell:
        headers, row = [*headers, "计量单位"], [*row, unit_cell]
    rows, issues = _run(catalog, [headers, row])
    assert _critical(issues) == []
    assert rows[0][3] == value
