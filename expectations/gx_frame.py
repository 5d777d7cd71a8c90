"""The frame Great Expectations checks: a normalized frame plus columns joined from the catalog.

GX cannot compare `decimal.Decimal` objects well and knows nothing about the catalog, so before validation the
normalized rows get derived columns (vectorized lookups, no per-row Python over the catalog):

- `value_f`: float64 shadow of `value` (NaN when missing, not a number, or not finite); the Decimal stays for
  loading, the shadow only decides checks whose thresholds are far coarser than float precision.
- `value_type`: the Python type name of `value` (`Decimal`, `int`, `str`, …), `Decimal(non-finite)` for NaN/∞,
  null where the value is missing: lets one set-membership check reject non-numbers.
- `target_county`: `"<target_id>|<county_code>"`, checked against the catalog's allowed pairs (scope).
- `catalog_unit`: the target's canonical unit, compared with the row's `unit`.
- `bound_min_f` / `bound_max_f`: the target's data-quality bounds (NaN where it has none), so two expectations
  check every target's bounds however many distinct bounds the catalog holds.
- `prev_ytd_f`: for cumulative targets, the year-to-date value of the previous period in the same file for the
  same target, county and basis (a YTD total never decreases).
- `comparator` / `target_value_f` / `target_lo_f` / `target_hi_f`: the plan's judgement for rows the target
  layer judges (null elsewhere), so one expectation per comparator kind serves every target, county and period.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from expectations.models import Catalog, Comparator, CountyKind, Kind, Scope

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
    "target_lo_f",
    "target_hi_f",
)
NUMBER_TYPES: tuple[str, ...] = ("Decimal", "int")  # exact types a value may have; float is a normalizer bug
JUDGED_COMPARATORS: tuple[Comparator, ...] = (
    Comparator.GE, Comparator.GT, Comparator.LE, Comparator.LT, Comparator.APPROX,
)
PAIR_SEPARATOR = "|"


@dataclass(frozen=True)
class CatalogTables:
    """Catalog facts as arrays aligned on `target_ids`, plus per (target, county) lookups."""

    target_ids: pd.Index
    unit: np.ndarray  # canonical unit id per target
    bound_min_f: np.ndarray  # quality bounds (float, NaN if open)
    bound_max_f: np.ndarray
    kind: np.ndarray  # Kind value per target
    scope: np.ndarray  # Scope value per target
    comparator: np.ndarray  # comparator per target, None where the target layer does not judge it
    value_f: np.ndarray  # target value (float, NaN if None)
    tolerance_f: np.ndarray  # ± band for "~" (NaN otherwise)
    county_value_pairs: pd.Index  # "target|county" keys that have a county-specific target value
    county_value_f: np.ndarray  # those values, aligned on county_value_pairs
    county_codes: tuple[str, ...]  # every known code: prefecture, counties, zones
    prefecture_code: str
    final_period: str  # the period at which a cumulative year-to-date total is judged against the full year


def _f(value: Decimal | None) -> float:
    return float(value) if value is not None else np.nan


def allowed_counties(catalog: Catalog, target_id: str) -> list[str]:
    """County codes a row of this target may carry.

    Scope `counties`: the listed counties (all county-level units, zones included, when none are listed) plus the
    prefecture code for a prefecture total. Scope `prefecture`: the prefecture code, and every county-level unit
    as an optional breakdown (the design lets a department report a prefecture target per county).
    """
    target = catalog.target(target_id)
    units = [c.code for c in catalog.counties if c.kind != CountyKind.PREFECTURE]
    if target.scope == Scope.COUNTIES and target.counties:
        units = [c for c in units if c in target.counties] + [c for c in target.counties if c not in units]
    return [catalog.prefecture_code, *units]


def allowed_pairs(catalog: Catalog) -> tuple[str, ...]:
    """Every "target|county" pair a row may carry (the scope rule as one set)."""
    return tuple(f"{t.id}{PAIR_SEPARATOR}{c}" for t in catalog.targets for c in allowed_counties(catalog, t.id))


def build_tables(catalog: Catalog) -> CatalogTables:
    """Arrays the frame preparation indexes into; built once per catalog (see suites.suites_for)."""
    targets = catalog.targets
    comparators = [t.comparator.value if t.comparator in JUDGED_COMPARATORS else None for t in targets]
    pairs = [(f"{t.id}{PAIR_SEPARATOR}{code}", _f(v)) for t in targets for code, v in t.county_values.items()]
    return CatalogTables(
        target_ids=pd.Index([t.id for t in targets], dtype=object),
        unit=np.array([t.unit for t in targets], dtype=object),
        bound_min_f=np.array([_f(t.bounds.min) for t in targets], dtype=float),
        bound_max_f=np.array([_f(t.bounds.max) for t in targets], dtype=float),
        kind=np.array([t.kind.value for t in targets], dtype=object),
        scope=np.array([t.scope.value for t in targets], dtype=object),
        comparator=np.array(comparators, dtype=object),
        value_f=np.array([_f(t.value) for t in targets], dtype=float),
        tolerance_f=np.array([_f(t.tolerance) for t in targets], dtype=float),
        county_value_pairs=pd.Index([p for p, _ in pairs], dtype=object),
        county_value_f=np.array([v for _, v in pairs], dtype=float),
        county_codes=tuple(c.code for c in catalog.counties),
        prefecture_code=catalog.prefecture_code,
        final_period=catalog.calendar.last_period,
    )


def _column(rows: pd.DataFrame, name: str) -> pd.Series:
    """A column of the input, or all-null when it is missing (the schema check reports the absence)."""
    if name in rows.columns:
        return rows[name]
    return pd.Series([None] * len(rows), index=rows.index, dtype=object)


def _take(values: np.ndarray, positions: np.ndarray, missing: Any) -> np.ndarray:
    """values[positions], with `missing` where positions is -1 (target not in the catalog)."""
    if len(values) == 0:
        return np.full(len(positions), missing, dtype=values.dtype)
    out = values[np.where(positions >= 0, positions, 0)]
    out[positions < 0] = missing
    return out


def _value_shadow(value: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(float64 shadow, type names): NaN / `Decimal(non-finite)` for values no check can compare."""
    raw = value.to_numpy(dtype=object, na_value=None)
    missing = pd.isna(value).to_numpy()
    try:
        shadow = raw.astype(float)  # numpy calls float() per object: fast, exact enough for a shadow
    except (TypeError, ValueError):
        shadow = np.array(pd.to_numeric(value, errors="coerce"), dtype=float)  # a writable copy
    kinds = pd.Series(raw, dtype=object).map(type)
    names = {t: t.__name__ for t in pd.unique(kinds)}  # a handful of distinct types, not one lookup per row
    types = kinds.map(names).to_numpy(dtype=object)
    types[~np.isfinite(shadow) & (types == "Decimal")] = "Decimal(non-finite)"
    types[missing] = None
    is_number = np.isin(types, NUMBER_TYPES) & np.isfinite(shadow)
    shadow[~is_number] = np.nan
    return shadow, types


