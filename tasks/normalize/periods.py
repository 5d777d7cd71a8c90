"""Reporting periods as departments write them, to "YYYY-MM" — or a clear refusal, never a guess.

Accepted: 2021-03, 2021-3, 2021/03, 2021.03, 2021年3月, 2021年1-3月 (the month a year-to-date figure runs to),
202103, 2021M03, ISO dates and datetimes (the day is ignored), Excel serial dates (44256 → 2021-03) in the
period column, and a bare month (3月, 三月, March) when a default year is known. `2021.1` is refused: Excel
turns 2021.10 into 2021.1, so it may be January or October.
"""

from __future__ import annotations

import datetime as dt
import re

from tasks.normalize.problems import ParseProblem, nfkc

SERIAL_MIN, SERIAL_MAX = 36526, 55000  # Excel serials of 2000-01-01 … 2050-07-30
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_YEARS = range(2000, 2101)
_CN_MONTHS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
              "十一": 11, "十二": 12, "正": 1, "冬": 11, "腊": 12}
_EN_MONTHS = {name: i for i, names in enumerate(
    (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")), start=1) for name in names}
_YM_CN = re.compile(r"^(?P<y>\d{4})\s*年\s*(?:(?:0?1|一)\s*[-~～至到]\s*)?(?P<m>\d{1,2})\s*月份?(?:\s*\d{1,2}\s*日)?$")
_YM_SEP = re.compile(r"^(?P<y>\d{4})\s*(?:[-/]|-?M)\s*(?P<m>\d{1,2})(?:\s*[-/]\s*\d{1,2})?(?:[T\s]\d.*)?$",
                     re.IGNORECASE)
_DOT = re.compile(r"^(?P<y>\d{4})\.(?P<m>\d{1,2})(?:\.\d{1,2})?$")
_COMPACT = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?:\d{2})?$")
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")
_MONTH_ONLY = re.compile(
    r"^(?:(?:0?1|一)\s*[-~～至到]\s*)?(?P<m>\d{1,2}|[一二三四五六七八九十]{1,3}|[正冬腊])\s*月份?$")
_EN = re.compile(r"^(?P<a>[a-z]+)\.?\s*,?\s*(?P<y>\d{4})$|^(?P<y2>\d{4})\s*[-/ ]?\s*(?P<b>[a-z]+)\.?$", re.I)
YEAR_IN_TEXT = re.compile(r"(20\d{2})\s*年")
YEAR_MONTH_IN_TEXT = re.compile(r"(20\d{2})\s*(?:年\s*(?:1\s*[-~～至到]\s*)?(\d{1,2})\s*月|[-/.](\d{1,2})(?!\d))")


def _bad(text: str, why_zh: str = "", why_en: str = "") -> ParseProblem:
    return ParseProblem(
        "bad_period",
        f"不是有效的月份{why_zh}；请写成2021-03或2021年3月这样的年月。",
        f"is not a valid month{why_en}; write a year and month such as 2021-03 or 2021年3月.",
    )


def _month(year: int, month: int, text: str) -> str:
    if year not in _YEARS:
        raise _bad(text, f"（年份{year}不合理）", f" (year {year} is implausible)")
    if not 1 <= month <= 12:
        raise _bad(text, f"（没有{month}月）", f" (there is no month {month})")
    return f"{year:04d}-{month:02d}"


def _cn_month(word: str) -> int:
    return int(word) if word.isdigit() else _CN_MONTHS.get(word, 0)


def parse_period(text: str, *, default_year: int | None = None, is_date_cell: bool = False) -> str:
    """Parse a period cell to "YYYY-MM".

    `default_year` completes a bare month (3月); the caller says which year it assumed. `is_date_cell` admits any
    Excel serial number (the cell was date-typed); otherwise only the plausible range 36526–55000 is read as a
    serial. Raises ParseProblem with code ambiguous_period, bad_period or missing_period.
    """
    s = nfkc(text)
    if not s:
        raise ParseProblem("missing_period", "缺少月份，请填写报告期，如2021-03。",
                           "has no period; fill in the reporting month, e.g. 2021-03.")
    dot = _DOT.match(s)
    if dot:
        y, m = dot.group("y"), dot.group("m")
        if m == "1" and dot.group(0) == f"{y}.1":
            raise ParseProblem(
                "ambiguous_period",
                f"有歧义（1月还是10月？），请写成{y}-01或{y}-10。",
                f"is ambiguous (January or October?); write {y}-01 or {y}-10.",
            )
        return _month(int(y), int(m), s)
    for pattern in (_YM_CN, _YM_SEP, _COMPACT):
        m = pattern.match(s)
        if m:
            return _month(int(m.group("y")), int(m.group("m")), s)
    if _SERIAL.match(s) or (is_date_cell and re.match(r"^\d+(\.\d+)?$", s)):
        serial = float(s)
        if is_date_cell or SERIAL_MIN <= serial <= SERIAL_MAX:
            day = _EXCEL_EPOCH + dt.timedelta(days=int(serial))
            return _month(day.year, day.month, s)
    en = _EN.match(s)
    if en:
        name = (en.group("a") or en.group("b")).lower()
        year = en.group("y") or en.group("y2")
        if name in _EN_MONTHS:
            return _month(int(year), _EN_MONTHS[name], s)
    only = _MONTH_ONLY.match(s) or _english_month(s)
    if only:
        month = _cn_month(only.group("m")) if isinstance(only, re.Match) else only
        if default_year is None:
            raise ParseProblem("bad_period", "只有月份没有年份，请写成2021-03这样的年月。",
                               "has a month but no year; write a year and month such as 2021-03.")
        return _month(default_year, month, s)
    raise _bad(s)


def _english_month(s: str) -> int | None:
    return _EN_MONTHS.get(s.lower().rstrip("."))


def is_bare_month(text: str) -> bool:
    """Whether a period cell names a month without a year (3月, 三月, March), so a year must be assumed."""
    s = nfkc(text)
    return bool(_MONTH_ONLY.match(s)) or _english_month(s) is not None


def year_in(text: str) -> int | None:
    """The first plausible year written as "2021年" or "2021-03" in a title, sheet name or file name."""
    m = YEAR_IN_TEXT.search(nfkc(text)) or YEAR_MONTH_IN_TEXT.search(nfkc(text))
    return int(m.group(1)) if m else None


def year_month_in(text: str) -> str | None:
    """A full year and month in a title, sheet name or file name (楚雄州2021年3月进度表 → "2021-03")."""
    for m in YEAR_MONTH_IN_TEXT.finditer(nfkc(text)):
        month = int(m.group(2) or m.group(3))
        if 1 <= month <= 12:
            return f"{int(m.group(1)):04d}-{month:02d}"
    return None
