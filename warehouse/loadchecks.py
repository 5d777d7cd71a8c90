"""Checks the loader itself runs before writing (vectorized): a last guard that the rows fit the warehouse, and
the cross-file rule that needs the warehouse — cumulative year-to-date values never decrease.

Anything found here is a critical Issue: the drop is quarantined in the same transaction, never half-loaded.
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
from sqlalchemy import Connection

from tasks.contracts import NORMALIZED_COLUMNS, Issue, Severity
from warehouse.dims import decimal_text
from warehouse.models import OBSERVATION_STATUSES
from warehouse.queries import KEY, current_series_query, fetch_frame

DEC = pa.decimal128(38, 10)
LIMIT = pa.scalar(Decimal("1E+20"), type=DEC)  # NUMERIC(30, 10) holds 20 integer digits
MAX_ISSUES_PER_RULE = 200
PREPARED_COLUMNS = ("target_id", "county_code", "period", "value_text", "unit", "basis", "status", "note",
                 "source_sheet", "source_row")
PERIOD_PATTERN = r"\d{4}-(0[1-9]|1[0-2])"


def _located(frame: pd.DataFrame, mask: pd.Series, code: str, zh: str, en: str, column: str) -> list[Issue]:
    """One critical Issue per flagged row (first MAX_ISSUES_PER_RULE, then one summary); zh/en are
    str.format templates over the row's columns."""
    hits = frame.loc[mask.fillna(False).astype(bool)]
    issues = []
    for rec in hits.head(MAX_ISSUES_PER_RULE).to_dict("records"):
        fields = {k: ("" if v is None or v is pd.NA else v) for k, v in rec.items()}
        row = rec.get("source_row")
        issues.append(Issue(Severity.CRITICAL, code, zh.format(**fields), en.format(**fields),
                            sheet=rec.get("source_sheet") or None, row=None if row is pd.NA else row,
                            column=column, value=str(fields.get(column, ""))))
    if len(hits) > MAX_ISSUES_PER_RULE:
        more = len(hits) - MAX_ISSUES_PER_RULE
        issues.append(Issue(Severity.CRITICAL, code, f"……另有 {more} 行同样的问题", f"... and {more} more rows "
                            "with the same problem", column=column))
    return issues


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


def _text(column: pd.Series, default: str | pd.Series | None = None) -> pd.Series:
    """An object column of str (None for missing unless `default` fills it); no copy when it already is one."""
    if column.dtype != object:
        column = column.astype(object)
    column = column.where(column.notna(), None)
    return column if default is None else column.fillna(default)