def _previous_ytd(frame: pd.DataFrame, cumulative: np.ndarray) -> np.ndarray:
    """Previous period's YTD value of the same target/county in this file, for cumulative rows with basis ytd."""
    out = np.full(len(frame), np.nan)
    basis = frame["basis"].fillna("ytd")  # the design: 累计 is the default basis of a cumulative target
    mask = cumulative & (basis == "ytd").to_numpy() & frame["period"].notna().to_numpy()
    if not mask.any():
        return out
    part = frame.loc[mask, ["target_id", "county_code", "period", "value_f"]].copy()
    part["_pos"] = np.flatnonzero(mask)
    part = part.sort_values(["target_id", "county_code", "period"], kind="stable")
    previous = part.groupby(["target_id", "county_code"], sort=False, dropna=False)["value_f"].shift(1)
    out[part["_pos"].to_numpy()] = previous.to_numpy(dtype=float, na_value=np.nan)
    return out


def prepare_frame(rows: pd.DataFrame, tables: CatalogTables) -> pd.DataFrame:
    """The frame GX validates: the input's own columns, in the input's order, then DERIVED_COLUMNS.

    The index is reset to 0..n-1, so GX's `unexpected_index_list` are positions into `rows`.
    """
    frame = rows.reset_index(drop=True)
    frame = frame.drop(columns=[c for c in DERIVED_COLUMNS if c in frame.columns])
    target_id = _column(frame, "target_id").astype("str")  # pandas string dtype: nulls stay null
    county = _column(frame, "county_code").astype("str")
    period = _column(frame, "period")
    basis = _column(frame, "basis")
    positions = tables.target_ids.get_indexer(target_id)
    value_f, value_type = _value_shadow(_column(frame, "value"))
    pair = target_id + PAIR_SEPARATOR + county  # null where either part is null

    kind = _take(tables.kind, positions, None)
    scope = _take(tables.scope, positions, None)
    comparator = _take(tables.comparator, positions, None)
    pair_positions = tables.county_value_pairs.get_indexer(pair) if len(tables.county_value_pairs) else (
        np.full(len(frame), -1))
    target_value = np.where(pair_positions >= 0, _take(tables.county_value_f, pair_positions, np.nan),
                            _take(tables.value_f, positions, np.nan))
    tolerance = _take(tables.tolerance_f, positions, np.nan)
    is_prefecture = (county == tables.prefecture_code).to_numpy()
    final_ytd = ((period == tables.final_period) & basis.fillna("ytd").eq("ytd")).to_numpy()
    # Level targets are judged on every row; a cumulative YTD total only at the year's final period and only on
    # the unit the target value is set for (the prefecture total, or each county for scope counties).
    cumulative_judged = (kind == Kind.CUMULATIVE.value) & final_ytd & np.where(
        scope == Scope.COUNTIES.value, ~is_prefecture, is_prefecture)
    judged = ((kind == Kind.LEVEL.value) | cumulative_judged) & pd.notna(comparator) & ~np.isnan(target_value)
    approx = comparator == Comparator.APPROX.value

    derived = pd.DataFrame(index=frame.index)
    derived["value_f"] = value_f
    derived["value_type"] = pd.Series(value_type, index=frame.index, dtype=object)
    derived["target_county"] = pair
    derived["catalog_unit"] = pd.Series(_take(tables.unit, positions, None), index=frame.index, dtype=object)
    derived["bound_min_f"] = _take(tables.bound_min_f, positions, np.nan)
    derived["bound_max_f"] = _take(tables.bound_max_f, positions, np.nan)
    derived["prev_ytd_f"] = np.nan
    judged_comparator = comparator.copy()
    judged_comparator[~judged] = None
    derived["comparator"] = pd.Series(judged_comparator, index=frame.index, dtype=object)
    derived["target_value_f"] = np.where(judged, target_value, np.nan)
    derived["target_lo_f"] = np.where(judged & approx, target_value - tolerance, np.nan)
    derived["target_hi_f"] = np.where(judged & approx, target_value + tolerance, np.nan)
    out = pd.concat([frame, derived], axis=1)
    if {"target_id", "county_code", "period", "basis"} <= set(frame.columns):
        out["prev_ytd_f"] = _previous_ytd(out, kind == Kind.CUMULATIVE.value)
    return out
