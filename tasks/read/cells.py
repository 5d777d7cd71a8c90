"""Render typed spreadsheet cells as exact text, so the normalizer parses every source the same way."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

EXCEL_ERRORS = frozenset({"#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#GETTING_DATA",
                          "#SPILL!", "#CALC!"})


def plain_decimal(d: Decimal) -> str:
    """A Decimal as plain positional text without trailing zeros: 95.300 → "95.3", 1E+4 → "10000"."""
    if d.is_nan() or d.is_infinite():
        return str(d)
    if d == 0:
        return "0"
    text = format(d.normalize(), "f")
    return text


_QUOTED = re.compile(r'"[^"]*"|\\.')


def is_percent_format(number_format: str | None) -> bool:
    """Whether an Excel number format scales by 100 (a `%` outside quotes and escapes; `0.0"%"` does not)."""
    return "%" in _QUOTED.sub("", number_format or "")


def render_float(value: float) -> str:
    """A float as the shortest text that round-trips; integral values without ".0" (532301.0 → "532301")."""
    if value != value or value in (float("inf"), float("-inf")):
        return repr(value)
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def render_percent(value: float | int | Decimal) -> str:
    """A percent-formatted number as Excel shows it, exactly: 0.953 → "95.3%"."""
    exact = Decimal(str(value)) if not isinstance(value, Decimal) else value
    return plain_decimal(exact * 100) + "%"


def render_datetime(value: dt.datetime | dt.date | dt.time) -> str:
    """A date cell as an ISO date; a datetime keeps its time only when it is not midnight."""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat()
    return value.isoformat()


def render_value(value: object, percent: bool = False) -> str | None:
    """Any cell value of openpyxl, xlrd or pyarrow as text (None for an empty cell)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | Decimal) and percent:
        return render_percent(value)
    if isinstance(value, float):
        return render_float(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return plain_decimal(value) if value.is_finite() else str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return render_datetime(value)
    if isinstance(value, dt.timedelta):
        return str(value)
    text = str(value)
    return text if text != "" else None
