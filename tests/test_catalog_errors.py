"""A broken catalog is refused with a message naming the file, the line and the field to fix."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from expectations.loader import DEFAULT_CATALOG_DIR, CatalogError, load_catalog


@dataclass(frozen=True)
class Break:
    """Replace `old` by `new` in `file`, at the first `old` after `anchor`; the error must name `field`."""

    file: str
    anchor: str
    old: str
    new: str
    field: str
    # text whose line the error must name (default: the replacement's line)
    line_of: str | None = None


JOBS = "targets/employment.yaml"
NEW_JOBS = "id: employment.new_urban_jobs"
BREAKS = {
    "unknown_key": Break(
        JOBS,
        NEW_JOBS,
        "    name_en: New urban jobs\n",
        "    name_en: New urban jobs\n    colour: red\n",
        "colour",
        "colour: red",
    ),
    "bad_comparator": Break(JOBS, NEW_JOBS, "comparator: '>='", "comparator: '=>'", "comparator"),
    "duplicate_id": Break(JOBS, "", "id: employment.urban_unemployment_rate", NEW_JOBS, "id"),
    "unknown_department": Break(
        JOBS, NEW_JOBS, "lead_departments: [hrss]", "lead_departments: [hr_ss]", "lead_departments"
    ),
    "unknown_unit": Break(
        JOBS, NEW_JOBS, "unit_written: 万人", "unit_written: 万个人", "unit_written"
    ),
    "unit_of_another_dimension": Break(
        JOBS, NEW_JOBS, "unit_written: 万人", "unit_written: 万元", "unit_written"
    ),
    "value_outside_bounds": Break(JOBS, NEW_JOBS, "value: 40000", "value: 4000000", "value"),
    "direction_contradicts_comparator": Break(
        JOBS, NEW_JOBS, "direction: higher_is_better", "direction: lower_is_better", "direction"
    ),
    "yaml_syntax": Break(
        JOBS, NEW_JOBS, "name_en: New urban jobs", "name_en: New: urban: jobs", "(YAML syntax)"
    ),
    "duplicate_key": Break(
        JOBS,
        NEW_JOBS,
        "    unit: person\n",
        "    unit: person\n    unit: item\n",
        "unit",
        "unit: item",
    ),
    "infinite_value": Break(JOBS, NEW_JOBS, "value: 40000", "value: .inf", "value"),
    # The later of the two targets is reported, naming the first.
    "alias_names_two_targets": Break(
        JOBS,
        NEW_JOBS,
        "aliases: [新增就业,",
        "aliases: [失业率, 新增就业,",
        "aliases",
        "aliases: [失业率, 登记失业率]",
    ),
    "unknown_program": Break(JOBS, NEW_JOBS, "program: employment", "program: jobs", "program"),
    "approx_without_tolerance": Break(
        "targets/income.yaml",
        "id: income.grain_sown_area",
        "    tolerance: 72000\n",
        "",
        "tolerance",
        "id: income.grain_sown_area",
    ),
    "unknown_county_code": Break(
        "targets/ecology.yaml",
        "id: ecology.air_quality_good_days_ratio",
        "counties: ['532301',",
        "counties: ['532399',",
        "counties",
    ),
    "county_values_without_county_scope": Break(
        "targets/ecology.yaml",
        "id: ecology.town_sewage_coverage",
        "scope: counties",
        "scope: prefecture",
        "county_values",
        "county_values:",
    ),
    "foreign_section_in_targets_file": Break(
        JOBS, "", "targets:\n", "programs: []\ntargets:\n", "programs"
    ),
    "unknown_canonical_unit": Break(
        "units.yaml",
        "",
        "{symbol: 万人, canonical: person,",
        "{symbol: 万人, canonical: persons,",
        "canonical",
    ),
    # 't' (tonne) and 'T' (terabit) collide for a reader that ignores case: the later unit is named.
    "unit_names_collide_ignoring_case": Break(
        "units.yaml",
        "",
        "{symbol: 吨, canonical: tonne, factor: 1}",
        "{symbol: 吨, canonical: tonne, factor: 1, aliases: [t]}",
        "symbol",
        "{symbol: T,",
    ),
    "bad_department_slug": Break("departments.yaml", "", "slug: hrss", "slug: HRSS", "slug"),
    "unknown_supervision_office": Break(
        "plan.yaml",
        "",
        "supervision_office: supervision_office",
        "supervision_office: ducha",
        "supervision_office",
    ),
}


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    root = tmp_path / "catalog"
    shutil.copytree(DEFAULT_CATALOG_DIR, root)
    return root


def _apply(root: Path, brk: Break) -> int:
    """Apply the break and return the 1-based line the error must name."""
    path = root / brk.file
    text = path.read_text(encoding="utf-8")
    start = text.index(brk.anchor) if brk.anchor else 0
    at = text.index(brk.old, start)
    text = text[:at] + brk.new + text[at + len(brk.old) :]
    path.write_text(text, encoding="utf-8")
    marker_at = text.index(brk.line_of, start) if brk.line_of else at
    return text.count("\n", 0, marker_at) + 1


def test_the_shipped_catalog_copy_loads(catalog_copy: Path) -> None:
    assert len(load_catalog(catalog_copy).targets) > 150


@pytest.mark.parametrize("case", sorted(BREAKS), ids=sorted(BREAKS))
def test_error_names_file_line_and_field(catalog_copy: Path, case: str) -> None:
    brk = BREAKS[case]
    line = _apply(catalog_copy, brk)
    with pytest.raises(CatalogError) as info:
        load_catalog(catalog_copy)
    message = str(info.value)
    assert f"{catalog_copy / brk.file}:{line}:" in message, message
    assert brk.field in message, message


def test_missing_file_is_named(catalog_copy: Path) -> None:
    (catalog_copy / "units.yaml").unlink()
    with pytest.raises(CatalogError, match=r"units\.yaml: required catalog file is missing"):
        load_catalog(catalog_copy)


def test_missing_targets_folder_is_named(catalog_copy: Path) -> None:
    shutil.rmtree(catalog_copy / "targets")
    with pytest.raises(CatalogError, match=r"targets: no targets/\*\.yaml files"):
        load_catalog(catalog_copy)


def test_missing_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="catalog directory not found"):
        load_catalog(tmp_path / "nowhere")


def test_file_not_in_utf8_is_named(catalog_copy: Path) -> None:
    path = catalog_copy / "targets" / "employment.yaml"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gb18030"))
    with pytest.raises(CatalogError, match=r"employment\.yaml:1: not UTF-8"):
        load_catalog(catalog_copy)


def test_several_problems_are_all_reported(catalog_copy: Path) -> None:
    _apply(catalog_copy, BREAKS["unknown_department"])
    _apply(catalog_copy, BREAKS["unknown_county_code"])
    with pytest.raises(CatalogError) as info:
        load_catalog(catalog_copy)
    message = str(info.value)
    assert "unknown department 'hr_ss'" in message and "'532399' is not a county code" in message
    assert (
        "(employment.new_urban_jobs)" in message
        and "(ecology.air_quality_good_days_ratio)" in message
    )
