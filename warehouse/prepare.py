"""The loader's last guard on a verdict's rows: shaped as fact_observation takes them (exact value texts,
defaults filled), with every reason a row cannot be stored. Vectorized: text columns stay categoricals, values
are worked out once per distinct value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tasks.contracts import NORMALIZED_COLUMNS, Issue, text_categorical
from warehouse.dims import decimal_text
from warehouse.loadchecks import DEC, LIMIT, located
from warehouse.models import OBSERVATION_STATUSES
from warehouse.queries import KEY

PREPARED_COLUMNS = ("target_id", "county_code", "period", "value_text", "unit", "basis", "status", "note",
                    "source_sheet", "source_row")
PERIOD_PATTERN = r"\d{4}-(0[1-9]|1[0-2])"


def _classify(value: Any) -> str | None:
    """Why one value cannot be stored (diagnosis path only), or None if it can."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "missing_value"
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"normalized values must be decimal.Decimal (or int), got {type(value).__name__} "
                        f"{value!r}: convert at the reader, never pass floats")
    number = Decimal(value)
    if not number.is_finite():
        return "missing_value"
    if abs(number) >= Decimal("1E+20"):
        return "value_out_of_range"
    if int(number.as_tuple().exponent) < -10 and number != number.quantize(Decimal("1E-10")):
        return "value_precision"
    return None


