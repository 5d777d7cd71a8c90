"""Validation of normalized frames: quality failures are critical and located by row, target misses are warnings."""

from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import great_expectations as gx
import numpy as np
import pandas as pd
import pytest

from expectations.gx_frame import prepare_frame
from expectations.gx_runtime import raised_exception, render_data_docs, run_suite
from expectations.loader import load_catalog
from expectations.models import Bounds, Catalog, Target
from expectations.suites import suite_parameters, suites_for
from tasks.contracts import NORMALIZED_COLUMNS, Drop, Issue, Outcome, Severity, outcome_for
from tasks.validate import validate_drop, validate_rows, validate_rows_detailed

AS_OF = dt.date(2021, 7, 10)
YEAR_END = dt.date(2022, 1, 10)
PREFECTURE = "532300"
CHUXIONG_CITY = "532301"
SHUANGBAI = "532322"
ZONE = "532391"
JOBS = "employment.new_urban_jobs"
UNEMPLOYMENT = "employment.urban_unemployment_rate"
AIR = "ecology.air_quality_good_days_ratio"
MATERNAL = "health.maternal_mortality_rate"
WASTE = "ecology.rural_waste_treatment_rate_towns"
SHEET = "人社局报表"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """The real catalog; the per-county rubbish-treatment target is added if the catalog lacks it."""
    loaded = load_catalog()
    if WASTE in {t.id for t in loaded.targets}:
        return loaded
    waste = Target(
        id=WASTE, name_zh="乡镇镇区生活垃圾无害化处理率", name_en="Town rubbish treatment rate", program="ecology",
        ref="test", lead_departments=["housing"], unit_written="%", unit="percent", comparator=">=",
        county_values={CHUXIONG_CITY: Decimal(10), SHUANGBAI: Decimal(8)}, direction="higher_is_better",
        kind="level", scope="counties", counties=[CHUXIONG_CITY, SHUANGBAI],
        bounds=Bounds(min=Decimal(0), max=Decimal(100)),
    )
    return loaded.model_copy(update={"targets": [*loaded.targets, waste]})


