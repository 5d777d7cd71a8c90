"""The frame Great Expectations checks: a normalized frame plus columns joined from the catalog.

GX cannot compare `decimal.Decimal` objects well and knows nothing about the catalog, so before validation the
normalized rows get derived columns (vectorized lookups, no per-row Python over the catalog):

- `value_f`: float64 shadow of `value` (NaN when missing, not a number, or not finite); the Decimal stays for
  loading, the shadow only decides checks whose thresholds are far coarser than float precision.
- `value_type`: the Python type name of `value` (`Decimal`, `int`, `str`, …), `Decimal(non-finite)` for NaN/∞,
  null where the value is missing: lets one set-membership check reject non-numbers.
- `target_county`: `"<target_id>|<county_code>"` for rows of targets broken down to listed counties (scope
  `counties`) with a known county code, null elsewhere; checked against the catalog's allowed pairs.
- `catalog_unit`: the target's canonical unit, compared with the row's `unit`.
- `bound_min_f` / `bound_max_f`: the target's data-quality bounds (NaN where it has none), so two expectations
  check every target's bounds however many distinct bounds the catalog holds.
- `prev_ytd_f`: for cumulative targets, the year-to-date value of the previous period in the same file for the
  same target, county and basis (a YTD total never decreases).
- `comparator` / `target_value_f`: the plan's judgement for rows the target layer judges (null elsewhere);
  `target_ge_f` … `target_lt_f` hold the target value only on rows judged by that comparator, `target_lo_f` /
  `target_hi_f` the band of "~" rows, so one expectation per comparator side serves every target, county and
  period.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from expectations.catalog_tables import JUDGED_COMPARATORS, PAIR_SEPARATOR, CatalogTables
from expectations.models import Comparator, Kind, Scope
from tasks.contracts import text_categorical

DERIVED_COLUMNS: tuple[str, ...] = (
    "value_f",
    "value_type",
    "target_county",
    "catalog_unit",
    "bound_min_f",
    "bound_max_f",
    "prev_ytd_f",
    "comparator",
    "target_value_f",
    "target_ge_f",
    "target_gt_f",
    "target_le_f",
    "target_lt_f",
    "target_lo_f",
    "target_hi_f",
)
# The judged value per comparator (NaN on rows another comparator, or none, judges): one expectation per column,
# no row condition (GX would re-filter the whole frame for every metric of every conditioned expectation).
SIDE_COLUMNS: dict[Comparator, str] = {
    Comparator.GE: "target_ge_f", Comparator.GT: "target_gt_f", Comparator.LE: "target_le_f",
    Comparator.LT: "target_lt_f",
}
NUMBER_TYPES: tuple[str, ...] = ("Decimal", "int")  # exact types a value may have; float is a normalizer bug


# Text columns GX sees as categoricals: every check on them (nulls, sets, row conditions, uniqueness) then works on
# small integer codes over a few hundred distinct texts instead of a million Python strings.
CATEGORICAL_COLUMNS: tuple[str, ...] = ("target_id", "county_code", "period", "unit", "basis", "status", "note",
                                        "source_sheet")


def _column(rows: pd.DataFrame, name: str) -> pd.Series:
    """A column of the input, or all-null when it is missing (the schema check reports the absence)."""
    if name in rows.columns:
        return rows[name]
    return pd.Series([None] * len(rows), index=rows.index, dtype=object)


def _categorical(series: pd.Series) -> pd.Series:
    """`series` as the contract's categorical; unchanged when its values cannot be hashed (GX reports it)."""
    try:
        return pd.Series(text_categorical(series), index=series.index, name=series.name)
    except TypeError:
        return series


def _text_categorical(series: pd.Series) -> pd.Categorical:
    """`series` as a categorical of texts (non-text values as their str), nulls kept null."""
    values = _categorical(series)
    if isinstance(values.dtype, pd.CategoricalDtype) and all(isinstance(c, str) for c in values.cat.categories):
        return pd.Categorical(values)
    return pd.Categorical(series.astype("str"))


def _lookup(categories: pd.Index, codes: np.ndarray, index: pd.Index) -> np.ndarray:
    """Position in `index` of each row's category (-1 where the row is null or the text is not in `index`)."""
    positions = np.append(index.get_indexer(categories) if len(index) else np.full(len(categories), -1), -1)
    return positions[codes]


