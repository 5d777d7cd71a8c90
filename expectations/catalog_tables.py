"""The catalog as arrays for the validation frame: per-target facts aligned on target ids, per-pair target values,
and the scope rule's allowed target × county pairs. Built once per catalog (see expectations.suites.suites_for).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from expectations.models import Catalog, Comparator, CountyKind, Scope

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
