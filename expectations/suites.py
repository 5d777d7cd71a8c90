"""Great Expectations suites generated from the target catalog.

Two layers (DESIGN.md, "Validation: two layers, two severities"):

- the **quality** suite (meta severity critical): schema, non-null keys, exact numeric values, known and owned
  targets, known and in-scope counties, periods in the plan year and not in the future, units, data-quality
  bounds, cumulative totals not decreasing within the file, unique keys, allowed basis/status;
- the **target** suite (meta severity warning): the plan's comparator and value for every row the plan judges.

Everything catalog-specific is either a parameter of an expectation built here (target ids, county codes, allowed
target × county pairs) or a column joined by `expectations.gx_frame` (quality bounds, target values per county);
what depends on the run is an expectation parameter (`$PARAMETER`): the department's own targets and the periods
open on `as_of`. So the suites are built once per catalog, and a catalog edit changes them without code changes.
The number of expectations is fixed: it never grows with targets, rows, counties or distinct bounds (the catalog
has dozens of distinct bounds; one expectation per bound set would mean dozens of passes over a million rows).
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from expectations.catalog_tables import PAIR_SEPARATOR, CatalogTables, allowed_pairs, build_tables
from expectations.gx_frame import DERIVED_COLUMNS, NUMBER_TYPES, SIDE_COLUMNS
from expectations.gx_runtime import forget_suite
from expectations.models import Catalog, Comparator, Scope
from tasks.contracts import NORMALIZED_COLUMNS, Severity

if TYPE_CHECKING:
    import great_expectations as gx

QUALITY = "quality"
TARGET = "target"
LAYER_SEVERITY: dict[str, Severity] = {QUALITY: Severity.CRITICAL, TARGET: Severity.WARNING}
KEY_COLUMNS: tuple[str, ...] = ("target_id", "county_code", "period", "basis")
BASIS_VALUES: tuple[str, ...] = ("ytd", "month")
STATUS_VALUES: tuple[str, ...] = ("provisional", "final", "revised")
OWN_TARGETS = "own_targets"  # expectation parameter: ids the department may submit
OPEN_PERIODS = "open_periods"  # expectation parameter: plan periods whose month has started on as_of
_CACHE_SIZE = 8


@dataclass(frozen=True)
class CatalogSuites:
    """The suites of one catalog, with the lookup tables the frame preparation needs."""

    catalog: Catalog
    tables: CatalogTables
    quality: gx.ExpectationSuite
    target: gx.ExpectationSuite
    plan_periods: tuple[str, ...]


def plan_periods(catalog: Catalog) -> tuple[str, ...]:
    """The twelve "YYYY-MM" periods of the plan year."""
    return tuple(f"{catalog.year}-{month:02d}" for month in range(1, 13))


def open_periods(catalog: Catalog, as_of: dt.date) -> list[str]:
    """Plan periods not in the future on `as_of`: a period is in the future when its month starts after as_of."""
    return [p for p in plan_periods(catalog) if dt.date(int(p[:4]), int(p[5:7]), 1) <= as_of]


def suite_parameters(catalog: Catalog, department: str, as_of: dt.date) -> dict[str, Any]:
    """Expectation parameters of one run: what `department` may submit and which periods are open on `as_of`."""
    return {
        OWN_TARGETS: sorted(t.id for t in catalog.targets_of(department)),
        OPEN_PERIODS: open_periods(catalog, as_of),
    }


def _meta(rule: str, column: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"rule": rule, "column": column, **extra}


def build_quality_suite(catalog: Catalog, name: str = "minsheng.quality") -> gx.ExpectationSuite:
    """The critical layer; derived columns it reads come from expectations.gx_frame.prepare_frame."""
    import great_expectations as gx
    from great_expectations.expectations.row_conditions import Column

    ex = gx.expectations
    known = Column("catalog_unit").is_not_null()  # gx_frame joins a unit exactly for targets in the catalog
    codes = [c.code for c in catalog.counties]
    # Only targets broken down to listed counties restrict the county column: a prefecture-scope target accepts
    # every known code (its total, or a breakdown), so its pairs would only make the suite bigger (and GX slower:
    # it re-serializes every parameter list many times per run).
    restricted = [t.id for t in catalog.targets if t.scope == Scope.COUNTIES]
    pairs = [p for p in allowed_pairs(catalog) if p.split(PAIR_SEPARATOR)[0] in restricted]
    periods = list(plan_periods(catalog))
    items: list[Any] = [
        ex.ExpectTableColumnsToMatchOrderedList(column_list=[*NORMALIZED_COLUMNS, *DERIVED_COLUMNS],
                                                meta=_meta("schema_mismatch")),
        *[ex.ExpectColumnValuesToNotBeNull(column=column, meta=_meta(rule, column)) for column, rule in (
            ("target_id", "missing_target"), ("county_code", "missing_county"), ("period", "missing_period"),
            ("value", "missing_value"))],
        ex.ExpectColumnValuesToBeInSet(column="value_type", value_set=list(NUMBER_TYPES),
                                       meta=_meta("bad_value", "value")),
        ex.ExpectColumnValuesToBeInSet(column="target_id", value_set=[t.id for t in catalog.targets],
                                       meta=_meta("unknown_target", "target_id")),
        ex.ExpectColumnValuesToBeInSet(column="target_id", value_set={"$PARAMETER": OWN_TARGETS},
                                       row_condition=known, meta=_meta("not_owner", "target_id")),
        ex.ExpectColumnValuesToBeInSet(column="county_code", value_set=codes,
                                       meta=_meta("unknown_county", "county_code")),
        ex.ExpectColumnValuesToBeInSet(column="target_county", value_set=pairs,
                                       meta=_meta("county_not_in_scope", "county_code", judges="target_county")),
        ex.ExpectColumnValuesToBeInSet(column="period", value_set=periods, meta=_meta("bad_period", "period")),
        ex.ExpectColumnValuesToBeInSet(column="period", value_set={"$PARAMETER": OPEN_PERIODS},
                                       row_condition=Column("period").is_in(periods),
                                       meta=_meta("future_period", "period")),
        ex.ExpectColumnPairValuesToBeEqual(column_A="unit", column_B="catalog_unit",
                                           ignore_row_if="either_value_is_missing", meta=_meta("wrong_unit", "unit")),
        ex.ExpectColumnPairValuesAToBeGreaterThanB(column_A="value_f", column_B="bound_min_f", or_equal=True,
                                                   ignore_row_if="either_value_is_missing",
                                                   meta=_meta("out_of_bounds", "value", side="min")),
        ex.ExpectColumnPairValuesAToBeGreaterThanB(column_A="bound_max_f", column_B="value_f", or_equal=True,
                                                   ignore_row_if="either_value_is_missing",
                                                   meta=_meta("out_of_bounds", "value", side="max")),
        ex.ExpectColumnPairValuesAToBeGreaterThanB(column_A="value_f", column_B="prev_ytd_f", or_equal=True,
                                                   ignore_row_if="either_value_is_missing",
                                                   meta=_meta("cumulative_decrease", "value")),
        ex.ExpectCompoundColumnsToBeUnique(column_list=list(KEY_COLUMNS), meta=_meta("duplicate_key")),
        ex.ExpectColumnValuesToBeInSet(column="basis", value_set=list(BASIS_VALUES), meta=_meta("bad_basis", "basis")),
        ex.ExpectColumnValuesToBeInSet(column="status", value_set=list(STATUS_VALUES),
                                       meta=_meta("bad_status", "status")),
    ]
    return gx.ExpectationSuite(name=name, expectations=items,
                               meta={"layer": QUALITY, "severity": Severity.CRITICAL.value})


def build_target_suite(catalog: Catalog, name: str = "minsheng.target") -> gx.ExpectationSuite:
    """The warning layer: one expectation per comparator side, the target values joined per row.

    Which rows are judged is decided in gx_frame (level targets: every row; cumulative targets: the year-to-date
    total of the final period only; budgets, milestones and `increase` targets: never); the suite itself is the
    same for every catalog.
    """
    import great_expectations as gx

    pair = gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB
    value, lo, hi = "value_f", "target_lo_f", "target_hi_f"
    sides: list[tuple[Comparator, str, str, bool]] = [
        (Comparator.GE, value, SIDE_COLUMNS[Comparator.GE], True),
        (Comparator.GT, value, SIDE_COLUMNS[Comparator.GT], False),
        (Comparator.LE, SIDE_COLUMNS[Comparator.LE], value, True),
        (Comparator.LT, SIDE_COLUMNS[Comparator.LT], value, False),
        (Comparator.APPROX, value, lo, True),
        (Comparator.APPROX, hi, value, True),
    ]
    items = [pair(column_A=a, column_B=b, or_equal=or_equal, ignore_row_if="either_value_is_missing",
                  meta=_meta("target_missed", "value", comparator=comparator.value))
             for comparator, a, b, or_equal in sides]
    return gx.ExpectationSuite(name=name, expectations=list(items),
                               meta={"layer": TARGET, "severity": Severity.WARNING.value})


_cache: OrderedDict[int, CatalogSuites] = OrderedDict()
_cache_lock = threading.Lock()
_names = itertools.count(1)


def suites_for(catalog: Catalog) -> CatalogSuites:
    """The suites of `catalog`, built on first use and cached by catalog identity (a catalog is immutable).

    The cache entry keeps the catalog alive, so its id cannot be reused by another object while cached.
    """
    with _cache_lock:
        hit = _cache.get(id(catalog))
        if hit is not None and hit.catalog is catalog:
            _cache.move_to_end(id(catalog))
            return hit
        n = next(_names)
        built = CatalogSuites(
            catalog=catalog,
            tables=build_tables(catalog),
            quality=build_quality_suite(catalog, name=f"minsheng.quality.{n}"),
            target=build_target_suite(catalog, name=f"minsheng.target.{n}"),
            plan_periods=plan_periods(catalog),
        )
        _cache[id(catalog)] = built
        while len(_cache) > _CACHE_SIZE:
            _, evicted = _cache.popitem(last=False)
            forget_suite(evicted.quality.name)
            forget_suite(evicted.target.name)
        return built
