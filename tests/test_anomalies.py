"""Anomaly detection: robust jumps, same month last year, ytd decreases, unit slips, flat lines, parts vs
totals, county outliers — and quiet when nothing is wrong."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expectations.loader import load_catalog
from expectations.models import Catalog
from tasks.anomalies import ANOMALY_COLUMNS, anomalies, causal_robust_z, robust_z

CATALOG_DIR = Path(__file__).parent / "cases" / "good_catalog_small"
PREFECTURE = "532300"
JOBS = "employment.new_urban_jobs"
RATE = "employment.urban_unemployment_rate"
MMR = "health.maternal_mortality_rate"
AIR = "ecology.air_quality_good_days_ratio"
COMMUNITIES = "housing.old_communities"
AS_OF = dt.date(2021, 12, 20)
_CATALOG = load_catalog(CATALOG_DIR)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return _CATALOG


def history(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (target_id, county_code, period, value[, basis])."""
    return pd.DataFrame([{"target_id": t, "county_code": c, "period": p, "value": v,
                          "basis": rest[0] if rest else "ytd", "source_sha256": "cd" * 32,
                          "source_name": "drop.csv", "department": "x", "recorded_at": pd.Timestamp("2021-12-01")}
                         for t, c, p, v, *rest in rows])


def monthly(target: str, values: list, county: str = PREFECTURE, year: int = 2021, basis: str = "month",
            start: int = 1) -> list[tuple]:
    return [(target, county, f"{year}-{m:02d}", Decimal(str(v)), basis) for m, v in enumerate(values, start)]


def kinds(found: pd.DataFrame, period: str | None = None) -> set[str]:
    rows = found if period is None else found[found["period"] == period]
    return set(rows["kind"])


RATES = [5.1, 5.2, 5.0, 5.3, 5.2, 5.1, 5.2, 5.3, 5.1, 5.2]


def test_quiet_on_ordinary_data(catalog: Catalog) -> None:
    rows = monthly(RATE, RATES) + monthly(JOBS, [3000 * m + 100 * (m % 3) for m in range(1, 11)], basis="ytd")
    found = anomalies(history(rows), catalog, AS_OF)
    assert found.empty
    assert list(found.columns) == list(ANOMALY_COLUMNS)


def test_jump_in_a_level(catalog: Catalog) -> None:
    found = anomalies(history(monthly(RATE, [*RATES, 8.9])), catalog, AS_OF)
    jump = found[found["kind"] == "jump"].iloc[0]
    assert jump["period"] == "2021-11" and jump["severity"] == "warning"
    assert "8.9%" in jump["message_zh"] and "5.2%" in jump["message_zh"] and "3.7个百分点" in jump["message_zh"]
    assert jump["evidence"]["change"] == pytest.approx(3.7)
    back = anomalies(history(monthly(RATE, [*RATES, 8.9, 5.2])), catalog, AS_OF)
    assert kinds(back, "2021-12") == set()  # returning to normal is not a second jump


def test_jump_in_monthly_increments(catalog: Catalog) -> None:
    ytd = [3000, 6100, 9000, 12100, 15000, 18100, 21000, 24100, 27000, 45000]
    found = anomalies(history(monthly(JOBS, ytd, basis="ytd")), catalog, AS_OF)
    jump = found[(found["kind"] == "jump") & (found["period"] == "2021-10")].iloc[0]
    assert "当月新增18000人" in jump["message_zh"] and "中位数3050人" in jump["message_zh"]


def test_same_month_last_year(catalog: Catalog) -> None:
    last = monthly(RATE, [5.0] * 12, year=2020)
    found = anomalies(history(last + monthly(RATE, [5.1, 11.0], year=2021)), catalog, AS_OF)
    yoy = found[found["kind"] == "yoy"]
    assert list(yoy["period"]) == ["2021-02"] and yoy.iloc[0]["severity"] == "warning"
    assert "上年同月为5%" in yoy.iloc[0]["message_zh"]


