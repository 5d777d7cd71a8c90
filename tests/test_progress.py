"""Target status: 序时进度, lights, projections, levels, budgets, milestones, increases, Open SDG."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expectations.loader import load_catalog
from expectations.models import Catalog, Target
from minsheng.settings import Settings
from tasks.evaluate import (
    Thresholds,
    budget_status,
    good_days_budget,
    light_for_gap,
    linear_share,
    progress_measure,
    seasonal_share,
    target_status,
)
from tasks.evaluate.progress import whole_unit_share

CATALOG_DIR = Path(__file__).parent / "cases" / "good_catalog_small"
JOBS = "employment.new_urban_jobs"
UNEMPLOYMENT = "employment.urban_unemployment_rate"
PREFECTURE = "532300"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG_DIR)


def observations(rows: list[tuple], recorded: str = "2021-07-01") -> pd.DataFrame:
    """Rows of (target_id, county_code, period, value[, basis])."""
    return pd.DataFrame([{"target_id": t, "county_code": c, "period": p, "value": v,
                          "basis": rest[0] if rest else "ytd", "source_sha256": "ab" * 32,
                          "source_name": "hrss_2021-06.xlsx", "department": "hrss",
                          "recorded_at": pd.Timestamp(recorded)} for t, c, p, v, *rest in rows])


def row_of(status: pd.DataFrame, target_id: str, county: str = PREFECTURE) -> pd.Series:
    match = status[(status["target_id"] == target_id) & (status["county_code"] == county)]
    assert len(match) == 1, match
    return match.iloc[0]


def jobs_status(catalog: Catalog, values: Mapping[int, int | str], as_of: dt.date = dt.date(2021, 7, 10),
                **kw) -> pd.Series:
    obs = observations([(JOBS, PREFECTURE, f"2021-{m:02d}", Decimal(str(v))) for m, v in values.items()])
    return row_of(target_status(obs, catalog, as_of, **kw), JOBS)


def test_expected_share_at_june_is_half(catalog: Catalog) -> None:
    assert linear_share(6) == Decimal("0.5")
    row = jobs_status(catalog, {6: 20000})
    assert (row["period"], row["expected_pct"], row["completion_pct"]) == ("2021-06", Decimal("50.00"), Decimal(50))
    assert (row["gap_points"], row["light"], row["method"]) == (Decimal(0), "green", "linear")
    assert "序时进度50%" in row["detail_zh"]


@pytest.mark.parametrize(
    ("gap", "light"),
    [("-5", "green"), ("0", "green"), ("10", "green"), ("10.01", "yellow"), ("30", "yellow"),
     ("30.01", "red"), ("80", "red")],
    ids=["ahead", "on-schedule", "10-behind-edge-green", "just-over-10-yellow", "30-behind-edge-yellow",
         "just-over-30-red", "far-behind-red"],
)
def test_light_thresholds_at_edges(gap: str, light: str) -> None:
    assert light_for_gap(Decimal(gap), Thresholds()) == light


def test_thresholds_are_configuration(catalog: Catalog) -> None:
    strict = Thresholds.from_settings(Settings.model_validate({"yellow_gap_points": 2, "red_gap_points": 5}))
    assert light_for_gap(Decimal("3"), strict) == "yellow"
    assert light_for_gap(Decimal("6"), strict) == "red"
    # 15 000 of 40 000 at June: 37.5% against 50% → 12.5 points behind
    assert jobs_status(catalog, {6: 15000})["light"] == "yellow"
    assert jobs_status(catalog, {6: 15000}, thresholds=strict)["light"] == "red"
    with pytest.raises(ValueError, match="yellow"):
        Thresholds(yellow_gap_points=Decimal(40), red_gap_points=Decimal(30))


@pytest.mark.parametrize(
    ("values", "will_meet", "light"),
    [({3: 6000, 4: 10000, 5: 14000, 6: 24000}, True, "green"),
     ({3: 6000, 4: 9000, 5: 12000, 6: 15000}, False, "yellow"),
     ({4: 4000, 5: 6000, 6: 7000}, False, "red"),
     ({5: 30000, 6: 41000}, True, "green")],
    ids=["projection-meets", "projection-misses", "far-behind-red", "already-reached"],
)
def test_projection_meets_or_misses(catalog: Catalog, values: dict[int, int], will_meet: bool,
                                    light: str) -> None:
    row = jobs_status(catalog, values)
    assert row["will_meet"] is will_meet
    assert row["light"] == light
    ytd = Decimal(values[6])
    assert row["projection"] == (ytd * 2).quantize(Decimal("0.01"))  # ytd / (6/12)
    assert ytd <= row["projection_low"] <= row["projection"] <= row["projection_high"]
    assert ("预计能完成目标" if will_meet else "预计不能完成目标") in row["detail_zh"]


def test_december_projection_is_the_value(catalog: Catalog) -> None:
    row = jobs_status(catalog, {12: 39000}, as_of=dt.date(2022, 1, 10))
    assert row["projection"] == row["projection_low"] == row["projection_high"] == Decimal("39000.00")
    assert row["will_meet"] is False and row["light"] == "green"  # 97.5% vs 100%: 2.5 points behind


def test_seasonal_profile_from_last_year(catalog: Catalog) -> None:
    last_year = [(JOBS, PREFECTURE, f"2020-{m:02d}", Decimal(v)) for m, v in
                 [(6, 30000), (12, 40000)]]
    this_year = [(JOBS, PREFECTURE, "2021-06", Decimal(26000))]
    row = row_of(target_status(observations(last_year + this_year), catalog, dt.date(2021, 7, 10)), JOBS)
    assert row["method"] == "seasonal"
    assert row["expected_pct"] == Decimal("75.00")  # 30 000 of 40 000 done by June last year
    assert row["gap_points"] == Decimal("10.00") and row["light"] == "green"  # 10 points behind: still green
    assert row["projection"] == Decimal("34666.67")  # 26 000 / 0.75
    assert seasonal_share({6: Decimal(1)}, 6) is None  # no December: no profile


def test_monthly_values_are_summed_and_a_gap_is_not_zero(catalog: Catalog) -> None:
    months = [(JOBS, PREFECTURE, f"2021-{m:02d}", Decimal(3000), "month") for m in range(1, 7)]
    row = row_of(target_status(observations(months), catalog, dt.date(2021, 7, 10)), JOBS)
    assert row["value"] == Decimal(18000)
    gap = [r for r in months if r[2] != "2021-03"]
    row = row_of(target_status(observations(gap), catalog, dt.date(2021, 7, 10)), JOBS)
    assert row["light"] == "grey" and row["value"] is None
    assert "缺少" in row["detail_zh"]


def test_prefecture_total_from_all_counties(catalog: Catalog) -> None:
    rows = [(JOBS, code, "2021-06", Decimal(2000)) for code in catalog.county_codes]
    status = target_status(observations(rows), catalog, dt.date(2021, 7, 10))
    total = row_of(status, JOBS)
    assert total["value"] == Decimal(20000) and total["completion_pct"] == Decimal("50.00")
    assert "10个县市" in total["detail_zh"]
    county = row_of(status, JOBS, "532301")  # a county part of an additive total has no target of its own
    assert county["light"] == "grey" and county["target_value"] is None and county["value"] == Decimal(2000)
    partial = target_status(observations(rows[:9]), catalog, dt.date(2021, 7, 10))
    assert row_of(partial, JOBS)["light"] == "grey"  # nine counties are not the prefecture


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=80000), st.integers(min_value=0, max_value=80000),
       st.integers(min_value=1, max_value=12))
def test_completion_is_monotone_in_ytd(a: int, b: int, month: int) -> None:
    catalog = load_catalog(CATALOG_DIR)
    low, high = sorted((a, b))
    as_of = dt.date(2022, 1, 10)
    at_low = jobs_status(catalog, {month: low}, as_of=as_of)
    at_high = jobs_status(catalog, {month: high}, as_of=as_of)
    assert at_low["completion_pct"] == (Decimal(low) / 400).quantize(Decimal("0.01"))
    assert at_high["completion_pct"] >= at_low["completion_pct"]
    assert at_high["gap_points"] <= at_low["gap_points"]  # points behind
    order = {"red": 0, "yellow": 1, "green": 2}
    assert order[at_high["light"]] >= order[at_low["light"]]  # more done never looks worse


@pytest.mark.parametrize(
    ("monthly", "light", "will_meet"),
    [([5.0, 5.1, 5.2, 5.3, 5.2, 5.4], "green", True),
     ([5.0, 5.1, 5.2, 5.3, 5.2, 5.7], "yellow", True),
     ([5.6, 5.8, 5.9, 5.7, 5.8, 6.0], "red", False)],
    ids=["both-comply", "latest-misses", "both-miss"],
)
def test_level_compliance_of_latest_and_ytd(catalog: Catalog, monthly: list[float], light: str,
                                            will_meet: bool) -> None:
    rows = [(UNEMPLOYMENT, PREFECTURE, f"2021-{m:02d}", v, "month") for m, v in enumerate(monthly, 1)]
    row = row_of(target_status(observations(rows), catalog, dt.date(2021, 7, 10)), UNEMPLOYMENT)
    assert (row["light"], row["will_meet"], row["method"]) == (light, will_meet, "level")
    assert row["value"] == Decimal(str(monthly[-1])) and row["target_value"] == Decimal("5.5")
    assert row["projection_low"] <= row["projection"] <= row["projection_high"]
    assert f"{monthly[-1]:g}%" in row["detail_zh"] and "5.5%" in row["detail_zh"]


def _with_target(catalog: Catalog, **fields) -> tuple[Catalog, Target]:
    base = {"name_zh": "测试指标", "name_en": "Test", "program": "ecology", "ref": "x",
            "lead_departments": ["ecology"], "unit_written": "%", "unit": "percent"}
    target = Target.model_validate({**base, **fields})
    return catalog.model_copy(update={"targets": [*catalog.targets, target]}), target


def test_per_county_target_values(catalog: Catalog) -> None:
    cat, target = _with_target(catalog, id="ecology.test_county_values", comparator=">=", value="95",
                               direction="higher_is_better", kind="level", scope="counties",
                               counties=["532301", "532322"], county_values={"532301": "98"})
    rows = [(target.id, "532301", "2021-06", Decimal("97")), (target.id, "532322", "2021-06", Decimal("97"))]
    status = target_status(observations(rows), cat, dt.date(2021, 7, 10))
    assert row_of(status, target.id, "532301")["light"] == "red"  # 97 < its own 98
    assert row_of(status, target.id, "532322")["light"] == "green"  # 97 ≥ the general 95
    assert row_of(status, target.id, "532301")["target_value"] == Decimal("98")


def test_approximate_target_with_tolerance(catalog: Catalog) -> None:
    target = "agriculture.grain_area"
    inside = observations([(target, PREFECTURE, "2021-09", Decimal(3630000))])
    outside = observations([(target, PREFECTURE, "2021-09", Decimal(3700000))])
    assert row_of(target_status(inside, catalog, dt.date(2021, 10, 20)), target)["light"] == "green"
    assert row_of(target_status(outside, catalog, dt.date(2021, 10, 20)), target)["light"] == "red"


def test_good_days_budget_allows_ten_days() -> None:
    budget = good_days_budget(good_days=88, valid_days=90, target_ratio_pct=Decimal("97.2"), year_days=365,
                              elapsed_days=90)
    assert budget.allowed_bad_days == 10 and budget.bad_days == 2
    assert budget.budget.remaining == 8 and budget.budget.light == "green"
    assert budget.max_achievable_pct > Decimal("99")


@pytest.mark.parametrize(
    ("used", "elapsed", "light"),
    [(1, 7, "green"), (3, 90, "green"), (4, 90, "yellow"), (10, 200, "yellow"), (11, 200, "red")],
    ids=["one-day-first-week", "at-pace", "faster-than-time", "all-used-early", "exceeded"],
)
def test_budget_pace(used: int, elapsed: int, light: str) -> None:
    status = budget_status(Decimal(used), Decimal(10), Decimal(elapsed) / Decimal(365))
    assert status.light == light
    assert status.remaining == 10 - used


def test_budget_target_in_status(catalog: Catalog) -> None:
    obs = observations([("ecology.good_days_budget", PREFECTURE, "2021-06", Decimal("96.0"))])
    row = row_of(target_status(obs, catalog, dt.date(2021, 7, 10)), "ecology.good_days_budget")
    assert row["method"] == "budget" and row["light"] == "yellow"  # ~7 of 10 days used in half a year
    assert "全年额度10天" in row["detail_zh"] and "剩余3天" in row["detail_zh"]


@pytest.mark.parametrize(
    ("rows", "as_of", "light", "word"),
    [([("2021-05", 1)], dt.date(2021, 7, 10), "green", "已于2021年5月报告完成"),
     ([("2021-06", 0)], dt.date(2021, 7, 10), "grey", "尚未到期"),
     ([("2021-10", 0)], dt.date(2021, 11, 10), "red", "已逾期"),
     ([], dt.date(2021, 11, 10), "red", "尚无报告")],
    ids=["done", "not-yet", "overdue", "overdue-never-reported"],
)
def test_milestones(catalog: Catalog, rows: list, as_of: dt.date, light: str, word: str) -> None:
    target = "transport.expressway_opened"
    obs = observations([(target, PREFECTURE, p, Decimal(v)) for p, v in rows]) if rows else observations([])
    row = row_of(target_status(obs, catalog, as_of), target)
    assert row["light"] == light and row["method"] == "milestone"
    assert word in row["detail_zh"]
    if light == "green":
        assert "hrss_2021-06.xlsx" in row["detail_zh"] and "abababababab" in row["detail_zh"]


@pytest.mark.parametrize(
    ("before", "now", "light"),
    [("88.5", "90.1", "green"), ("90.1", "90.1", "yellow"), ("91.0", "90.1", "red"), (None, "90.1", "grey")],
    ids=["increased", "flat", "decreased", "no-baseline"],
)
def test_increase_against_previous_year(catalog: Catalog, before: str | None, now: str, light: str) -> None:
    target = "education.preschool_enrolment"
    rows = [(target, PREFECTURE, "2021-06", Decimal(now))]
    if before is not None:
        rows.append((target, PREFECTURE, "2020-12", Decimal(before)))
    row = row_of(target_status(observations(rows), catalog, dt.date(2021, 7, 10)), target)
    assert (row["light"], row["method"]) == (light, "increase")
    if before is None:
        assert "无基数" in row["detail_zh"] and row["will_meet"] is None


@pytest.mark.parametrize(
    ("share", "target", "expected"),
    [("0.5", "1", "0"), ("1", "1", "1"), ("0.5", "2", "0.5"), ("0.25", "2", "0"), ("0.5", "40000", "0.5"),
     ("0.5", "120.26", "0.5")],
    ids=["one-hospital-mid-year", "one-hospital-december", "two-mid-year", "two-in-march", "big-count",
         "divisible-length"],
)
def test_whole_units_are_due_only_when_their_time_has_passed(share: str, target: str, expected: str) -> None:
    assert whole_unit_share(Decimal(share), Decimal(target)) == Decimal(expected)


def test_one_facility_is_not_behind_before_the_year_end() -> None:
    """县级中医医院综合服务能力达标: 1 hospital. 0 by June is on schedule (a hospital is not half done); 0 in
    December is the year's target missed."""
    real = load_catalog()
    tcm = "health.county_tcm_hospital_capability"
    june = row_of(target_status(observations([(tcm, PREFECTURE, "2021-06", Decimal(0))]), real,
                                dt.date(2021, 7, 10)), tcm)
    assert (june["light"], june["expected_pct"], june["gap_points"]) == ("green", Decimal("0.00"), Decimal(0))
    assert "目标按整数计，截至6月应完成0个" in june["detail_zh"]
    december = row_of(target_status(observations([(tcm, PREFECTURE, "2021-12", Decimal(0))]), real,
                                    dt.date(2022, 1, 10)), tcm)
    assert (december["light"], december["will_meet"]) == ("red", False)


