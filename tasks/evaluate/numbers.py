"""Small exact-number and period helpers shared by evaluation, anomalies and alerts.

Values arrive as Decimal (or float from Parquet); everything derived from them (percentages, projections)
is returned as Decimal rounded to a fixed number of places, so stored statuses compare exactly between ticks.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from expectations.models import Catalog

HUNDRED = Decimal(100)
CENT = Decimal("0.01")


def to_decimal(value: Any) -> Decimal | None:
    """A value as Decimal, None when missing (None, NaN, empty); floats go through repr (no 0.1 noise)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return None if value.is_nan() else value
    if isinstance(value, float):
        return None if math.isnan(value) else Decimal(repr(value))
    if isinstance(value, int):
        return Decimal(value)
    text = str(value).strip()
    if not text:
        return None
    try:
        out = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"数值 {value!r} 不是数字 / value {value!r} is not a number") from exc
    return None if out.is_nan() else out


def q2(value: Decimal | float | None) -> Decimal | None:
    """Round a derived figure (percentage, projection) to 2 places, half-even; None stays None."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        value = Decimal(repr(value))
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def fmt_num(value: Decimal | float | int | None, places: int = 2) -> str:
    """A number as a person writes it: no exponent, at most `places` decimals, no trailing zeros."""
    if value is None:
        return "—"
    d = to_decimal(value)
    if d is None:
        return "—"
    d = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def parse_period(period: str) -> tuple[int, int]:
    """'YYYY-MM' → (year, month); a clear error otherwise."""
    try:
        year, month = int(period[:4]), int(period[5:7])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"期别 {period!r} 应为 YYYY-MM / period {period!r} must be YYYY-MM") from exc
    if len(period) != 7 or period[4] != "-" or not 1 <= month <= 12:
        raise ValueError(f"期别 {period!r} 应为 YYYY-MM / period {period!r} must be YYYY-MM")
    return year, month


def period_of(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def period_zh(period: str) -> str:
    """'2021-06' → '2021年6月'."""
    year, month = parse_period(period)
    return f"{year}年{month}月"


def unit_label(catalog: Catalog, unit_id: str) -> str:
    """How a canonical unit is written in text: its factor-1 symbol (人, %, ‰), else its name."""
    for unit in catalog.units:
        if unit.canonical == unit_id and unit.factor == 1:
            return unit.symbol
    for canonical in catalog.canonical_units:
        if canonical.id == unit_id:
            return canonical.name_zh
    return unit_id


def county_label(catalog: Catalog, code: str | None) -> str:
    if code is None:
        return ""
    try:
        return catalog.county(code).name_zh
    except KeyError:
        return code


def department_label(catalog: Catalog, slug: str | None) -> str:
    if slug is None:
        return ""
    try:
        return catalog.department(slug).name_zh
    except KeyError:
        return slug
