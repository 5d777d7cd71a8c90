"""Department templates: the structure a department sees, and a filled-in template reads back cleanly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from typer.testing import CliRunner

from expectations.loader import load_catalog
from expectations.models import Catalog, Kind
from tasks.contracts import Severity
from tasks.normalize import read_drop
from tasks.read import ReadLimits
from tasks.report.sample_catalog import demo_catalog
from tasks.template import HEADERS, write_template

AS_OF = dt.date(2021, 7, 10)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return demo_catalog()


@pytest.fixture(scope="module")
def real_catalog() -> Catalog:
    return load_catalog()


def _validations(ws: Worksheet) -> list[tuple[str, str | None, str, str | None]]:
    """(type, formula1, ranges, formula2) of every data validation of a sheet."""
    return [(dv.type, dv.formula1, str(dv.sqref), dv.formula2) for dv in ws.data_validations.dataValidation]


def fill(path: Path, catalog: Catalog) -> dict[tuple[str, str], Decimal]:
    """Fill every value cell as a department would (numbers in the unit shown, 完成 for milestones).

    Returns the canonical value expected per (target_id, county name) after the reader converts units.
    """
    book = openpyxl.load_workbook(path)
    ws = book["填报"]
    expected = {}
    for row in range(2, ws.max_row + 1):
        target = catalog.target(ws.cell(row, 1).value)
        if target.kind == Kind.MILESTONE:
            ws.cell(row, 5).value = "完成"
            expected[(target.id, ws.cell(row, 3).value)] = Decimal(1)
            continue
        written = Decimal("0.52") if target.unit_written.startswith("万") else Decimal(row % 50 + 1)
        ws.cell(row, 5).value = float(written)
        factor = catalog.conversion_factor(target.unit_written, target.unit) or Decimal(1)
        expected[(target.id, ws.cell(row, 3).value)] = written * factor
    ws.cell(2, 8).value = "县市统计局初步数"
    book.save(path)
    return expected


def test_template_structure(tmp_path: Path, catalog: Catalog) -> None:
    path = write_template(catalog, "hrss", tmp_path / "hrss.xlsx", "2021-06")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["填报", "说明"] and book.active.title == "填报"
    ws = book["填报"]
    assert tuple(c.value for c in ws[1]) == HEADERS
    assert ws.freeze_panes == "C2"
    rows = [tuple(c.value for c in r) for r in ws.iter_rows(min_row=2)]
    lead = catalog.lead_targets("hrss")
    county_targets = [t for t in lead if t.scope.value == "counties"]
    assert len(rows) == len(county_targets) * 10 + (len(lead) - len(county_targets))
    assert ("employment.urban_unemployment_rate", "城镇调查失业率", "全州", "2021-06", None, "%", "当月", None) in rows
    reemployment = [r for r in rows if r[0] == "income.urban_reemployment"]
    assert [r[2] for r in reemployment][:3] == ["楚雄市", "双柏县", "牟定县"] and len(reemployment) == 10
    assert all(r[4] is None and r[3] == "2021-06" for r in rows)
    assert {r[6] for r in reemployment} == {"累计"} and {r[5] for r in reemployment} == {"万人"}
    assert ws.cell(2, 4).number_format == "@"
    validations = _validations(ws)
    counties = next(v for v in validations if v[0] == "list" and "楚雄市" in (v[1] or ""))
    assert counties[1] == '"全州,楚雄市,双柏县,牟定县,南华县,姚安县,大姚县,永仁县,元谋县,武定县,禄丰市"'
    assert any(v[0] == "list" and v[1] == '"累计,当月"' for v in validations)
    rate_row = next(i for i, r in enumerate(rows, start=2) if r[0] == "employment.urban_unemployment_rate")
    assert any(v[:2] == ("decimal", "0") and v[3] == "100" and _covers(v[2], rate_row) for v in validations)
    guide = book["说明"]
    assert "_receipts" in guide["A1"].value and "minsheng check" in guide["A1"].value
    assert "data/raw/hrss/" in guide["A1"].value and "禄丰市" in guide["B1"].value
    assert guide.max_row == 1  # one tall row: the reader passes over it with an info note only


def _covers(ranges: str, row: int) -> bool:
    for part in ranges.split():
        first, _, last = part.partition(":")
        if int(first[1:]) <= row <= int((last or first)[1:]):
            return True
    return False


def test_milestones_get_a_done_drop_down(tmp_path: Path, catalog: Catalog) -> None:
    ws = openpyxl.load_workbook(write_template(catalog, "education", tmp_path / "e.xlsx"))["填报"]
    assert ws.cell(2, 4).value in ("", None)  # no period given: the department writes it
    assert any(v[0] == "list" and v[1] == '"完成,未完成"' and _covers(v[2], 2) for v in _validations(ws))


@pytest.mark.parametrize("slug", ["hrss", "housing", "health", "ecology_env", "education"])
def test_filled_template_reads_back_cleanly(tmp_path: Path, catalog: Catalog, slug: str) -> None:
    path = write_template(catalog, slug, tmp_path / f"{slug}.xlsx", "2021-06")
    expected = fill(path, catalog)
    frame, issues = read_drop(path, catalog, ReadLimits(), AS_OF)
    assert [i for i in issues if i.severity != Severity.INFO] == []
    assert {i.code for i in issues} <= {"no_header"}  # only the 说明 sheet, as info
    assert len(frame) == len(expected)
    names = {c.code: ("全州" if c.code == catalog.prefecture_code else c.name_zh) for c in catalog.counties}
    got = {(r.target_id, names[r.county_code]): r.value for r in frame.itertuples()}
    assert got == expected
    assert set(frame["period"]) == {"2021-06"}


@pytest.mark.parametrize("slug", ["hrss", "health", "ecology_env", "education", "agriculture"])
def test_real_catalog_templates_read_back_cleanly(tmp_path: Path, real_catalog: Catalog, slug: str) -> None:
    path = write_template(real_catalog, slug, tmp_path / f"{slug}.xlsx", "2021-06")
    expected = fill(path, real_catalog)
    frame, issues = read_drop(path, real_catalog, ReadLimits(), AS_OF)
    assert [(i.code, i.message_en) for i in issues if i.severity != Severity.INFO] == []
    assert len(frame) == len(expected)


def test_a_left_blank_value_quarantines_the_file(tmp_path: Path, catalog: Catalog) -> None:
    # What the 说明 sheet warns about: delete rows without a figure, never leave them blank.
    path = write_template(catalog, "hrss", tmp_path / "hrss.xlsx", "2021-06")
    fill(path, catalog)
    book = openpyxl.load_workbook(path)
    book["填报"].cell(3, 5).value = None
    book.save(path)
    _, issues = read_drop(path, catalog, ReadLimits(), AS_OF)
    assert [(i.code, i.row) for i in issues if i.severity == Severity.CRITICAL] == [("missing_value", 3)]


def test_template_refuses_unknown_department_and_bad_period(tmp_path: Path, catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="Unknown department"):
        write_template(catalog, "nobody", tmp_path / "x.xlsx")
    with pytest.raises(ValueError, match="YYYY-MM"):
        write_template(catalog, "hrss", tmp_path / "x.xlsx", "2021-13")
    with pytest.raises(ValueError, match="leads no targets"):
        write_template(catalog, "supervision_office", tmp_path / "x.xlsx")
    assert not (tmp_path / "x.xlsx").exists()


def test_responsible_targets_on_request(tmp_path: Path, catalog: Catalog) -> None:
    plain = openpyxl.load_workbook(write_template(catalog, "hrss", tmp_path / "a.xlsx"))["填报"]
    wider = openpyxl.load_workbook(write_template(catalog, "hrss", tmp_path / "b.xlsx",
                                                  include_responsible=True))["填报"]
    ids = {wider.cell(r, 1).value for r in range(2, wider.max_row + 1)}
    assert "housing.old_community_renovation" in ids and wider.max_row == plain.max_row + 10


def test_template_command(tmp_path: Path) -> None:
    import minsheng.commands.report  # noqa: F401  (registers `report` and `template`)
    from minsheng.cli import app

    out = tmp_path / "hrss.xlsx"
    result = CliRunner().invoke(app, ["template", "hrss", "--period", "2021-06", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(out)["填报"]["D2"].value == "2021-06"
    bad = CliRunner().invoke(app, ["template", "nobody", "--out", str(tmp_path / "n.xlsx")])
    assert bad.exit_code == 1 and "Unknown department" in bad.output