@pytest.mark.parametrize(
    ("last", "flagged"), [(7.6, False), (7.1, False), (6.9, True)],
    ids=["half-a-point", "one-point-is-not-beyond-the-floor", "beyond-the-1-point-floor"])
def test_a_near_flat_rate_needs_a_meaningful_change(catalog: Catalog, last: float, flagged: bool) -> None:
    """8.1% five months then a dip: the MAD of the history is 0, so only the floor (1 percentage point,
    10% of the 5.5% target, 5% of the level) keeps a 0.5-point wobble quiet."""
    found = anomalies(history(monthly(RATE, [8.1] * 5 + [last])), catalog, AS_OF)
    assert ("jump" in kinds(found, "2021-06")) == flagged


def test_a_jump_needs_four_earlier_changes(catalog: Catalog) -> None:
    short = anomalies(history(monthly(RATE, [5.1, 5.2, 5.1, 5.2, 8.9])), catalog, AS_OF)
    assert "jump" not in kinds(short)
    longer = anomalies(history(monthly(RATE, [5.2, 5.1, 5.2, 5.1, 5.2, 8.9])), catalog, AS_OF)
    assert kinds(longer, "2021-06") == {"jump"}


def test_a_months_verdict_does_not_change_with_later_months(catalog: Catalog) -> None:
    """July is judged on January–July; a volatile autumn (which would widen a whole-year MAD) cannot
    reverse it, so the alert does not resolve and reopen as history grows."""
    steady = [5.0, 5.1, 5.0, 5.1, 5.0, 5.1, 6.6]
    july = anomalies(history(monthly(RATE, steady)), catalog, AS_OF)
    year = anomalies(history(monthly(RATE, [*steady, 3.0, 8.0, 3.5, 8.5, 3.0])), catalog, AS_OF)
    assert kinds(july, "2021-07") == kinds(year, "2021-07") == {"jump"}


def test_increments_of_a_lumpy_count_are_not_jumps(catalog: Catalog) -> None:
    """Projects completed in twos and threes: the typical month adds nothing, so a month adding 40 is
    progress (judged by 序时进度), not an anomaly."""
    found = anomalies(history(monthly(COMMUNITIES, [0, 0, 0, 40, 40, 40, 80], basis="ytd")), catalog, AS_OF)
    assert "jump" not in kinds(found)


def test_ytd_decrease_is_critical(catalog: Catalog) -> None:
    found = anomalies(history(monthly(JOBS, [3000, 7000, 6500], basis="ytd")), catalog, AS_OF)
    row = found[found["kind"] == "ytd_decrease"].iloc[0]
    assert row["period"] == "2021-03" and row["severity"] == "critical"
    assert "6500人" in row["message_zh"] and "7000人" in row["message_zh"] and "不应下降" in row["message_zh"]
    assert kinds(found, "2021-03") == {"ytd_decrease"}  # not also reported as a jump


@pytest.mark.parametrize(
    ("rows", "period", "needle"),
    [(monthly(MMR, [16, 15, 17, 16, 160]), "2021-05", "10倍"),
     (monthly(MMR, [16, 15, 17, 16, 1.6]), "2021-05", "1/10"),
     (monthly(JOBS, [3000, 7000, 13900, Decimal("1.39")], basis="ytd"), "2021-04", "1/1万")],
    ids=["per-100k-vs-per-10k", "tenth", "persons-vs-wan-persons"],
)
def test_unit_slips_against_history(catalog: Catalog, rows: list[tuple], period: str, needle: str) -> None:
    found = anomalies(history(rows), catalog, AS_OF)
    assert kinds(found, period) == {"unit_slip"}  # the slip explains the jump / decrease too
    message = found[found["kind"] == "unit_slip"].iloc[0]["message_zh"]
    assert needle in message and "单位" in message