def _distinct_value_texts(values: pd.Series) -> tuple[pa.Array, pd.Series]:
    """(canonical exact text or null, issue code or None) per value; vectorized through Arrow decimals."""
    codes = pd.Series([None] * len(values), index=values.index, dtype=object)
    try:
        array = pa.array(values, type=DEC, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        codes = values.map(_classify).astype(object)
        array = pa.array(values.where(codes.isna(), None), type=DEC, from_pandas=True)
    null = pd.Series(array.is_null().to_numpy(zero_copy_only=False), index=values.index)
    codes[null & codes.isna()] = "missing_value"
    big = pd.Series(pc.greater_equal(pc.abs(array), LIMIT).fill_null(False).to_numpy(zero_copy_only=False),
                    index=values.index)
    codes[big & codes.isna()] = "value_out_of_range"
    raw = pc.cast(array, pa.string())
    # Arrow writes tiny values in scientific notation (1E-10); those are rare and converted one by one.
    scientific = pc.fill_null(pc.match_substring(raw, "E"), False)
    plain = pc.utf8_rtrim(pc.utf8_rtrim(raw, characters="0"), characters=".")  # scale 10: always has a point
    text = pc.if_else(scientific, raw, plain)
    if pc.any(scientific).as_py():
        fixed = [None if s is None else decimal_text(Decimal(s)) if "E" in s else s for s in text.to_pylist()]
        text = pa.array(fixed, pa.string())
    text = pc.if_else(pc.is_in(text, pa.array(["", "-0"])), "0", text)
    return text, codes


def _value_texts(values: pd.Series) -> tuple[pa.Array, pd.Series]:
    """(canonical exact text or null, issue code or None) per value, worked out once per distinct value.

    A drop repeats few distinct values across many rows. Only Decimal values are grouped: 1 == Decimal(1) ==
    True == 1.0 in Python, and ints, bools and floats must each keep their own verdict."""
    raw = values.to_numpy(dtype=object, na_value=None)
    kinds = set(pd.unique(np.frompyfunc(type, 1, 1)(raw))) if len(raw) else set()
    if not kinds <= {Decimal, type(None)}:
        return _distinct_value_texts(values)
    try:
        positions, distinct = pd.factorize(raw, use_na_sentinel=True)
    except TypeError:  # a signalling NaN cannot be hashed
        return _distinct_value_texts(values)
    text, codes = _distinct_value_texts(pd.Series([*distinct, None], dtype=object))
    positions = np.where(positions < 0, len(distinct), positions)  # nulls → the trailing None
    return text.take(pa.array(positions)), pd.Series(codes.to_numpy(dtype=object)[positions], index=values.index,
                                                     dtype=object)


_MESSAGES = {
    "missing_value": ("{target_id} {county_code} {period} 缺少数值（缺失值不能当作 0）。请填写数值或删除该行。",
                      "{target_id} {county_code} {period} has no value (a missing value is never 0). Fill in the "
                      "value or remove the row."),
    "value_out_of_range": ("{target_id} {county_code} {period} 的数值 {value} 超出仓库可存范围（整数部分最多20位）。"
                           "请检查单位换算。",
                           "{target_id} {county_code} {period}: value {value} is too large to store (at most 20 "
                           "integer digits). Check the unit conversion."),
    "value_precision": ("{target_id} {county_code} {period} 的数值 {value} 小数位超过10位。请四舍五入到10位以内。",
                        "{target_id} {county_code} {period}: value {value} has more than 10 decimal places. Round "
                        "it to 10 places or fewer."),
    "unknown_target": ("指标编码 {target_id} 不在仓库的指标表中。请使用目录中的指标编码（或先同步维表）。",
                       "target {target_id} is not in the warehouse's target dimension. Use a catalog target id "
                       "(or sync the dimensions first)."),
    "unknown_county": ("县市代码 {county_code} 不在仓库的县市表中。请使用6位行政区划代码。",
                       "county code {county_code} is not in the warehouse's county dimension. Use a 6-digit "
                       "administrative code."),
    "bad_period": ("期别 {period} 不是 YYYY-MM 格式。", "period {period} is not in YYYY-MM form."),
    "unit_mismatch": ("{target_id} 的数值单位为 {unit}，应换算为指标的标准单位 {expected_unit}。",
                      "{target_id}: value is in {unit}, but the target is measured in {expected_unit}; convert it."),
    "bad_basis": ("口径 {basis} 无效，只能是 ytd（累计）或 month（当月）。",
                  "basis {basis} is invalid; use ytd (year to date, 累计) or month (当月)."),
    "bad_status": ("状态 {status} 无效，只能是 provisional、final 或 revised。",
                   "status {status} is invalid; use provisional, final or revised."),
    "duplicate_key": ("{target_id} {county_code} {period} 在同一文件中出现多次。每个指标、县市、期别只能报一行。",
                      "{target_id} {county_code} {period} appears more than once in the file. Report one row per "
                      "target, county and period."),
}


def _arrow_categorical(texts: pa.Array, index: pd.Index) -> pd.Series:
    """Arrow texts (nulls kept missing) as a categorical column: one Python str per distinct text, not per row."""
    encoded = texts.dictionary_encode() if not pa.types.is_dictionary(texts.type) else texts
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    distinct = encoded.dictionary.to_numpy(zero_copy_only=False)
    return pd.Series(pd.Categorical.from_codes(codes, categories=pd.Index(distinct, dtype=object)), index=index)


def _filled(column: pd.Series, default: str) -> pd.Series:
    """`column` (categorical) with missing texts replaced by `default`."""
    if not column.isna().any():
        return column
    if default not in column.cat.categories:
        column = column.cat.add_categories([default])
    return column.fillna(default)


def _expected_units(target_id: pd.Series, unit: pd.Series,
                    target_units: Mapping[str, str]) -> tuple[pd.Series, np.ndarray]:
    """(the target's canonical unit per row as a categorical sharing `unit`'s categories plus the canonical
    units, whether the row's target is known) — looked up once per distinct target."""
    units = [target_units.get(t) for t in target_id.cat.categories]
    known = np.append(np.array([u is not None for u in units], dtype=bool), False)[target_id.cat.codes.to_numpy()]
    missing = [u for u in dict.fromkeys(units) if u is not None and u not in unit.cat.categories]
    categories = unit.cat.categories.append(pd.Index(missing, dtype=object))
    positions = np.append(categories.get_indexer([u if u is not None else "\0" for u in units]), -1)
    expected = pd.Categorical.from_codes(positions[target_id.cat.codes.to_numpy()], categories=categories)
    return pd.Series(expected, index=target_id.index), known


def prepare_rows(rows: pd.DataFrame, *, target_units: Mapping[str, str],
                 county_codes: Collection[str]) -> tuple[pd.DataFrame, list[Issue]]:
    """The rows as fact_observation takes them (PREPARED_COLUMNS: categorical text columns, exact `value_text`,
    `source_row` Int64), plus every reason they cannot be stored. `target_units` maps each known target to its
    canonical unit; missing notes and sheets become '', a missing status 'provisional', a missing basis 'ytd',
    a missing unit the target's unit."""
    missing = [c for c in NORMALIZED_COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(f"the verdict's rows lack normalized columns {missing}; expected {list(NORMALIZED_COLUMNS)}")
    source = rows[list(NORMALIZED_COLUMNS)].reset_index(drop=True)
    text = {c: pd.Series(text_categorical(source[c]), index=source.index, name=c)
            for c in ("target_id", "county_code", "period", "unit", "basis", "status", "note", "source_sheet")}
    expected_unit, known_target = _expected_units(text["target_id"], text["unit"], target_units)
    unit = text["unit"].cat.set_categories(expected_unit.cat.categories)
    unit = unit.where(unit.notna(), expected_unit)
    frame = pd.DataFrame({
        "target_id": text["target_id"], "county_code": text["county_code"], "period": text["period"],
        "unit": _filled(unit, ""), "basis": _filled(text["basis"], "ytd"),
        "status": _filled(text["status"], "provisional"), "note": _filled(text["note"], ""),
        "source_sheet": _filled(text["source_sheet"], ""),
        "source_row": pd.to_numeric(source["source_row"], errors="coerce").astype("Int64"),
    })
    value_text, codes = _value_texts(source["value"])
    frame["value_text"] = _arrow_categorical(value_text, frame.index)
    periods = [p for p in frame["period"].cat.categories if isinstance(p, str) and re.fullmatch(PERIOD_PATTERN, p)]
    unit_codes = frame["unit"].cat.set_categories(expected_unit.cat.categories).cat.codes.to_numpy()
    checks = {
        "unknown_target": (pd.Series(~known_target), "target_id"),
        "unknown_county": (~frame["county_code"].isin(list(county_codes)), "county_code"),
        "bad_period": (~frame["period"].isin(periods), "period"),
        "unit_mismatch": (pd.Series(known_target & (unit_codes != expected_unit.cat.codes.to_numpy())), "unit"),
        "bad_basis": (~frame["basis"].isin(["ytd", "month"]), "basis"),
        "bad_status": (~frame["status"].isin(list(OBSERVATION_STATUSES)), "status"),
        "duplicate_key": (frame.duplicated(KEY, keep="first"), "period"),
    }
    issues: list[Issue] = []
    described = frame.assign(value=source["value"], expected_unit=expected_unit)
    for code in ("missing_value", "value_out_of_range", "value_precision"):
        issues += located(described, codes == code, code, *_MESSAGES[code], "value")
    for code, (mask, column) in checks.items():
        issues += located(described, mask, code, *_MESSAGES[code], column)
    return frame[list(PREPARED_COLUMNS)], issues
