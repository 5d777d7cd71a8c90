"""Every drop fixture in tests/cases: its outcome, its issue codes and, for good files, its exact rows."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from expectations.loader import load_catalog
from expectations.models import Catalog
from tasks.contracts import NORMALIZED_COLUMNS, Outcome, Severity, outcome_for
from tasks.normalize import read_drop
from tasks.read import ReadLimits

CASES_DIR = Path(__file__).parent / "cases"
AS_OF = dt.date(2021, 12, 20)

# file → (critical codes expected, info codes that must be among the notes)
CASES: dict[str, tuple[set[str], set[str]]] = {
    "good_utf8.csv": (set(), {"read_csv"}),
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
