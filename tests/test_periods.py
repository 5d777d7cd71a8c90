"""Period parsing: every way a month is written becomes "YYYY-MM", and ambiguity is refused, never guessed."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tasks.normalize import ParseProblem, parse_period
from tasks.normalize.periods import is_bare_month, year_in, year_month_in


@pytest.mark.parametrize(("text", "period"), [
    ("2021-03", "2021-03"), ("2021-3", "2021-03"), ("2021/03", "2021-03"), ("2021/3", "2021-03"),
    ("2021年3月", "2021-03"), ("2021年03月", "2021-03"), ("2021年3月份", "2021-03"), ("202103", "2021-03"),
    ("2021.03", "2021-03"), ("2021.3", "2021-03"), ("2021.10", "2021-10"), ("2021.12", "2021-12"),
    ("2021-03-01", "2021-03"), ("2021-03-31T00:00:00", "2021-03"), ("2021-03-15 08:30:00", "2021-03"),
    ("2021/3/15", "2021-03"), ("2021年3月15日", "2021-03"), ("20210315", "2021-03"), ("2021.1.5", "2021-01"),
    ("44256", "2021-03"), ("44256.0", "2021-03"), ("2021年1-3月", "2021-03"), ("2021年1～6月", "2021-06"),
    ("2021M03", "2021-03"), ("2021-M03", "2021-03"), ("Mar 2021", "2021-03"), ("March 2021", "2021-03"),
    ("２０２１年３月", "2021-03"), (" 2021-03 ", "2021-03"),
], ids=lambda v: str(v))
def test_parse_period(text: str, period: str) -> None:
    assert parse_period(text) == period


@pytest.mark.parametrize(("text", "code"), [
    ("2021.1", "ambiguous_period"), ("２０２１．１", "ambiguous_period"), ("2021-13", "bad_period"),
    ("2021-00", "bad_period"), ("2021年13月", "bad_period"), ("202113", "bad_period"), ("2021", "bad_period"),
    ("1999-03", "bad_period"), ("三月份上旬", "bad_period"), ("abc", "bad_period"), ("", "missing_period"),
    ("3月", "bad_period"), ("12345", "bad_period"),
], ids=lambda v: str(v))
def test_refused_periods(text: str, code: str) -> None:
    with pytest.raises(ParseProblem) as info:
        parse_period(text)
    assert info.value.code == code


def test_ambiguous_message_says_how_to_fix() -> None:
    with pytest.raises(ParseProblem) as info:
        parse_period("2021.1")
    assert "2021-01" in info.value.zh and "2021-10" in info.value.zh
    assert "January or October" in info.value.en


@pytest.mark.parametrize(("text", "period"), [("3月", "2021-03"), ("03月", "2021-03"), ("三月", "2021-03"),
                                              ("十二月", "2021-12"), ("1-3月", "2021-03"), ("March", "2021-03")])
def test_bare_month_takes_the_default_year(text: str, period: str) -> None:
    assert is_bare_month(text)
    assert parse_period(text, default_year=2021) == period


def test_serial_only_when_plausible_or_a_date_cell() -> None:
    assert parse_period("44256") == "2021-03"
    with pytest.raises(ParseProblem):
        parse_period("30000")  # 1982: outside 36526–55000, not a date cell
    with pytest.raises(ParseProblem) as info:
        parse_period("30000", is_date_cell=True)
    assert info.value.code == "bad_period"  # a real 1982 date, but not a plausible reporting year


def test_years_and_months_in_titles() -> None:
    assert year_month_in("楚雄州2021年3月民生工程进度表") == "2021-03"
    assert year_month_in("人社局_2021-04_月报.xlsx") == "2021-04"
    assert year_month_in("2021年1-5月累计") == "2021-05"
    assert year_month_in("民生工程进度表") is None
    assert year_in("2021年民生工程") == 2021
    assert year_in("进度表") is None


@given(st.integers(2000, 2100), st.integers(1, 12), st.booleans())
def test_every_chinese_year_month_parses(year: int, month: int, pad: bool) -> None:
    m = f"{month:02d}" if pad else str(month)
    expected = f"{year}-{month:02d}"
    assert parse_period(f"{year}年{m}月") == expected
    assert parse_period(f"{year}-{m}") == expected
    assert parse_period(f"{year}/{m}") == expected
    assert parse_period(f"{year}{month:02d}") == expected


@given(st.integers(2000, 2100), st.integers(13, 99))
def test_invalid_months_are_refused(year: int, month: int) -> None:
    for text in (f"{year}年{month}月", f"{year}-{month}", f"{year}{month}"):
        with pytest.raises(ParseProblem) as info:
            parse_period(text)
        assert info.value.code == "bad_period"


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2050, 7, 30)))
def test_excel_serials_give_their_month(day: dt.date) -> None:
    serial = (day - dt.date(1899, 12, 30)).days
    assert parse_period(str(serial)) == f"{day.year}-{day.month:02d}"
    assert parse_period(day.isoformat()) == f"{day.year}-{day.month:02d}"


@given(st.integers(2000, 2100))
def test_dot_one_is_always_ambiguous(year: int) -> None:
    with pytest.raises(ParseProblem) as info:
        parse_period(f"{year}.1")
    assert info.value.code == "ambiguous_period"
    assert parse_period(f"{year}.10") == f"{year}-10"
    assert parse_period(f"{year}.01") == f"{year}-01"