def test_a_level_that_complies_again_is_green_at_once(catalog: Catalog) -> None:
    """The red-then-yellow memory is for schedules catching up; a rate back within its target complies."""
    obs = observations([(UNEMPLOYMENT, PREFECTURE, "2021-06", Decimal("5.0"), "month")])
    previous = pd.DataFrame([{"target_id": UNEMPLOYMENT, "county_code": PREFECTURE, "light": "red"}])
    assert row_of(target_status(obs, catalog, dt.date(2021, 7, 10), previous=previous), UNEMPLOYMENT)["light"] \
        == "green"


def test_red_that_catches_up_turns_yellow(catalog: Catalog) -> None:
    now = jobs_status(catalog, {6: 20000})
    assert now["light"] == "green"
    previous = pd.DataFrame([{"target_id": JOBS, "county_code": PREFECTURE, "light": "red"}])
    remembered = jobs_status(catalog, {6: 20000}, previous=previous)
    assert remembered["light"] == "yellow" and "上期为红灯" in remembered["detail_zh"]
    previous.loc[0, "light"] = "yellow"
    assert jobs_status(catalog, {6: 20000}, previous=previous)["light"] == "green"


def test_what_was_known_on_as_of(catalog: Catalog) -> None:
    early = observations([(JOBS, PREFECTURE, "2021-05", Decimal(16000))], recorded="2021-06-03")
    late = observations([(JOBS, PREFECTURE, "2021-06", Decimal(20000))], recorded="2021-07-04")
    both = pd.concat([early, late], ignore_index=True)
    assert row_of(target_status(both, catalog, dt.date(2021, 7, 1)), JOBS)["period"] == "2021-05"
    assert row_of(target_status(both, catalog, dt.date(2021, 7, 4)), JOBS)["period"] == "2021-06"


