"""How numbers, units and names are written in the report (Chinese conventions, exact decimals).

Values arrive in the target's canonical unit (persons, yuan, percent…); the report writes them back in the
unit the plan uses (万人, 亿元, %) by dividing by the unit's exact factor, so 13900 persons reads 1.39万人.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd

from expectations.models import Catalog, Target

DASH = "—"


def is_missing(value: Any) -> bool:
    """None, NaN, NaT and pandas NA are missing (a missing value is never shown as 0)."""
    if value is None:
        return True
    if isinstance(value, Decimal):
        return value.is_nan()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def to_decimal(value: Any) -> Decimal | None:
    """A Decimal from a Decimal, int, float or numeric string (floats via their shortest repr), or None."""
    if is_missing(value):
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def to_float(value: Any) -> float | None:
    """A float for drawing only; None if missing or not a number."""
    number = to_decimal(value)
    if number is None:
        return None
    result = float(number)
    return result if math.isfinite(result) else None


def _trimmed(number: Decimal, places: int) -> str:
    rounded = number.quantize(Decimal(1).scaleb(-places)) if places > 0 else number.quantize(Decimal(1))
    text = f"{rounded:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def number(value: Any, places: int | None = None) -> str:
    """A number for reading: thousands separators, trailing zeros dropped, a dash when missing."""
    dec = to_decimal(value)
    if dec is None:
        return DASH
    if places is None:
        places = 2 if abs(dec) >= 1 else 4
    return _trimmed(dec, places)


def points(value: Any) -> str:
    """A gap in percentage points with its sign: +12.5 / −3.0."""
    dec = to_decimal(value)
    if dec is None:
        return DASH
    text = _trimmed(abs(dec), 1)
    return text if text == "0" else ("+" if dec > 0 else "−") + text


def pct(value: Any) -> str:
    """A share already × 100, one decimal: 48.3%."""
    dec = to_decimal(value)
    return DASH if dec is None else _trimmed(dec, 1) + "%"


def written_unit(target: Target, catalog: Catalog) -> tuple[str, Decimal]:
    """The unit the plan writes for a target and the factor from it to the canonical unit (1 if unknown)."""
    factor = catalog.conversion_factor(target.unit_written, target.unit)
    if factor is not None and factor != 0:
        return target.unit_written, factor
    for canonical in catalog.canonical_units:
        if canonical.id == target.unit:
            return ("%" if canonical.id == "percent" else canonical.name_zh), Decimal(1)
    return target.unit_written, Decimal(1)


def in_written_unit(value: Any, target: Target, catalog: Catalog) -> Decimal | None:
    """A canonical value converted to the plan's unit, exactly."""
    dec = to_decimal(value)
    if dec is None:
        return None
    _, factor = written_unit(target, catalog)
    return dec / factor


def quantity(value: Any, target: Target, catalog: Catalog) -> str:
    """A canonical value written in the plan's unit: 1.39万人, 97.2%, 5‰."""
    converted = in_written_unit(value, target, catalog)
    if converted is None:
        return DASH
    symbol, _ = written_unit(target, catalog)
    return number(converted) + symbol


def target_text(target: Target, value: Any, catalog: Catalog) -> str:
    """The target as a comparison: ≥1.39万人, ≤5.5%, 360万亩±5, 完成 (milestone)."""
    if target.comparator.value == "done":
        return "完成"
    if target.comparator.value == "increase":
        return "较上年提高"
    shown = quantity(value if not is_missing(value) else target.value, target, catalog)
    if target.comparator.value == "~" and target.tolerance is not None:
        return f"{shown}（±{quantity(target.tolerance, target, catalog)}）"
    symbol = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}.get(target.comparator.value, "")
    return symbol + shown


def date_text(value: Any) -> str:
    """A date or timestamp as YYYY-MM-DD (timestamps as YYYY-MM-DD HH:MM)."""
    if is_missing(value):
        return DASH
    if isinstance(value, str):
        return value
    stamp = pd.Timestamp(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return stamp.strftime("%Y-%m-%d")
    if stamp.hour == 0 and stamp.minute == 0 and stamp.second == 0:
        return stamp.strftime("%Y-%m-%d")
    return stamp.strftime("%Y-%m-%d %H:%M")


def county_name(code: Any, catalog: Catalog) -> str:
    """A county's Chinese name; the prefecture reads 全州; an unknown code is shown as is."""
    if is_missing(code):
        return DASH
    text = str(code)
    if text == catalog.prefecture_code:
        return "全州"
    try:
        return catalog.county(text).name_zh
    except KeyError:
        return text


def department_name(slug: Any, catalog: Catalog) -> str:
    """A department's Chinese name, or the slug when the catalog does not know it."""
    if is_missing(slug):
        return DASH
    try:
        return catalog.department(str(slug)).name_zh
    except KeyError:
        return str(slug)


def target_name(target_id: Any, catalog: Catalog) -> str:
    """A target's Chinese name, or its id when the catalog does not know it."""
    if is_missing(target_id):
        return DASH
    try:
        return catalog.target(str(target_id)).name_zh
    except KeyError:
        return str(target_id)


def text(value: Any) -> str:
    """Any cell as display text; missing → dash."""
    return DASH if is_missing(value) else str(value)