def _pairs(target: pd.Categorical, county: pd.Categorical) -> pd.Categorical:
    """"target|county" per row, built once per distinct pair; null where either part is null."""
    width = len(county.categories) + 1
    combined = np.where((target.codes < 0) | (county.codes < 0), -1,
                        target.codes.astype(np.int64) * width + county.codes)
    # The combined codes are bounded (targets × counties): mark the ones present instead of sorting every row.
    present = np.zeros(len(target.categories) * width + 1, dtype=bool)
    present[combined + 1] = True
    distinct = np.flatnonzero(present) - 1
    slot = np.cumsum(present) - 1  # combined + 1 → its rank among the distinct codes
    inverse = slot[combined + 1]
    valid = distinct[distinct >= 0]
    targets = np.asarray(target.categories, dtype=object)[valid // width]
    counties = np.asarray(county.categories, dtype=object)[valid % width]
    labels = targets + PAIR_SEPARATOR + counties if len(valid) else np.array([], dtype=object)
    offset = len(distinct) - len(valid)  # the null pair (-1) sorts first
    return pd.Categorical.from_codes(inverse - offset, categories=pd.Index(labels, dtype=object))


def _take(values: np.ndarray, positions: np.ndarray, missing: Any) -> np.ndarray:
    """values[positions], with `missing` where positions is -1 (target not in the catalog)."""
    if len(values) == 0:
        return np.full(len(positions), missing, dtype=values.dtype)
    out = values[np.where(positions >= 0, positions, 0)]
    out[positions < 0] = missing
    return out


def _value_shadow(value: pd.Series) -> tuple[np.ndarray, pd.Categorical]:
    """(float64 shadow, type names as a categorical): NaN / `Decimal(non-finite)` for values no check can compare.

    Types are looked at once per distinct type (a handful), never compared as strings per row."""
    raw = value.to_numpy(dtype=object, na_value=None)
    try:
        shadow = raw.astype(float)  # numpy calls float() per object: fast, exact enough for a shadow
    except (TypeError, ValueError):
        shadow = np.array(pd.to_numeric(value, errors="coerce"), dtype=float)  # a writable copy
    kind_codes, kinds = pd.factorize(np.frompyfunc(type, 1, 1)(raw) if len(raw) else raw)
    names = [k.__name__ for k in kinds]
    decimal = np.append(np.array([n == "Decimal" for n in names], dtype=bool), False)[kind_codes]
    # Among Decimals and ints only None and Decimal NaN are missing (pd.isna's rule); other types need pd.isna.
    missing = (pd.isna(raw) if set(names) - {"Decimal", "int", "NoneType"} else
               np.append(np.array([n == "NoneType" for n in names], dtype=bool), False)[kind_codes]
               | (decimal & np.isnan(shadow)))
    finite = np.isfinite(shadow)
    number = np.append(np.array([n in NUMBER_TYPES for n in names], dtype=bool), False)[kind_codes]
    categories = pd.Index([*dict.fromkeys(n for n in names if n != "NoneType"), "Decimal(non-finite)"],
                          dtype=object)
    codes = np.append(categories.get_indexer(names), -1)[kind_codes]
    codes[decimal & ~finite] = len(categories) - 1
    codes[missing] = -1
    shadow[~(number & finite)] = np.nan
    return shadow, pd.Categorical.from_codes(codes, categories=categories)


def _codes_categorical(per_target: np.ndarray, positions: np.ndarray, judged: np.ndarray | None = None
                       ) -> pd.Categorical:
    """A categorical of a per-target text (None allowed), row by row from target positions (-1: unknown
    target → missing); with `judged`, missing where it is False."""
    categories = pd.Index([v for v in dict.fromkeys(per_target.tolist()) if v is not None], dtype=object)
    target_codes = np.append(categories.get_indexer(per_target) if len(per_target) else [], -1).astype(np.int64)
    codes = target_codes[positions]  # position -1 picks the trailing -1
    if judged is not None:
        codes = np.where(judged, codes, -1)
    return pd.Categorical.from_codes(codes, categories=categories)


def _previous_ytd(frame: pd.DataFrame, cumulative: np.ndarray) -> np.ndarray:
    """Previous period's YTD value of the same target/county in this file, for cumulative rows with basis ytd."""
    out = np.full(len(frame), np.nan)
    basis = frame["basis"]
    ytd = (basis.isna() | (basis == "ytd")).to_numpy()  # the design: 累计 is the default basis of a cumulative target
    mask = cumulative & ytd & frame["period"].notna().to_numpy()
    if not mask.any():
        return out
    part = frame.loc[mask, ["target_id", "county_code", "period", "value_f"]].copy()
    part["_pos"] = np.flatnonzero(mask)
    part = part.sort_values(["target_id", "county_code", "period"], kind="stable")
    previous = part.groupby(["target_id", "county_code"], sort=False, dropna=False, observed=True)["value_f"].shift(1)
    out[part["_pos"].to_numpy()] = previous.to_numpy(dtype=float, na_value=np.nan)
    return out


def _shared_categories(a: pd.Series, b: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Two categoricals over the union of their categories (GX compares them element-wise)."""
    union = a.cat.categories.union(b.cat.categories)
    return a.cat.set_categories(union), b.cat.set_categories(union)


def prepare_frame(rows: pd.DataFrame, tables: CatalogTables) -> pd.DataFrame:
    """The frame GX validates: the input's own columns, in the input's order, then DERIVED_COLUMNS.

    Text columns become categoricals (CATEGORICAL_COLUMNS); values and row order are the input's. The index is
    reset to 0..n-1, so GX's unexpected index lists are positions into `rows`.
    """
    frame = rows.reset_index(drop=True)
    frame = frame.drop(columns=[c for c in DERIVED_COLUMNS if c in frame.columns])
    frame = frame.assign(**{c: _categorical(frame[c]) for c in CATEGORICAL_COLUMNS if c in frame.columns})
    target_id = _text_categorical(_column(frame, "target_id"))
    county = _text_categorical(_column(frame, "county_code"))
    period = _column(frame, "period")
    basis = _column(frame, "basis")
    positions = _lookup(target_id.categories, target_id.codes, tables.target_ids)
    value_f, value_type = _value_shadow(_column(frame, "value"))
    pair = _pairs(target_id, county)

    def flag(per_target: np.ndarray) -> np.ndarray:  # a per-target yes/no, row by row (unknown target: no)
        return _take(np.asarray(per_target, dtype=bool), positions, False)

    cumulative = flag(tables.kind == Kind.CUMULATIVE.value)
    scope_counties = flag(tables.scope == Scope.COUNTIES.value)
    compares = {c: flag(tables.comparator == c.value) for c in JUDGED_COMPARATORS}
    pair_positions = _lookup(pair.categories, pair.codes, tables.county_value_pairs)
    target_value = np.where(pair_positions >= 0, _take(tables.county_value_f, pair_positions, np.nan),
                            _take(tables.value_f, positions, np.nan))
    tolerance = _take(tables.tolerance_f, positions, np.nan)
    prefecture = county.categories.get_indexer([tables.prefecture_code])[0]
    is_prefecture = (county.codes == prefecture) & (prefecture >= 0)
    final_ytd = ((period == tables.final_period) & (basis.isna() | (basis == "ytd"))).to_numpy()
    # Level targets are judged on every row; a cumulative YTD total only at the year's final period and only on
    # the unit the target value is set for (the prefecture total, or each county for scope counties).
    cumulative_judged = cumulative & final_ytd & np.where(scope_counties, ~is_prefecture, is_prefecture)
    judged = ((flag(tables.kind == Kind.LEVEL.value) | cumulative_judged) & flag(pd.notna(tables.comparator))
              & ~np.isnan(target_value))
    approx = compares[Comparator.APPROX]

    derived = pd.DataFrame(index=frame.index)
    derived["value_f"] = value_f
    derived["value_type"] = pd.Series(value_type, index=frame.index)
    # The scope rule judges rows of targets broken down to listed counties whose county code is known (an unknown
    # code is reported once, as unknown_county); elsewhere the pair is null and the rule has nothing to say.
    known_county = _lookup(county.categories, county.codes, pd.Index(tables.county_codes, dtype=object)) >= 0
    scoped = pd.Categorical(pair)
    scoped[~(scope_counties & known_county)] = np.nan
    derived["target_county"] = pd.Series(scoped, index=frame.index)
    derived["catalog_unit"] = pd.Series(_codes_categorical(tables.unit, positions), index=frame.index)
    derived["bound_min_f"] = _take(tables.bound_min_f, positions, np.nan)
    derived["bound_max_f"] = _take(tables.bound_max_f, positions, np.nan)
    derived["prev_ytd_f"] = np.nan
    derived["comparator"] = pd.Series(_codes_categorical(tables.comparator, positions, judged), index=frame.index)
    derived["target_value_f"] = np.where(judged, target_value, np.nan)
    for side, column in SIDE_COLUMNS.items():
        derived[column] = np.where(judged & compares[side], target_value, np.nan)
    derived["target_lo_f"] = np.where(judged & approx, target_value - tolerance, np.nan)
    derived["target_hi_f"] = np.where(judged & approx, target_value + tolerance, np.nan)
    if "unit" in frame.columns and isinstance(frame["unit"].dtype, pd.CategoricalDtype):
        frame["unit"], derived["catalog_unit"] = _shared_categories(frame["unit"], derived["catalog_unit"])
    out = pd.concat([frame, derived], axis=1)
    if {"target_id", "county_code", "period", "basis"} <= set(frame.columns):
        out["prev_ytd_f"] = _previous_ytd(out, cumulative)
    return out
