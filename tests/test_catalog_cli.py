"""`minsheng catalog`: the table, its filters, and the CSV/JSON export scripts rely on."""

from __future__ import annotations

import csv
import io
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from expectations.loader import DEFAULT_CATALOG_DIR, load_catalog
from minsheng.cli import app
from minsheng.commands.catalog import (
    EXPORT_COLUMNS,
    LEADING_COLUMNS,
    goal_text,
    neutralize,
    target_record,
    to_csv,
)

SCRIPT_COLUMNS = [
    "id",
    "name_zh",
    "aliases",
    "name_en",
    "program",
    "ref",
    "lead_department",
    "comparator",
    "value",
    "unit",
    "kind",
    "scope",
]
WIDE = {"COLUMNS": "250"}  # rich would fold long ids in a narrow terminal


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("MINSHENG_CATALOG_DIR", str(DEFAULT_CATALOG_DIR))
    return CliRunner()


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_table_of_a_program(runner: CliRunner) -> None:
    result = runner.invoke(app, ["catalog", "--program", "employment"], env=WIDE)
    assert result.exit_code == 0, result.output
    for target_id, goal in [
        ("employment.new_urban_jobs", ">= 4万人"),
        ("employment.urban_unemployment_rate", "<= 5.5%"),
    ]:
        assert target_id in result.output and goal in result.output
    assert "income." not in result.output
    assert "4 targets" in result.output


def test_table_filters_by_department_and_kind(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["catalog", "--department", "water", "--kind", "cumulative"], env=WIDE
    )
    assert result.exit_code == 0, result.output
    assert "ecology.river_governance_investment" in result.output and ">= 2.9亿元" in result.output
    assert "ecology.sloping_farmland_erosion_projects" not in result.output  # a milestone
    assert "employment." not in result.output


def test_table_of_milestones(runner: CliRunner) -> None:
    result = runner.invoke(app, ["catalog", "-k", "milestone"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "education.ethnic_middle_school_relocation" in result.output
    assert "done by 2021-03-15" in result.output


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--program", "nope"], "unknown program 'nope'"),
        (["--department", "nobody"], "unknown department slug 'nobody'"),
        (["--kind", "weekly"], "unknown kind 'weekly'"),
    ],
    ids=["program", "department", "kind"],
)
def test_unknown_filter_is_a_usage_error(
    runner: CliRunner, args: list[str], complaint: str
) -> None:
    result = runner.invoke(app, ["catalog", *args], env=WIDE)
    assert result.exit_code == 2
    assert complaint in result.output