def _decimal_or_text(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return Decimal(value)
    except InvalidOperation:
        return value


def obs(catalog: Catalog, target_id: str, value: Any, county: str = PREFECTURE, period: str = "2021-05",
        **extra: Any) -> dict[str, Any]:
    """One normalized row: numeric text becomes a Decimal, other text stays text (a reader bug to catch); the unit
    is the target's own unless given (unknown targets get none)."""
    known = {t.id: t for t in catalog.targets}
    unit = known[target_id].unit if target_id in known else None
    row = {"target_id": target_id, "county_code": county, "period": period,
           "value": _decimal_or_text(value), "unit": unit, "basis": "ytd",
           "status": "provisional", "note": "", "source_sheet": SHEET}
    return {**row, **extra}


def frame(rows: list[dict[str, Any]], first_row: int = 2) -> pd.DataFrame:
    """Rows numbered as a spreadsheet shows them (header on row 1) unless a row says otherwise."""
    records = [{"source_row": first_row + i, **row} for i, row in enumerate(rows)]
    return pd.DataFrame(records, columns=list(NORMALIZED_COLUMNS))


def valid_hrss_rows(catalog: Catalog) -> list[dict[str, Any]]:
    return [
        obs(catalog, JOBS, "5000", period="2021-03"),
        obs(catalog, JOBS, "9000", period="2021-04"),
        obs(catalog, JOBS, "700", county=CHUXIONG_CITY, period="2021-04"),
        obs(catalog, UNEMPLOYMENT, "3.9", period="2021-04"),
        obs(catalog, UNEMPLOYMENT, "4.1", county=CHUXIONG_CITY, period="2021-06"),
    ]


def located(issues: list[Issue], code: str) -> list[tuple[str | None, int | None]]:
    return sorted(((i.sheet, i.row) for i in issues if i.code == code), key=lambda x: x[1] or 0)


def test_a_valid_file_has_no_issues(catalog: Catalog) -> None:
    report = validate_rows_detailed(frame(valid_hrss_rows(catalog)), catalog, "hrss", AS_OF)
    assert report.issues == []
    assert report.passed
    assert {r.layer for r in report.results} == {"quality", "target"}
    assert all(r.success for r in report.results)


def _case(dept: str, rows: Any, code: str, bad_rows: list[int]) -> tuple[str, Any, str, list[int]]:
    return dept, rows, code, bad_rows


BAD_CASES = [
    pytest.param(*_case("hrss", lambda c: [obs(c, JOBS, "100", county=CHUXIONG_CITY), obs(c, JOBS, "-5")],
                        "out_of_bounds", [3]), id="negative_count"),
    pytest.param(*_case("hrss", lambda c: [obs(c, UNEMPLOYMENT, "120")], "out_of_bounds", [2]), id="rate_over_100"),
    pytest.param(*_case("hrss", lambda c: [obs(c, JOBS, "100"), obs(c, JOBS, "100")], "duplicate_key", [2, 3]),
                 id="duplicate_key"),
    pytest.param(*_case("hrss", lambda c: [obs(c, JOBS, "100", county="532399")], "unknown_county", [2]),
                 id="unknown_county"),
    pytest.param(*_case("hrss", lambda c: [obs(c, MATERNAL, "12")], "not_owner", [2]), id="foreign_target"),
    pytest.param(*_case("hrss", lambda c: [*valid_hrss_rows(c)[:3], obs(c, MATERNAL, "12"), *valid_hrss_rows(c)[3:]],
                        "not_owner", [5]), id="one_foreign_row_among_valid"),
    pytest.param(*_case("hrss", lambda c: [obs(c, "employment.no_such_target", "1")], "unknown_target", [2]),
                 id="unknown_target"),
    pytest.param(*_case("hrss", lambda c: [obs(c, UNEMPLOYMENT, "4", period="2021-08")], "future_period", [2]),
                 id="future_period"),
    pytest.param(*_case("hrss", lambda c: [obs(c, UNEMPLOYMENT, "4", period="2020-12")], "bad_period", [2]),
                 id="period_outside_plan_year"),
    pytest.param(*_case("hrss", lambda c: [obs(c, UNEMPLOYMENT, "4", period="2021-7")], "bad_period", [2]),
                 id="malformed_period"),
    pytest.param(*_case("ecology_env", lambda c: [obs(c, AIR, "98", county=ZONE)], "county_not_in_scope", [2]),
                 id="county_not_in_scope"),
    pytest.param(*_case("hrss", lambda c: [obs(c, UNEMPLOYMENT, "4", unit="permille")], "wrong_unit", [2]),
                 id="wrong_unit"),
    pytest.param(*_case("hrss", lambda c: [obs(c, JOBS, "5000", period="2021-03"),
                                           obs(c, JOBS, "4000", period="2021-04")], "cumulative_decrease", [3]),
                 id="cumulative_decrease"),
    pytest.param(*_case("hrss", lambda c: [obs(c, JOBS, None)], "missing_value", [2]), id="missing_value"),
    pytest.param(*_case("hrss", lambda c: [obs(c, JOBS, "abc")], "bad_value", [2]), id="value_not_a_number"),
    pytest.param(*_case("hrss", lambda c: [obs(c, JOBS, "1", basis="quarter")], "bad_basis", [2]), id="bad_basis"),
]


@pytest.mark.parametrize(("department", "make_rows", "code", "bad_rows"), BAD_CASES)
def test_quality_failures_are_critical_and_located(catalog: Catalog, department: str, make_rows: Any, code: str,
                                                   bad_rows: list[int]) -> None:
    issues = validate_rows(frame(make_rows(catalog)), catalog, department, AS_OF)
    assert {i.code for i in issues} == {code}
    assert located(issues, code) == [(SHEET, r) for r in bad_rows]
    assert all(i.severity == Severity.CRITICAL for i in issues)
    assert outcome_for(issues) == Outcome.QUARANTINE
    assert all(i.message_zh and i.message_en for i in issues)


def test_out_of_bounds_message_tells_what_to_fix(catalog: Catalog) -> None:
    rows = frame([obs(catalog, UNEMPLOYMENT, "120", source_sheet="")], first_row=8)
    [issue] = validate_rows(rows, catalog, "hrss", AS_OF)
    assert issue.message_zh == "第8行：指标“城镇登记失业率”的值 120 超出合理范围 0–100（%），请检查单位或小数点。"
    assert (issue.sheet, issue.row, issue.column, issue.value) == (None, 8, "value", "120")


def test_not_owner_names_the_lead_department(catalog: Catalog) -> None:
    [issue] = validate_rows(frame([obs(catalog, MATERNAL, "12")]), catalog, "hrss", AS_OF)
    assert catalog.department("health").name_zh in issue.message_zh
    assert catalog.department("hrss").name_zh in issue.message_zh


def test_the_owner_may_submit_what_another_department_may_not(catalog: Catalog) -> None:
    rows = frame([obs(catalog, MATERNAL, "12", period="2021-04")])
    assert validate_rows(rows, catalog, "health", AS_OF) == []


def test_target_miss_is_a_warning_not_critical(catalog: Catalog) -> None:
    issues = validate_rows(frame([obs(catalog, UNEMPLOYMENT, "6.0")], first_row=9), catalog, "hrss", AS_OF)
    assert [(i.code, i.severity, i.sheet, i.row) for i in issues] == [("target_missed", Severity.WARNING, SHEET, 9)]
    assert "5.5" in issues[0].message_zh and "6" in issues[0].message_zh
    assert outcome_for(issues) == Outcome.LOAD_WITH_WARNINGS


@pytest.mark.parametrize(("department", "target_id", "county", "value", "missed"), [
    pytest.param("hrss", UNEMPLOYMENT, PREFECTURE, "5.5", False, id="unemployment_at_ceiling_ok"),
    pytest.param("hrss", UNEMPLOYMENT, CHUXIONG_CITY, "5.6", True, id="unemployment_above_ceiling_missed"),
    pytest.param("ecology_env", AIR, CHUXIONG_CITY, "97.2", False, id="air_quality_at_floor_ok"),
    pytest.param("ecology_env", AIR, CHUXIONG_CITY, "96.9", True, id="air_quality_below_floor_missed"),
    pytest.param("health", MATERNAL, PREFECTURE, "16.5", True, id="maternal_mortality_missed"),
    pytest.param("housing", WASTE, CHUXIONG_CITY, "9", True, id="chuxiong_city_below_its_own_10"),
    pytest.param("housing", WASTE, SHUANGBAI, "9", False, id="shuangbai_above_its_own_8"),
    pytest.param("housing", WASTE, SHUANGBAI, "7", True, id="shuangbai_below_its_own_8"),
])
def test_target_comparators_per_county(catalog: Catalog, department: str, target_id: str, county: str, value: str,
                                       missed: bool) -> None:
    department = department if target_id != WASTE else catalog.target(WASTE).lead_department
    issues = validate_rows(frame([obs(catalog, target_id, value, county=county)]), catalog, department, AS_OF)
    assert [i.code for i in issues] == (["target_missed"] if missed else [])
    assert all(i.severity == Severity.WARNING for i in issues)


@pytest.mark.parametrize(("county", "period", "missed"), [
    pytest.param(PREFECTURE, "2021-03", False, id="march_ytd_is_not_a_miss"),
    pytest.param(PREFECTURE, "2021-12", True, id="year_end_ytd_below_full_year_target"),
    pytest.param(CHUXIONG_CITY, "2021-12", False, id="county_part_of_prefecture_target"),
])
def test_cumulative_targets_are_judged_at_year_end_only(catalog: Catalog, county: str, period: str,
                                                        missed: bool) -> None:
    rows = frame([obs(catalog, JOBS, "1000", county=county, period=period)])
    issues = validate_rows(rows, catalog, "hrss", YEAR_END)
    assert [i.code for i in issues] == (["target_missed"] if missed else [])


def test_approximate_target_uses_its_tolerance(catalog: Catalog) -> None:
    approx = next((t for t in catalog.targets if t.comparator.value == "~" and t.kind.value == "level"), None)
    if approx is None:
        pytest.skip("the catalog has no level target with comparator ~")
    assert approx.value is not None and approx.tolerance is not None
    inside, outside = approx.value + approx.tolerance / 2, approx.value - approx.tolerance * 2
    rows = frame([obs(catalog, approx.id, inside, period="2021-03"), obs(catalog, approx.id, outside)])
    issues = validate_rows(rows, catalog, approx.lead_department, AS_OF)
    assert [(i.code, i.row) for i in issues] == [("target_missed", 3)]


def test_target_layer_waits_for_a_clean_quality_layer(catalog: Catalog) -> None:
    rows = frame([obs(catalog, UNEMPLOYMENT, "6.0"), obs(catalog, JOBS, "-1")])
    report = validate_rows_detailed(rows, catalog, "hrss", AS_OF)
    assert {i.code for i in report.issues} == {"out_of_bounds"}
    assert {r.layer for r in report.results} == {"quality"}
    assert not report.passed


def test_an_expectation_that_raises_is_a_failure() -> None:
    suite = gx.ExpectationSuite(name="test.raises", expectations=[
        gx.expectations.ExpectColumnValuesToNotBeNull(column="no_such_column")])
    [result] = run_suite(suite, pd.DataFrame({"a": [1, 2]}))
    assert raised_exception(result) is not None and "no_such_column" in str(raised_exception(result))


def test_a_crashing_check_quarantines_the_file(catalog: Catalog) -> None:
    rows = frame(valid_hrss_rows(catalog)).drop(columns=["basis"])
    report = validate_rows_detailed(rows, catalog, "hrss", AS_OF)
    crashed = [r for r in report.results if r.exception]
    assert crashed and all(not r.success for r in crashed)
    errors = [i for i in report.issues if i.code == "validation_error"]
    assert errors and all(i.severity == Severity.CRITICAL for i in errors)
    assert "schema_mismatch" in {i.code for i in report.issues}
    assert outcome_for(report.issues) == Outcome.QUARANTINE


def test_issues_are_capped_per_rule_with_a_summary(catalog: Catalog) -> None:
    periods = [f"2021-{m:02d}" for m in range(1, 8)]
    counties = [c.code for c in catalog.counties]
    unique = [obs(catalog, UNEMPLOYMENT, "150", county=c, period=p, basis=b)
              for c in counties for p in periods for b in ("ytd", "month")]
    repeated = unique[:60]  # the same keys again: a second rule with its own cap
    rows = frame(unique + repeated)
    issues = validate_rows_detailed(rows, catalog, "hrss", AS_OF, max_rows_per_rule=100).issues
    bounds = [i for i in issues if i.code == "out_of_bounds"]
    assert [i.row for i in bounds if i.row is not None] == list(range(2, 102))  # the first 100, in file order
    [summary] = [i for i in bounds if i.row is None]
    assert f"共有 {len(rows)} 行" in summary.message_zh and "前 100 行" in summary.message_zh
    duplicates = [i for i in issues if i.code == "duplicate_key"]
    assert len([i for i in duplicates if i.row is not None]) == 100
    assert "共有 120 行" in next(i.message_zh for i in duplicates if i.row is None)


def test_results_can_be_persisted(catalog: Catalog) -> None:
    report = validate_rows_detailed(frame([obs(catalog, UNEMPLOYMENT, "6.0")]), catalog, "hrss", AS_OF)
    stored = json.loads(json.dumps([r.to_dict() for r in report.results]))
    rules = {r["rule"] for r in stored}
    assert {"not_owner", "unknown_county", "out_of_bounds", "duplicate_key", "target_missed"} <= rules
    missed = [r for r in stored if r["rule"] == "target_missed" and not r["success"]]
    assert missed == [{**missed[0], "severity": "warning", "unexpected_count": 1, "exception": None}]
    assert json.dumps([i.to_dict() for i in report.issues], ensure_ascii=False)


def test_validate_drop_takes_the_department_from_the_folder(catalog: Catalog, tmp_path: Path) -> None:
    rows = frame([obs(catalog, MATERNAL, "12", period="2021-04")])
    drop = Drop(path=tmp_path / "hrss" / "x.csv", department="hrss", sha256="0" * 64, size=1, mtime=0.0,
                relative_name="x.csv")
    report = validate_drop.fn(drop, rows, catalog, AS_OF)
    assert [i.code for i in report.issues] == ["not_owner"]
    assert not (Path.cwd() / "gx").exists()  # the GX context is ephemeral: no project folder appears


def test_data_docs_render_into_a_given_folder(catalog: Catalog, tmp_path: Path) -> None:
    suites = suites_for(catalog)
    rows = prepare_frame(frame([obs(catalog, UNEMPLOYMENT, "120")]), suites.tables)
    index = render_data_docs(suites.quality, rows, tmp_path / "docs", suite_parameters(catalog, "hrss", AS_OF))
    assert index == tmp_path / "docs" / "index.html" and index.is_file()
    pages = [p.read_text(encoding="utf-8") for p in (tmp_path / "docs" / "validations").rglob("*.html")]
    assert pages and any("bound_max_f" in page for page in pages)


def test_performance_sanity_200k_rows(catalog: Catalog) -> None:
    n = 200_000
    codes = np.array([c.code for c in catalog.counties], dtype=object)
    periods = np.array([f"2021-{m:02d}" for m in range(1, 8)], dtype=object)
    i = np.arange(n)
    rows = pd.DataFrame({
        "target_id": UNEMPLOYMENT, "county_code": codes[i % len(codes)], "period": periods[(i // len(codes)) % 7],
        "value": [Decimal(k % 60) / 10 for k in range(n)], "unit": "percent", "basis": "ytd",
        "status": "provisional", "note": "", "source_sheet": "", "source_row": i + 2,
    }, columns=list(NORMALIZED_COLUMNS))
    started = time.perf_counter()
    report = validate_rows_detailed(rows, catalog, "hrss", AS_OF)
    print(f"validated {n} rows in {time.perf_counter() - started:.2f} s")
    dup = [r for r in report.results if r.rule == "duplicate_key"]
    assert dup[0].unexpected_count == n  # 84 distinct keys repeated: every row is a duplicate
    assert len([x for x in report.issues if x.code == "duplicate_key"]) == 201  # 200 listed + 1 summary