def prepare_rows(rows: pd.DataFrame, *, target_units: Mapping[str, str],
                 county_codes: Collection[str]) -> tuple[pd.DataFrame, list[Issue]]:
    """The rows as fact_observation takes them (PREPARED_COLUMNS: object columns of str, exact `value_text`,
    `source_row` Int64), plus every reason they cannot be stored. `target_units` maps each known target to its
    canonical unit; missing notes and sheets become '', a missing status 'provisional', a missing basis 'ytd',
    a missing unit the target's unit."""
    missing = [c for c in NORMALIZED_COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(f"the verdict's rows lack normalized columns {missing}; expected {list(NORMALIZED_COLUMNS)}")
    source = rows[list(NORMALIZED_COLUMNS)].reset_index(drop=True)
    target_id = _text(source["target_id"])
    codes_, targets = pd.factorize(target_id)  # map the few distinct targets, not every row
    units = np.array([target_units.get(t) for t in targets] + [None], dtype=object)
    expected_unit = pd.Series(units[codes_], index=target_id.index, dtype=object)
    frame = pd.DataFrame({
        "target_id": target_id, "county_code": _text(source["county_code"]), "period": _text(source["period"]),
        "unit": _text(source["unit"], expected_unit.fillna("")), "basis": _text(source["basis"], "ytd"),
        "status": _text(source["status"], "provisional"), "note": _text(source["note"], ""),
        "source_sheet": _text(source["source_sheet"], ""),
        "source_row": pd.to_numeric(source["source_row"], errors="coerce").astype("Int64"),
    })
    value_text, codes = _value_texts(source["value"])
    frame["value_text"] = pd.Series(value_text.to_numpy(zero_copy_only=False), index=frame.index, dtype=object)
    known_target = expected_unit.notna()
    periods = [p for p in pd.unique(frame["period"]) if isinstance(p, str) and re.fullmatch(PERIOD_PATTERN, p)]
    checks = {
        "unknown_target": (~known_target, "target_id"),
        "unknown_county": (~frame["county_code"].isin(list(county_codes)), "county_code"),
        "bad_period": (~frame["period"].isin(periods), "period"),
        "unit_mismatch": (known_target & (frame["unit"] != expected_unit), "unit"),
        "bad_basis": (~frame["basis"].isin(["ytd", "month"]), "basis"),
        "bad_status": (~frame["status"].isin(list(OBSERVATION_STATUSES)), "status"),
        "duplicate_key": (frame.duplicated(KEY, keep="first"), "period"),
    }
    issues: list[Issue] = []
    described = frame.assign(value=source["value"], expected_unit=expected_unit)
    for code in ("missing_value", "value_out_of_range", "value_precision"):
        issues += _located(described, codes == code, code, *_MESSAGES[code], "value")
    for code, (mask, column) in checks.items():
        issues += _located(described, mask, code, *_MESSAGES[code], column)
    return frame[list(PREPARED_COLUMNS)], issues


def _decimals(values: pd.Series) -> pd.Series:
    return pd.Series(pd.array(pa.array(values.tolist(), DEC), dtype=pd.ArrowDtype(DEC)), index=values.index)


def check_cumulative_not_decreasing(conn: Connection, rows: pd.DataFrame, cumulative_target_ids: Collection[str],
                                    held: pd.DataFrame | None = None) -> list[Issue]:
    """Critical issues where a drop's year-to-date value would make a series decrease against what the
    warehouse already holds (read on `conn`, i.e. inside the load transaction).

    The drop's rows replace the warehouse's for the same keys; the merged series of each target × county ×
    year is then checked month by month, and every decreasing step between a held value and a dropped value
    is reported on the dropped row. Decreases entirely inside the drop are the validator's to report.
    `held`, when the caller already read them, are the current observations (at least KEY, value_text and basis)
    of every series the drop touches; otherwise they are read here.
    """
    basis = rows["basis"].astype("string").fillna("ytd")
    new = rows.loc[rows["target_id"].isin(list(cumulative_target_ids)) & (basis == "ytd"),
                   [*KEY, "value", "source_sheet", "source_row"]]
    if new.empty:
        return []
    if held is None:
        held = fetch_frame(conn, current_series_query(new, [*KEY, "value_text", "basis"]),
                           [*KEY, "value_text", "basis"])
    held = held.loc[held["basis"] == "ytd", [*KEY, "value_text"]].astype("string")
    if held.empty:
        return []
    keys = new[KEY].astype("string")
    held = held.merge(keys.drop_duplicates(["target_id", "county_code"])[["target_id", "county_code"]],
                      on=["target_id", "county_code"])
    held = held.merge(keys, on=KEY, how="left", indicator=True)
    held = held.loc[held["_merge"] == "left_only", [*KEY, "value_text"]]
    if held.empty:
        return []
    held_values = pd.Series(pd.array(pa.array(held["value_text"].tolist(), pa.string()).cast(DEC),
                                     dtype=pd.ArrowDtype(DEC)), index=held.index)
    series = pd.concat([held[KEY].assign(value=held_values, origin="warehouse", source_sheet="",
                                         source_row=pd.NA),
                        keys.assign(value=_decimals(new["value"]), origin="drop",
                                    source_sheet=new["source_sheet"], source_row=new["source_row"])],
                       ignore_index=True)
    series["year"] = series["period"].astype("string").str[:4]
    series = series.sort_values(KEY, ignore_index=True)
    grouped = series.groupby(["target_id", "county_code", "year"], sort=False)
    prev = series.assign(**{f"prev_{c}": grouped[c].shift() for c in ("value", "period", "origin", "source_sheet",
                                                                       "source_row")})
    falls = (prev["value"] < prev["prev_value"]).fillna(False).astype(bool)
    mixed = prev["origin"] != prev["prev_origin"]
    hits = prev.loc[falls & mixed & prev["prev_origin"].notna()]
    issues = []
    for rec in hits.head(MAX_ISSUES_PER_RULE).to_dict("records"):
        dropped_later = rec["origin"] == "drop"
        d_period, d_value = (rec["period"], rec["value"]) if dropped_later else (rec["prev_period"], rec["prev_value"])
        w_period, w_value = (rec["prev_period"], rec["prev_value"]) if dropped_later else (rec["period"], rec["value"])
        sheet, row = ((rec["source_sheet"], rec["source_row"]) if dropped_later
                      else (rec["prev_source_sheet"], rec["prev_source_row"]))
        relation_zh, relation_en = ("低于", "below") if dropped_later else ("高于", "above")
        d_text, w_text = decimal_text(Decimal(d_value)), decimal_text(Decimal(w_value))
        issues.append(Issue(
            Severity.CRITICAL, "cumulative_decrease",
            f"{rec['target_id']} {rec['county_code']} {d_period} 的累计值 {d_text} {relation_zh}仓库已有的 "
            f"{w_period} 累计值 {w_text}；累计数只增不减。请核对，如前期数据有误请一并报送更正。",
            f"{rec['target_id']} {rec['county_code']} {d_period}: year-to-date value {d_text} is {relation_en} "
            f"the {w_period} value {w_text} already in the warehouse; a cumulative value never decreases. Check "
            "it, and if the earlier month was wrong, submit its correction too.",
            sheet=sheet or None, row=None if row is None or row is pd.NA else int(row), column="value",
            value=d_text))
    return issues