def test_unit_slip_against_peers(catalog: Catalog) -> None:
    rows = [(AIR, code, "2021-06", Decimal("96.5") + i % 3, "ytd") for i, code in enumerate(catalog.county_codes)]
    rows[3] = (AIR, rows[3][1], "2021-06", Decimal("9.75"), "ytd")
    found = anomalies(history(rows), catalog, AS_OF)
    slip = found[found["kind"] == "unit_slip"]
    assert list(slip["county_code"]) == [rows[3][1]]
    assert "其他县市同期数值的中位数" in slip.iloc[0]["message_zh"]
    assert "peer_outlier" not in kinds(found)


def test_a_county_is_compared_relative_to_its_own_target() -> None:
    """楚雄市 and 禄丰 aim at 100% sewage coverage, the others at 20%: 100% there is on target, not an
    outlier; 南华 at 60% of a 20% target is."""
    real = load_catalog()
    sewage = "ecology.town_sewage_coverage"
    values = {code: Decimal("20.2") + Decimal(i % 3) / 10 for i, code in enumerate(real.county_codes)}
    values.update({"532301": Decimal(100), "532331": Decimal(100)})
    rows = [(sewage, code, "2021-06", v) for code, v in values.items()]
    assert anomalies(history(rows), real, AS_OF).empty
    rows = [(sewage, code, "2021-06", Decimal(60) if code == "532324" else v) for code, v in values.items()]
    found = anomalies(history(rows), real, AS_OF)
    assert list(zip(found["kind"], found["county_code"], strict=True)) == [("peer_outlier", "532324")]
    assert "按各县市自身目标折算" in found.iloc[0]["message_zh"]


def test_a_lasting_outlier_is_reported_for_the_latest_month_only(catalog: Catalog) -> None:
    base = [96.5, 97.0, 97.5, 96.8, 97.2, 96.9, 97.1, 97.0, 97.3, 96.7]
    rows = [(AIR, code, f"2021-{m:02d}", Decimal("80.0") if i == 7 else Decimal(str(v)), "ytd")
            for m in (4, 5, 6) for i, (code, v) in enumerate(zip(catalog.county_codes, base, strict=True))]
    found = anomalies(history(rows), catalog, AS_OF)
    assert list(zip(found["kind"], found["period"], strict=True)) == [("peer_outlier", "2021-06")]


def test_county_far_from_its_peers(catalog: Catalog) -> None:
    values = [96.5, 97.0, 97.5, 96.8, 97.2, 96.9, 97.1, 80.0, 97.3, 96.7]
    rows = [(AIR, code, "2021-06", Decimal(str(v)), "ytd")
            for code, v in zip(catalog.county_codes, values, strict=True)]
    found = anomalies(history(rows), catalog, AS_OF)
    assert list(found["kind"]) == ["peer_outlier"]
    row = found.iloc[0]
    assert row["county_code"] == catalog.county_codes[7] and "80%" in row["message_zh"]
    assert "10个县市的中位数" in row["message_zh"]


@pytest.mark.parametrize(
    ("target", "values", "basis", "flagged"),
    [(RATE, [5.1, 5.3, 5.3, 5.3, 5.3], "month", False),
     (RATE, [5.1, 5.25, 5.25, 5.25, 5.25], "month", True),
     (RATE, [5.1, 5.25, 5.25, 5.25], "month", False),
     (RATE, [5.25, 5.25, 5.25, 5.25, 5.4], "month", False),
     (JOBS, [3000, 6000, 9000, 9000, 9000], "ytd", True),
     (JOBS, [3000, 6000, 9000, 9000], "ytd", False),
     (COMMUNITIES, [10, 10, 20, 20, 20], "ytd", False),
     (JOBS, [20000, 40000, 40000, 40000], "ytd", False)],
    ids=["stable-rate-is-legitimate", "precise-level-four-months", "precise-level-three-months", "run-ended",
         "growth-stopped-three-reports", "growth-stopped-two-reports", "lumpy-count-was-never-steady",
         "target-reached"],
)
def test_flat_lines(catalog: Catalog, target: str, values: list[float], basis: str, flagged: bool) -> None:
    found = anomalies(history(monthly(target, values, basis=basis)), catalog, AS_OF)
    flats = found[found["kind"] == "flat_line"]
    assert len(flats) == int(flagged)
    if flagged:
        row = flats.iloc[0]
        assert row["period"] == ("2021-02" if target == RATE else "2021-03")  # the run's first month
        assert row["severity"] == "warning"
        assert ("5.25%" if target == RATE else "9000人") in row["message_zh"]
        assert ("精确到末位" if target == RATE else "此前每月都有增长") in row["message_zh"]


