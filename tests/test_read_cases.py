"""Every drop fixture in tests/cases: its outcome, its issue codes and, for good files, its exact rows."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from expectations.models import Catalog
from tasks.contracts import NORMALIZED_COLUMNS, Issue, Outcome, Severity, outcome_for
from tasks.normalize import normalize, read_drop
from tasks.read import RawSheet, ReadError, ReadLimits, read_table

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
                row.append("" if pd.isna(value) else str(value))  # a categorical's missing text is NaN
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
    return RawSheet.from_rows(name, rows)


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


def _csv_rows(path: Path) -> list[list[str | None]]:
    sheet = read_table(path, ReadLimits())[0]
    return sheet.rows_at(range(sheet.n_rows))


def test_long_csv_keeps_every_row_and_its_number(tmp_path: Path) -> None:
    """Past the first rows pyarrow parses the file: odd rows (blank, quoted newlines, other widths) stay in place."""
    body = [f"城镇新增就业,楚雄市,2021-03,{i}" for i in range(200)]
    body[80] = ""
    body[90] = '城镇新增就业,"楚雄\n市",2021-03,NA'
    body[100] = "备注：只有一列"
    body[110] = "城镇新增就业,楚雄市,2021-03,7,,,x"
    text = "标题\n指标名称,县市,月份,完成值\n" + "\n".join(body) + "\n"
    path = tmp_path / "long.csv"
    path.write_text(text, encoding="utf-8")
    with path.open(encoding="utf-8", newline="") as fh:
        expected = [[c or None for c in row] for row in csv.reader(fh)]
    for row in expected:
        while row and row[-1] is None:
            row.pop()
    sheet = read_table(path, ReadLimits())[0]
    assert sheet.rows_at(range(sheet.n_rows)) == expected
    assert list(sheet.row_numbers) == list(range(1, len(expected) + 1))


def test_utf8_head_with_gbk_further_on_is_not_read_as_utf8(tmp_path: Path) -> None:
    """The reader trusts the first bytes only until the rest fails to be UTF-8; then it decides as before."""
    lines = ["indicator,county,period,value"] + ["employment.new_urban_jobs,532301,2021-03,1"] * 200
    lines.append("城镇新增就业,楚雄市,2021-03,2")
    path = tmp_path / "mixed.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("gb18030"))
    with pytest.raises(ReadError) as info:  # an ASCII head does not look like GBK to charset-normalizer
        read_table(path, ReadLimits())
    assert {i.code for i in info.value.issues} == {"bad_encoding"}


def test_long_csv_cell_too_long_points_at_the_cell(tmp_path: Path) -> None:
    body = ["城镇新增就业,楚雄市,2021-03,1"] * 150 + ["城镇新增就业,楚雄市,2021-03," + "9" * 40_000]
    path = tmp_path / "long_cell.csv"
    path.write_text("指标名称,县市,月份,完成值\n" + "\n".join(body) + "\n", encoding="utf-8")
    with pytest.raises(ReadError) as info:
        read_table(path, ReadLimits())
    issue = info.value.issues[0]
    assert (issue.code, issue.row, issue.column) == ("cell_too_long", 152, "D")


def test_skipped_rows_name_their_sheet(catalog: Catalog) -> None:
    _, issues = _run(catalog, [["指标名称", "县市", "月份", "完成值"], ["城镇新增就业", "楚雄市", "2021-03", "5"],
                               ["合计", None, None, "5"]], name="进度")
    total = next(i for i in issues if i.code == "total_row")
    assert total.sheet == "进度" and total.message_zh.startswith("工作表「进度」跳过") and total.row == 3


def _sheet_cells(path: Path) -> list[tuple[object, ...]]:
    return [(s.name, s.hidden, s.rows_at(range(s.n_rows)), list(s.row_numbers), sorted(s.flags.items()),
             [(i.code, i.message_en) for i in s.notes]) for s in read_table(path, ReadLimits())]


@pytest.mark.parametrize("name", sorted(n for n in CASES if n.startswith("good") and n.endswith(".xlsx")))
def test_xlsx_reads_the_same_through_calamine_and_openpyxl(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """python-calamine reads the cells; percent formats, errors, merges and formulas come from the pre-scan."""
    fast = _sheet_cells(CASES_DIR / name)
    monkeypatch.setattr("tasks.read.calamine.read_xlsx_calamine", lambda *args: None)
    assert fast == _sheet_cells(CASES_DIR / name)


def test_xlsx_typed_cells_read_the_same_through_calamine_and_openpyxl(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws["C3"], ws["D3"], ws["E3"], ws["F3"], ws["G3"] = "指标名称", "县市", "月份", "完成值", "备注"
    body = [("城镇新增就业", "楚雄市", dt.datetime(2021, 3, 1), 1200, None),
            ("城镇新增就业", "双柏县", dt.date(2021, 3, 15), 0.5, "x"),
            ("城镇登记失业率", "全州", "2021-03", 0.0325, dt.datetime(2021, 3, 1, 12, 30)),
            ("城镇新增就业", "牟定县", 44256, 12345678901234, True),
            ("城镇新增就业", "南华县", "2021-03", 1e-7, "  spaced  ")]
    for i, row in enumerate(body, start=4):
        for j, value in enumerate(row):
            ws.cell(i, 3 + j, value)
    ws["F6"].number_format, ws["F7"].number_format, ws["F4"].number_format = "0.00%", '0.0"%"', "0%"
    ws["H4"] = "=F4*2"
    ws.merge_cells("C10:E10")
    ws["C10"] = "填报人：张三"
    path = tmp_path / "typed.xlsx"
    wb.save(path)
    from tasks.read.calamine import read_xlsx_calamine
    from tasks.read.model import Budget
    from tasks.read.zipscan import prescan_xlsx

    assert read_xlsx_calamine(path, prescan_xlsx(path, Budget(ReadLimits()), 10**6), Budget(ReadLimits()))
    fast = _sheet_cells(path)
    monkeypatch.setattr("tasks.read.calamine.read_xlsx_calamine", lambda *args: None)
    assert fast == _sheet_cells(path)
    assert fast[0][2][5][5] == "3.25%"
