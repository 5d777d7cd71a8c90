"""The AQI arithmetic (HJ 633-2012) and the validity rules (GB 3095-2012, HJ 663-2013), on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tasks.aq import standard
from tasks.aq.daily import mean_24h, o3_daily, o3_running_8h, score, station_days
from tasks.aq.feed import AqFeed

NAN = float("nan")


def _iaqi(value: float, pollutant: str) -> float:
    return float(standard.iaqi(standard.round_concentration(np.array([value]), pollutant), pollutant)[0])


@pytest.mark.parametrize(("pollutant", "concentration", "expected"), [
    ("pm25", 0, 0), ("pm25", 35, 50), ("pm25", 35.4, 50), ("pm25", 34.5, 49), ("pm25", 35.5, 52),
    ("pm25", 36, 52), ("pm25", 39, 55), ("pm25", 75, 100), ("pm25", 76, 102), ("pm25", 115, 150),
    ("pm25", 150, 200), ("pm25", 250, 300), ("pm25", 350, 400), ("pm25", 500, 500), ("pm25", 501, 500),
    ("pm25", 900, 500),
    ("pm10", 50, 50), ("pm10", 51, 51), ("pm10", 150, 100), ("pm10", 420, 300), ("pm10", 600, 500),
    ("so2", 50, 50), ("so2", 150, 100), ("so2", 475, 150), ("so2", 2620, 500),
    ("no2", 40, 50), ("no2", 80, 100), ("no2", 81, 101), ("no2", 940, 500),
    ("co", 0.3, 8), ("co", 2, 50), ("co", 2.05, 50), ("co", 2.15, 55), ("co", 4, 100), ("co", 14, 150),
    ("co", 60, 500),
    ("o3_8h", 100, 50), ("o3_8h", 160, 100), ("o3_8h", 161, 101), ("o3_8h", 265, 200), ("o3_8h", 800, 300),
    ("o3_1h", 160, 50), ("o3_1h", 200, 100), ("o3_1h", 201, 101), ("o3_1h", 1200, 500),
], ids=lambda v: str(v))
def test_iaqi_at_and_around_breakpoints(pollutant: str, concentration: float, expected: int) -> None:
    # 35.5 rounds half-even to 36 → 50 + 50·1/40 = 51.25 → up to 52; 34.5 → 34 → 48.57 → 49; 39 → exactly 55.
    assert _iaqi(concentration, pollutant) == expected


def test_o3_8h_above_800_is_not_indexed_so_the_1h_index_reports_it() -> None:
    assert np.isnan(_iaqi(801, "o3_8h"))
    iaqis, aqi = standard.daily_aqi({"o3_8h": np.array([801.0]), "o3_1h": np.array([1000.0])})
    assert aqi[0] == 400


def test_missing_concentration_has_no_index() -> None:
    assert np.isnan(standard.iaqi(np.array([NAN]), "pm25")[0])


@pytest.mark.parametrize(("value", "expected"), [(4.5, 4), (5.5, 6), (4.4999999999999996, 4), (4.51, 5),
                                                 (0.45 * 10, 4), (-0.5, -0.0), (35.5, 36), (36.5, 36)],
                         ids=str)
def test_round_half_even_treats_float_noise_at_a_half_as_the_half(value: float, expected: float) -> None:
    assert standard.round_half_even(np.array([value]))[0] == expected


@pytest.mark.parametrize(("aqi", "level"), [(0, 1), (50, 1), (51, 2), (100, 2), (101, 3), (150, 3), (151, 4),
                                            (200, 4), (201, 5), (300, 5), (301, 6), (500, 6), (NAN, 0)], ids=str)
def test_category_levels(aqi: float, level: int) -> None:
    assert standard.category(np.array([aqi]))[0] == level
    if level:
        assert standard.CATEGORY_ZH[level - 1] in ("优", "良", "轻度污染", "中度污染", "重度污染", "严重污染")


def test_aqi_is_the_max_iaqi_and_primary_pollutants_tie_only_above_50() -> None:
    rounded = {"pm25": np.array([35.0, 75.0, 20.0]), "pm10": np.array([10.0, 150.0, 50.0]),
               "so2": np.array([5.0, 5.0, 5.0])}
    iaqis, aqi = standard.daily_aqi(rounded)
    assert list(aqi) == [50, 100, 50]
    primary = standard.primary_pollutants(iaqis, aqi)
    assert list(primary) == ["", "PM10,PM2.5", ""]  # AQI 50 (优) has no primary pollutant


def test_24h_mean_needs_20_valid_hours() -> None:
    day19 = np.r_[np.full(19, 30.0), np.full(5, NAN)]
    day20 = np.r_[np.full(20, 30.0), np.full(4, NAN)]
    means, hours = mean_24h(np.r_[day19, day20][None, :])
    assert list(hours[0]) == [19, 20]
    assert np.isnan(means[0, 0]) and means[0, 1] == 30


def test_8h_mean_needs_6_valid_hours() -> None:
    x = np.r_[np.full(6, 80.0), NAN, NAN, np.full(5, 80.0), NAN, NAN, NAN]
    running = o3_running_8h(x)
    assert running[7] == 80  # hours 0-7: six valid
    assert np.isnan(running[15])  # hours 8-15: five valid


def test_o3_8h_means_across_midnight_but_daily_max_stays_in_its_day() -> None:
    # Day 1 is clean except a 20:00-24:00 ozone episode at 300; day 2 is clean all day.
    day1 = np.r_[np.full(20, 50.0), np.full(4, 300.0)]
    day2 = np.full(24, 50.0)
    hourly = np.r_[day1, day2]
    running = o3_running_8h(hourly)
    # The running mean ending after 02:00 of day 2 spans 19:00 day 1 … 02:00 day 2: it crosses midnight.
    assert running[24 + 2] == (4 * 300 + 4 * 50) / 8 == 175
    max8, windows, max1, hours = o3_daily(hourly[None, :])
    # Daily max 8-hour uses the 17 windows ending 08:00 … 24:00 of the day (HJ 663-2013): day 1's last window
    # (16:00-24:00) catches the episode; none of day 2's windows reach back into day 1's evening.
    assert list(max8[0]) == [175, 50]
    assert list(windows[0]) == [17, 17]
    assert list(max1[0]) == [300, 50]


def test_o3_daily_max_needs_14_windows_unless_it_already_exceeds_160() -> None:
    def day(valid_hours: int, level: float) -> np.ndarray:
        return np.r_[np.full(valid_hours, level), np.full(24 - valid_hours, NAN)]

    # 19 valid hours from 00:00 → windows starting 0…13 have ≥ 6 valid hours… count them exactly:
    max8, windows, _, _ = o3_daily(np.r_[day(19, 100.0), day(18, 100.0), day(18, 200.0)][None, :])
    assert list(windows[0]) == [14, 13, 13]
    assert max8[0, 0] == 100  # 14 windows: valid
    assert np.isnan(max8[0, 1])  # 13 windows at 100: not valid
    assert max8[0, 2] == 200  # 13 windows, but above the 160 µg/m³ limit: still valid


def _hourly_feed(hours: int, **values: np.ndarray | float) -> AqFeed:
    times = pd.date_range("2021-03-01", periods=hours, freq="h").to_numpy()
    frame = pd.DataFrame({"station": pd.Categorical(["A"] * hours), "time": times})
    for p in ("pm25", "pm10", "so2", "no2", "co", "o3"):
        frame[p] = np.broadcast_to(np.asarray(values.get(p, 10.0), dtype=float), (hours,)).copy()
    return AqFeed(frame, "hourly", "mg/m3")


def test_station_day_with_19_pm25_hours_is_not_valid_and_with_20_is() -> None:
    pm25 = np.r_[np.full(19, 40.0), np.full(5, NAN), np.full(20, 40.0), np.full(4, NAN)]
    days = score(station_days(_hourly_feed(48, pm25=pm25, co=0.5)))
    assert list(days["pm25_n"]) == [19, 20]
    assert list(days["valid"]) == [False, True]
    assert np.isnan(days["aqi"].iloc[0])
    # Day 2: PM2.5 40 → 50 + 50·5/40 = 56.25 → 57, the largest IAQI; O3 10 → 5; CO 0.5 → 13.
    assert days["aqi"].iloc[1] == 57 and days["primary"].iloc[1] == "PM2.5"
    assert days["level"].iloc[1] == 2


def test_complete_sorted_grid_and_scattered_rows_give_the_same_days() -> None:
    # A complete station × hour grid in order is reduced in place; any other order is scattered first.
    rng = np.random.default_rng(7)
    hours, stations = 72, ["A", "B", "C"]
    times = np.tile(pd.date_range("2021-03-01", periods=hours, freq="h").to_numpy(), len(stations))
    frame = pd.DataFrame({"station": pd.Categorical(np.repeat(stations, hours)), "time": times})
    for p in ("pm25", "pm10", "so2", "no2", "co", "o3"):
        values = rng.gamma(2.0, 30.0, len(frame)).round(0 if p != "co" else 1)
        values[rng.random(len(frame)) < 0.15] = np.nan
        frame[p] = values
    ordered = AqFeed(frame, "hourly", "mg/m3")
    assert ordered.grid().complete
    shuffled = AqFeed(frame.sample(frac=1, random_state=1), "hourly", "mg/m3")
    assert not shuffled.grid().complete
    a, b = score(station_days(ordered)), score(station_days(shuffled))
    pd.testing.assert_frame_equal(a, b)
    assert a["valid"].any() and not a["valid"].all()