def test_flat_line_at_a_bound_is_not_suspicious(catalog: Catalog) -> None:
    found = anomalies(history(monthly(AIR, ["100.00"] * 5, county="532301", basis="ytd")), catalog, AS_OF)
    assert "flat_line" not in kinds(found)


@pytest.mark.parametrize(
    ("county_values", "total", "flagged", "needle"),
    [([20] * 10, 200, False, ""), ([20] * 10, 190, True, "多10个"), ([20] * 10, 210, True, "少10个"),
     ([20] * 9, 200, False, ""), ([30] * 9, 200, True, "已报送的9个县市合计270个")],
    ids=["adds-up", "parts-exceed", "parts-short", "partial-below-total", "partial-above-total"],
)
def test_parts_against_prefecture_total(catalog: Catalog, county_values: list[int], total: int, flagged: bool,
                                        needle: str) -> None:
    rows = [(COMMUNITIES, code, "2021-06", Decimal(v))
            for code, v in zip(catalog.county_codes, county_values, strict=False)]
    rows.append((COMMUNITIES, PREFECTURE, "2021-06", Decimal(total)))
    found = anomalies(history(rows), catalog, AS_OF)
    parts = found[found["kind"] == "parts_sum"]
    assert len(parts) == int(flagged)
    if flagged:
        assert needle in parts.iloc[0]["message_zh"] and f"全州数{total}个" in parts.iloc[0]["message_zh"]


def test_only_the_plan_year_up_to_as_of(catalog: Catalog) -> None:
    rows = monthly(JOBS, [3000, 7000, 6500], basis="ytd", year=2020) + monthly(RATE, [*RATES, 8.9])
    found = anomalies(history(rows), catalog, dt.date(2021, 10, 15))
    assert found.empty  # the 2020 decrease is history; the November jump is not known in October


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(min_value=300, max_value=900), min_size=5, max_size=11, unique=True))
def test_no_anomaly_when_the_value_equals_the_history_median(values: list[int]) -> None:
    hist = [Decimal(v) / 100 for v in values]
    median = Decimal(str(float(np.median([float(v) for v in hist]))))
    rows = monthly(RATE, [*hist, median])
    found = anomalies(history(rows), _CATALOG, AS_OF)
    last = f"2021-{len(hist) + 1:02d}"
    assert found[found["period"] == last].empty


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(min_value=-10_000, max_value=10_000), min_size=1, max_size=30),
       st.integers(min_value=-1_000_000, max_value=1_000_000))
def test_robust_z_is_invariant_to_adding_a_constant(values: list[int], shift: int) -> None:
    series = pd.Series(values, dtype=float)
    before, after = robust_z(series), robust_z(series + shift)
    assert np.allclose(before.to_numpy(), after.to_numpy(), equal_nan=True)
    assert (np.isinf(before) == np.isinf(after)).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=-1_000, max_value=1_000), min_size=1, max_size=15))
def test_causal_robust_z_is_the_robust_z_of_the_past(values: list[int]) -> None:
    """Each month is scored against the months up to it only: the same as robust_z over that prefix."""
    frame = pd.DataFrame({"s": ["a"] * len(values), "mi": range(len(values)), "v": [float(v) for v in values]})
    causal = causal_robust_z(frame, "v", ["s"], "mi")
    for k in range(len(values)):
        expected = robust_z(frame["v"].iloc[: k + 1]).iloc[k]
        assert causal["z"].iloc[k] == pytest.approx(expected, nan_ok=True)
        assert causal["n"].iloc[k] == k + 1