def test_export_csv(runner: CliRunner) -> None:
    result = runner.invoke(app, ["catalog", "export", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = _rows(result.stdout)
    header = next(csv.reader(io.StringIO(result.stdout)))
    assert header[:12] == SCRIPT_COLUMNS and header == list(EXPORT_COLUMNS)
    assert len(rows) == len(load_catalog().targets)
    by_id = {r["id"]: r for r in rows}
    jobs = by_id["employment.new_urban_jobs"]
    assert (jobs["value"], jobs["unit"], jobs["lead_department"], jobs["comparator"]) == (
        "40000",
        "person",
        "hrss",
        ">=",
    )
    assert jobs["aliases"].split("|")[0] == "新增就业"
    assert (
        by_id["ecology.river_governance_investment"]["lead_departments"]
        == "water|development_reform"
    )
    assert by_id["ecology.river_governance_investment"]["value"] == "290000000"
    assert by_id["employment.urban_unemployment_rate"]["value"] == "5.5"
    assert by_id["ecology.river_length_governed"]["value"] == "120.26"
    assert by_id["income.grain_sown_area"]["tolerance"] == "72000"
    assert by_id["health.grassroots_visit_rate_county"]["value"] == ""  # no value is not 0
    assert (
        by_id["health.health_services_value_added_growth"]["bounds_min"] == "-100"
    )  # a number, not a formula
    towns = by_id["ecology.rural_waste_treatment_rate_towns"]
    assert "532301=10" in towns["county_values"].split("|") and "532322=8" in towns[
        "county_values"
    ].split("|")


def test_export_json(runner: CliRunner) -> None:
    result = runner.invoke(app, ["catalog", "export", "--format", "json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout, parse_float=Decimal)
    assert list(records[0])[:12] == SCRIPT_COLUMNS
    by_id = {r["id"]: r for r in records}
    assert by_id["employment.new_urban_jobs"]["value"] == 40000
    assert by_id["employment.urban_unemployment_rate"]["value"] == Decimal("5.5")
    assert by_id["ecology.ecological_redline_share"]["value"] == Decimal("26.18")
    assert by_id["health.maternal_mortality_rate"]["unit"] == "per_100k"
    assert by_id["employment.new_urban_jobs"]["aliases"] == [
        "新增就业",
        "城镇新增就业人数",
        "城镇新增就业人员",
    ]
    assert by_id["ecology.town_sewage_coverage"]["county_values"]["532331"] == 100
    assert by_id["health.life_expectancy"]["value"] is None


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_to_file(runner: CliRunner, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"targets.{fmt}"
    result = runner.invoke(app, ["catalog", "export", "--format", fmt, "--out", str(out)])
    assert result.exit_code == 0, result.output
    on_stdout = runner.invoke(app, ["catalog", "export", "--format", fmt]).stdout
    assert out.read_text(encoding="utf-8") == on_stdout


def test_broken_catalog_fails_with_its_location(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "catalog"
    shutil.copytree(DEFAULT_CATALOG_DIR, root)
    jobs = root / "targets" / "employment.yaml"
    jobs.write_text(
        jobs.read_text(encoding="utf-8").replace(
            "lead_departments: [hrss]", "lead_departments: [x]", 1
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("MINSHENG_CATALOG_DIR", str(root))
    result = runner.invoke(app, ["catalog", "export"])
    assert result.exit_code == 1
    assert "employment.yaml:" in result.output and "unknown department 'x'" in result.output


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\0x", "'\0x"),
        ("-100", "-100"),
        ("+5.5", "+5.5"),
        ("城镇新增就业", "城镇新增就业"),
    ],
    ids=[
        "equals",
        "plus",
        "minus_formula",
        "at",
        "tab",
        "nul",
        "negative_number",
        "signed_number",
        "plain_text",
    ],
)
def test_neutralize(cell: str, expected: str) -> None:
    assert neutralize(cell) == expected


def test_csv_cells_are_neutralised() -> None:
    catalog = load_catalog()
    target = catalog.target("employment.new_urban_jobs").model_copy(
        update={
            "notes": "=cmd|' /C calc'!A0",
            "name_en": "@SUM(1)",
            "aliases": ["=1+1", "新增就业"],
        }
    )
    row = _rows(to_csv([target_record(target)]))[0]
    assert (
        row["notes"].startswith("'=")
        and row["name_en"] == "'@SUM(1)"
        and row["aliases"] == "'=1+1|新增就业"
    )


def test_leading_columns_are_the_contract() -> None:
    assert list(LEADING_COLUMNS) == SCRIPT_COLUMNS
    assert len(set(EXPORT_COLUMNS)) == len(EXPORT_COLUMNS)


@pytest.mark.parametrize(
    ("target_id", "goal"),
    [
        ("employment.new_urban_jobs", ">= 4万人"),
        ("income.grain_sown_area", "~ 360±7.2万亩"),
        ("health.maternal_mortality_rate", "<= 16/10万"),
        ("digital.base_stations_5g", "> 2000站"),
        ("ecology.town_sewage_coverage", ">= 20–100% by county"),
        ("health.grassroots_visit_rate_county", "increase (%)"),
        ("transport.yuxi_chuxiong_expressway_shuangbai_section", "done by 2021-12-31"),
    ],
    ids=["jobs", "grain_band", "per_100k", "strict", "by_county", "increase", "milestone"],
)
def test_goal_text_uses_the_written_unit(target_id: str, goal: str) -> None:
    catalog = load_catalog()
    assert goal_text(catalog, catalog.target(target_id)) == goal


def test_export_covers_every_target_field() -> None:
    from expectations.models import Target
    from minsheng.commands.catalog import EXPORT_COLUMNS

    fields = (set(Target.model_fields) - {"bounds"}) | {"bounds_min", "bounds_max", "lead_department"}
    assert fields <= set(EXPORT_COLUMNS), f"not exported: {sorted(fields - set(EXPORT_COLUMNS))}"