def test_status_covers_every_target_and_scope(catalog: Catalog) -> None:
    status = target_status(observations([]), catalog, dt.date(2021, 7, 10))
    air = status[status["target_id"] == "ecology.air_quality_good_days_ratio"]
    assert sorted(air["county_code"]) == sorted(catalog.county_codes)
    assert set(status["target_id"]) == {t.id for t in catalog.targets}
    assert set(status["period"]) == {"2021-07"}  # no data: the month of as_of, never empty (a warehouse key)
    assert list(status.columns) == [
        "target_id", "county_code", "as_of", "period", "value", "target_value", "completion_pct", "expected_pct",
        "gap_points", "light", "projection", "projection_low", "projection_high", "will_meet", "method", "detail_zh"]


def test_bad_observations_are_named(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="value"):
        target_status(pd.DataFrame({"target_id": [JOBS]}), catalog, dt.date(2021, 7, 10))
    with pytest.raises(ValueError, match="YYYY-MM"):
        target_status(observations([(JOBS, PREFECTURE, "2021-6", 1)]), catalog, dt.date(2021, 7, 10))
    with pytest.raises(ValueError, match="ytd"):
        target_status(observations([(JOBS, PREFECTURE, "2021-06", 1, "累计")]), catalog, dt.date(2021, 7, 10))


