"""The Beijing example (UCI Beijing Multi-Site Air Quality, CC BY 4.0) through the whole derivation."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tasks.aq import AqResult, load_registry, run_derivation

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "beijing"
ORIGINALS = Path("/work/shared/data/beijing-air")
# Published by the Beijing Municipal Ecology and Environment Bureau (北京市环境状况公报 2014-2016), for the
# city's full 35-station network: annual mean PM2.5 (µg/m³), days meeting the standard (达标天数, AQI ≤ 100)
# and heavy-pollution days (重污染, AQI > 200). The example has only the 12 national stations, so the figures
# are compared within a tolerance, not for equality.
PUBLISHED = {2014: (Decimal("85.9"), 172, 45), 2015: (Decimal("80.6"), 186, 46), 2016: (Decimal("73"), 198, 39)}


@pytest.fixture(scope="module")
def beijing() -> AqResult:
    registry = load_registry(EXAMPLE / "stations.yaml")
    return run_derivation(EXAMPLE / "beijing_aq.parquet", registry)


@pytest.fixture(scope="module")
def summary(beijing: AqResult) -> pd.DataFrame:
    return beijing.summary()


def test_the_compact_copy_derives_without_issues(beijing: AqResult, summary: pd.DataFrame) -> None:
    assert beijing.issues == []
    assert beijing.feed is not None and beijing.feed.grid().complete  # every station-hour, gaps as NA
    assert beijing.station_days["station"].nunique() == 12
    assert list(summary["area"].unique()) == ["110000"]
    yearly = summary[summary["month"].isna()]
    assert list(yearly["year"]) == [2013, 2014, 2015, 2016, 2017]
    assert len(summary) == 48 + 5  # 2013-03 … 2017-02 plus one row per year


def test_months_add_up_to_their_year(summary: pd.DataFrame) -> None:
    monthly = summary.dropna(subset=["month"])
    yearly = summary[summary["month"].isna()].set_index("year")
    for column in ("valid_days", "good_days", "heavy_days", "pm25_days"):
        sums = monthly.groupby("year")[column].sum()
        assert (sums == yearly[column]).all(), column


def test_ratios_are_good_over_valid_to_one_decimal(summary: pd.DataFrame) -> None:
    for row in summary.itertuples():
        expected = (Decimal(100 * row.good_days) / Decimal(row.valid_days)).quantize(Decimal("0.1"),
                                                                                   ROUND_HALF_EVEN)
        assert row.good_ratio_pct == expected
        assert 0 <= row.good_days <= row.valid_days <= 31 * (12 if pd.isna(row.month) else 1)


def test_yearly_pm25_is_the_mean_of_daily_means(beijing: AqResult, summary: pd.DataFrame) -> None:
    days = beijing.area_days
    yearly = summary[summary["month"].isna()].set_index("year")
    monthly = summary.dropna(subset=["month"])
    for year, group in days.groupby(days["date"].dt.year):
        values = group["pm25"].dropna()
        assert (values == values.round()).all()  # published daily values are whole µg/m³
        exact = Decimal(int(values.sum())) / Decimal(len(values))
        assert yearly.loc[year, "pm25_mean"] == exact.quantize(Decimal("0.1"), ROUND_HALF_EVEN)
        months = monthly[monthly["year"] == year]
        weighted = sum(Decimal(str(m)) * n for m, n in zip(months["pm25_mean"], months["pm25_days"], strict=True))
        # Monthly means are rounded to 0.1: their day-weighted mean is within 0.05 of the yearly one.
        assert abs(weighted / int(months["pm25_days"].sum()) - exact) <= Decimal("0.05")


def test_daily_values_are_consistent(beijing: AqResult) -> None:
    days = beijing.area_days
    valid = days[days["valid"]]
    iaqi = valid[[c for c in valid.columns if c.endswith("_iaqi")]].max(axis=1)
    assert (iaqi == valid["aqi"]).all()
    assert ((valid["aqi"] > 50) == (valid["primary"] != "")).all()
    assert days.loc[~days["valid"], "aqi"].isna().all()
    assert (days["stations"] <= 12).all()


@pytest.mark.parametrize("year", sorted(PUBLISHED), ids=str)
def test_close_to_the_published_beijing_figures(summary: pd.DataFrame, year: int) -> None:
    pm25, good_days, heavy_days = PUBLISHED[year]
    row = summary[(summary["year"] == year) & summary["month"].isna()].iloc[0]
    days_in_year = 366 if year % 4 == 0 else 365
    published_ratio = Decimal(100 * good_days) / days_in_year
    assert abs(row.pm25_mean - pm25) <= 3, (row.pm25_mean, pm25)
    assert abs(row.good_ratio_pct - published_ratio) <= 2, (row.good_ratio_pct, published_ratio)
    assert abs(row.heavy_days - heavy_days) <= 3, (row.heavy_days, heavy_days)


def test_observations_for_the_catalog_targets(beijing: AqResult) -> None:
    obs = beijing.observations(drop_sha256="0" * 64, source="beijing_aq.parquet")
    ytd = obs[(obs["basis"] == "ytd") & (obs["target_id"] == "ecology.air_quality_good_days_ratio")]
    december = ytd.set_index("period")["value"]
    summary = beijing.summary().set_index(["year", "month"], drop=False)
    for year in (2014, 2015, 2016):
        yearly = summary[(summary["year"] == year) & summary["month"].isna()].iloc[0]
        assert december[f"{year}-12"] == yearly["good_ratio_pct"]  # December's year-to-date is the year


@pytest.mark.skipif(not ORIGINALS.is_dir(), reason="the original UCI CSVs are not at /work/shared/data/beijing-air")
def test_compact_copy_matches_an_original_csv() -> None:
    original = pd.read_csv(next(ORIGINALS.glob("PRSA_Data_Dongsi_*.csv")), na_values=["NA"], keep_default_na=False)
    compact = pd.read_parquet(EXAMPLE / "beijing_aq.parquet")
    compact = compact[compact["station"] == "Dongsi"].reset_index(drop=True)
    assert len(compact) == len(original) == 35064
    times = pd.to_datetime(original[["year", "month", "day", "hour"]])
    assert (compact["time"].to_numpy() == times.to_numpy()).all()
    for source, column in (("PM2.5", "PM2.5"), ("PM10", "PM10"), ("SO2", "SO2"), ("NO2", "NO2"),
                           ("CO", "CO(ug/m3)"), ("O3", "O3")):
        expected = original[source].to_numpy(np.float32, na_value=np.nan)
        actual = compact[column].to_numpy(np.float32, na_value=np.nan)
        assert np.array_equal(np.isnan(expected), np.isnan(actual)), source
        assert np.array_equal(expected[~np.isnan(expected)], actual[~np.isnan(actual)]), source


@pytest.mark.skipif(not ORIGINALS.is_dir(), reason="the original UCI CSVs are not at /work/shared/data/beijing-air")
def test_compact_copy_and_original_csvs_give_the_same_days(beijing: AqResult) -> None:
    original = run_derivation(ORIGINALS, load_registry(EXAMPLE / "stations.yaml"))
    assert original.issues == []
    pd.testing.assert_frame_equal(original.area_days, beijing.area_days)
