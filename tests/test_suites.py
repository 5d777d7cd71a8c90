"""The GX suites are generated from the catalog, and the frame they check carries the catalog's facts per row."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest

from expectations.catalog_tables import allowed_counties, build_tables
from expectations.gx_frame import DERIVED_COLUMNS, prepare_frame
from expectations.gx_runtime import gx_context, run_suite
from expectations.models import Bounds, Catalog, Target
from expectations.suites import (
    OPEN_PERIODS,
    OWN_TARGETS,
    open_periods,
    suite_parameters,
    suites_for,
)
from tasks.contracts import NORMALIZED_COLUMNS

PREFECTURE = "532300"
CHUXIONG_CITY = "532301"
SHUANGBAI = "532322"
ZONE = "532391"


def _extra_target(target_id: str = "employment.test_only_target", maximum: int = 12345) -> Target:
    """A target broken down to one county only, owned by hrss."""
    return Target(
        id=target_id, name_zh="测试指标", name_en="Test-only target", program="employment", ref="test",
        lead_departments=["hrss"], unit_written="人", unit="person", comparator=">=", value=Decimal(10),
        direction="higher_is_better", kind="cumulative", scope="counties", counties=[CHUXIONG_CITY],
        bounds=Bounds(min=Decimal(0), max=Decimal(maximum)),
    )


def _with_targets(catalog: Catalog, *extra: Target) -> Catalog:
    return catalog.model_copy(update={"targets": [*catalog.targets, *extra]})


def _kwargs(suite: Any, rule: str) -> dict[str, Any]:
    """kwargs of the (first) expectation of a rule."""
    for expectation in suite.expectations:
        if (expectation.meta or {}).get("rule") == rule:
            return dict(expectation.configuration.kwargs)
    raise AssertionError(f"no expectation for rule {rule}")


def test_quality_suite_parameters_come_from_the_catalog(catalog: Catalog) -> None:
    quality = suites_for(catalog).quality
    assert set(_kwargs(quality, "unknown_target")["value_set"]) == {t.id for t in catalog.targets}
    assert set(_kwargs(quality, "unknown_county")["value_set"]) == {c.code for c in catalog.counties}
    pairs = set(_kwargs(quality, "county_not_in_scope")["value_set"])
    assert f"ecology.air_quality_good_days_ratio|{CHUXIONG_CITY}" in pairs
    assert f"ecology.air_quality_good_days_ratio|{PREFECTURE}" in pairs  # the prefecture total
    assert f"ecology.air_quality_good_days_ratio|{ZONE}" not in pairs  # not one of its listed counties
    assert not any(p.startswith("employment.urban_unemployment_rate|") for p in pairs)  # prefecture scope: any code
    assert _kwargs(quality, "not_owner")["value_set"] == {"$PARAMETER": OWN_TARGETS}
    assert _kwargs(quality, "future_period")["value_set"] == {"$PARAMETER": OPEN_PERIODS}
    assert _kwargs(quality, "bad_period")["value_set"] == [f"{catalog.year}-{m:02d}" for m in range(1, 13)]


def test_adding_a_target_changes_the_suite_without_code_changes(catalog: Catalog) -> None:
    extended = _with_targets(catalog, _extra_target())
    before, after = suites_for(catalog).quality, suites_for(extended).quality
    assert "employment.test_only_target" not in _kwargs(before, "unknown_target")["value_set"]
    assert "employment.test_only_target" in _kwargs(after, "unknown_target")["value_set"]
    pairs = _kwargs(after, "county_not_in_scope")["value_set"]
    assert f"employment.test_only_target|{CHUXIONG_CITY}" in pairs
    assert f"employment.test_only_target|{SHUANGBAI}" not in pairs
    assert "employment.test_only_target" in suite_parameters(extended, "hrss", dt.date(2021, 7, 10))[OWN_TARGETS]
    tables = suites_for(extended).tables
    position = tables.target_ids.get_loc("employment.test_only_target")
    assert tables.bound_max_f[position] == 12345.0


def test_suites_are_cached_per_catalog_object(catalog: Catalog) -> None:
    assert suites_for(catalog) is suites_for(catalog)
    copy = _with_targets(catalog)
    assert suites_for(copy) is not suites_for(catalog)


def test_suite_size_does_not_grow_with_targets_or_distinct_bounds(catalog: Catalog) -> None:
    many = _with_targets(catalog, *[_extra_target(f"employment.test_target_{i}", 1000 + i) for i in range(50)])
    assert len(suites_for(many).quality.expectations) == len(suites_for(catalog).quality.expectations)
    assert len(suites_for(many).target.expectations) == len(suites_for(catalog).target.expectations)
    assert len(suites_for(catalog).quality.expectations) < 30


def test_layers_carry_their_severity(catalog: Catalog) -> None:
    suites = suites_for(catalog)
    assert (suites.quality.meta or {}).get("severity") == "critical"
    assert (suites.target.meta or {}).get("severity") == "warning"
    assert {(e.meta or {}).get("rule") for e in suites.target.expectations} == {"target_missed"}


def test_building_the_suites_is_fast(catalog: Catalog) -> None:
    fresh = _with_targets(catalog)
    started = time.perf_counter()
    suites_for(fresh)
    print(f"built suites for {len(fresh.targets)} targets in {time.perf_counter() - started:.3f} s")
    assert suites_for(fresh).catalog is fresh


@pytest.mark.parametrize(("as_of", "last_open"), [
    pytest.param(dt.date(2021, 7, 10), "2021-07", id="mid_month_includes_current_month"),
    pytest.param(dt.date(2021, 7, 1), "2021-07", id="first_day_opens_the_month"),
    pytest.param(dt.date(2021, 6, 30), "2021-06", id="last_day_of_previous_month"),
    pytest.param(dt.date(2022, 1, 5), "2021-12", id="after_the_plan_year_all_open"),
    pytest.param(dt.date(2020, 12, 31), None, id="before_the_plan_year_none_open"),
])
def test_open_periods(catalog: Catalog, as_of: dt.date, last_open: str | None) -> None:
    periods = open_periods(catalog, as_of)
    assert (periods[-1] if periods else None) == last_open
    assert periods == sorted(periods)


@pytest.mark.parametrize(("target_id", "county", "allowed"), [
    pytest.param("employment.urban_unemployment_rate", PREFECTURE, True, id="prefecture_scope_total"),
    pytest.param("employment.urban_unemployment_rate", CHUXIONG_CITY, True, id="prefecture_scope_county_breakdown"),
    pytest.param("employment.urban_unemployment_rate", ZONE, True, id="prefecture_scope_zone_breakdown"),
    pytest.param("ecology.air_quality_good_days_ratio", CHUXIONG_CITY, True, id="counties_scope_listed_county"),
    pytest.param("ecology.air_quality_good_days_ratio", PREFECTURE, True, id="counties_scope_prefecture_total"),
    pytest.param("ecology.air_quality_good_days_ratio", ZONE, False, id="counties_scope_unlisted_zone"),
])
def test_allowed_counties(catalog: Catalog, target_id: str, county: str, allowed: bool) -> None:
    assert (county in allowed_counties(catalog, target_id)) is allowed


def test_suite_parameters_are_the_departments_own_targets(catalog: Catalog) -> None:
    own = suite_parameters(catalog, "hrss", dt.date(2021, 7, 10))[OWN_TARGETS]
    assert "employment.new_urban_jobs" in own
    assert "health.maternal_mortality_rate" not in own
    assert set(own) == {t.id for t in catalog.targets_of("hrss")}


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    base = {"unit": None, "basis": "ytd", "status": "provisional", "note": "", "source_sheet": ""}
    records = [{**base, "source_row": i + 2, **row} for i, row in enumerate(rows)]
    return pd.DataFrame(records, columns=list(NORMALIZED_COLUMNS))


def _first_milestone(catalog: Catalog) -> str:
    return next(t.id for t in catalog.targets if t.kind.value == "milestone")


@pytest.mark.parametrize(("target_id", "county", "period", "basis", "comparator", "target_value"), [
    pytest.param("employment.urban_unemployment_rate", CHUXIONG_CITY, "2021-03", "ytd", "<=", 5.5,
                 id="level_judged_every_month_and_county"),
    pytest.param("employment.new_urban_jobs", PREFECTURE, "2021-03", "ytd", None, None,
                 id="cumulative_not_judged_before_year_end"),
    pytest.param("employment.new_urban_jobs", PREFECTURE, "2021-12", "ytd", ">=", None,
                 id="cumulative_judged_at_year_end_on_prefecture_total"),
    pytest.param("employment.new_urban_jobs", PREFECTURE, "2021-12", "month", None, None,
                 id="cumulative_monthly_value_not_judged"),
    pytest.param("employment.new_urban_jobs", CHUXIONG_CITY, "2021-12", "ytd", None, None,
                 id="cumulative_county_part_of_prefecture_target_not_judged"),
    pytest.param("ecology.rural_waste_treatment_rate_towns", CHUXIONG_CITY, "2021-05", "ytd", ">=", 10.0,
                 id="county_specific_target_value_chuxiong"),
    pytest.param("ecology.rural_waste_treatment_rate_towns", SHUANGBAI, "2021-05", "ytd", ">=", 8.0,
                 id="county_specific_target_value_shuangbai"),
    pytest.param("milestone", PREFECTURE, "2021-05", "ytd", None, None, id="milestone_never_judged"),
])
def test_prepare_frame_joins_what_the_plan_judges(catalog: Catalog, target_id: str, county: str, period: str,
                                                  basis: str, comparator: str | None,
                                                  target_value: float | None) -> None:
    if target_id == "milestone":
        target_id = _first_milestone(catalog)
    frame = prepare_frame(_frame([{"target_id": target_id, "county_code": county, "period": period,
                                   "value": Decimal("1"), "basis": basis}]), build_tables(catalog))
    assert list(frame.columns) == [*NORMALIZED_COLUMNS, *DERIVED_COLUMNS]
    got = frame.loc[0, "comparator"]
    assert (None if pd.isna(got) else got) == comparator
    expected = target_value
    if comparator is not None and expected is None:
        expected = float(catalog.target(target_id).target_for(county))  # type: ignore[arg-type]
    got_value = frame.loc[0, "target_value_f"]
    assert (None if np.isnan(got_value) else got_value) == expected


@pytest.mark.parametrize(("value", "shadow", "type_name"), [
    pytest.param(Decimal("97.2"), 97.2, "Decimal", id="decimal"),
    pytest.param(13900, 13900.0, "int", id="int"),
    pytest.param(None, None, None, id="missing"),
    pytest.param("abc", None, "str", id="text"),
    pytest.param(5.5, None, "float", id="float_is_rejected"),
    pytest.param(Decimal("Infinity"), None, "Decimal(non-finite)", id="infinite_decimal"),
])
def test_value_shadow_and_type(catalog: Catalog, value: object, shadow: float | None, type_name: str | None) -> None:
    rows = _frame([{"target_id": "employment.new_urban_jobs", "county_code": PREFECTURE, "period": "2021-03",
                    "value": value}])
    frame = prepare_frame(rows, build_tables(catalog))
    got_shadow = frame.loc[0, "value_f"]
    assert (None if np.isnan(got_shadow) else got_shadow) == shadow
    got_type = frame.loc[0, "value_type"]
    assert (None if pd.isna(got_type) else got_type) == type_name


def test_previous_ytd_is_taken_within_the_file(catalog: Catalog) -> None:
    rows = _frame([
        {"target_id": "employment.new_urban_jobs", "county_code": PREFECTURE, "period": "2021-04", "value": 900},
        {"target_id": "employment.new_urban_jobs", "county_code": PREFECTURE, "period": "2021-03", "value": 500},
        {"target_id": "employment.new_urban_jobs", "county_code": CHUXIONG_CITY, "period": "2021-04", "value": 50},
    ])
    frame = prepare_frame(rows, build_tables(catalog))
    assert frame["prev_ytd_f"].tolist()[0] == 500.0
    assert np.isnan(frame["prev_ytd_f"].tolist()[1])
    assert np.isnan(frame["prev_ytd_f"].tolist()[2])


def test_evicted_suites_leave_the_gx_context(catalog: Catalog) -> None:
    first = _with_targets(catalog)
    suites = suites_for(first)
    frame = prepare_frame(_frame([{"target_id": "employment.new_urban_jobs", "county_code": PREFECTURE,
                                   "period": "2021-03", "value": Decimal("1")}]), suites.tables)
    run_suite(suites.target, frame)
    assert suites.target.name in {s.name for s in gx_context().suites.all()}
    for _ in range(10):
        suites_for(_with_targets(catalog))
    assert suites.target.name not in {s.name for s in gx_context().suites.all()}