def test_open_sdg_oracle() -> None:
    result = progress_measure(14.5, 2015, 10.4, 2023, higher_is_better=False, target=7.25, target_year=2030)
    assert result.progress_value is not None and round(result.progress_value, 5) == 0.90109
    assert result.status == "moderate_progress"
    assert result.score is not None and round(result.score, 5) == 2.15070


@pytest.mark.parametrize(
    ("kwargs", "value", "status", "score"),
    [(dict(base_value=66.6, base_year=2016, current_value=71.4, current_year=2023, higher_is_better=True,
           limit=100), 0.0099915, "moderate_progress", 1.73975),
     (dict(base_value=178.8, base_year=2015, current_value=173.3, current_year=2025, higher_is_better=False),
      0.0031195, "limited_progress", -0.94025),
     (dict(base_value=14.5, base_year=2015, current_value=7.0, current_year=2023, higher_is_better=False,
           target=7.25, target_year=2030), None, "target_achieved", 5.0)],
    ids=["cif-1-2-1-limit", "cif-1-3-1-no-target", "achieved"],
)
def test_open_sdg_golden_vectors(kwargs: dict, value: float | None, status: str, score: float) -> None:
    result = progress_measure(**kwargs)
    if value is not None:
        assert result.progress_value == pytest.approx(value, abs=5e-7)
    assert result.status == status
    assert result.score is not None and round(result.score, 5) == score
