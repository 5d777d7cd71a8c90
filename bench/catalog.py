"""The benchmark's catalog: the real plan's ~200 targets spread over as many county-level units as a size needs.

The plan has 194 targets, 10 counties plus 全州 and 12 months: about 26,000 rows a year. A million-row drop with
unique keys (target × county × month) is therefore the same plan run across a province or the nation: the bench
keeps the real targets, units and bounds, and adds synthetic county-level units (codes 9xxxxx, names 样本县0001 …,
no real place implied) until the drop reaches its size. Every target is also given to one bench department
(州统计局, folder `statistics`) so a single file may report all of them.

The reference tables (`reference_tables`) are what the limit and naive baselines join against: the same facts the
catalog gives minsheng, as plain columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import pyarrow as pa

from expectations.loader import load_catalog
from expectations.models import Catalog, County, CountyKind, Department, Kind, Scope, Target

BENCH_DEPARTMENT = "statistics"
SYNTHETIC_PREFIX = "9"  # no province code starts with 9: a synthetic county can never collide with a real one
PREFECTURE_LABEL = "全州"
MONTHS = 12


def synthetic_county(i: int) -> County:
    """The i-th synthetic county-level unit (1-based)."""
    return County(code=f"{SYNTHETIC_PREFIX}{i:05d}", name_zh=f"样本县{i:04d}", name_en=f"Sample county {i}",
                  kind=CountyKind.COUNTY)


def bench_catalog(base: Catalog, extra_counties: int) -> Catalog:
    """`base` with `extra_counties` synthetic county-level units and the bench department owning every target."""
    department = Department(slug=BENCH_DEPARTMENT, name_zh="州统计局（基准测试）", name_en="Statistics (benchmark)")
    targets = [t.model_copy(update={"responsible_units": [*t.responsible_units, BENCH_DEPARTMENT]})
               for t in base.targets]
    counties = [*base.counties, *(synthetic_county(i) for i in range(1, extra_counties + 1))]
    return base.model_copy(update={"targets": targets, "counties": counties,
                                   "departments": [*base.departments, department]})


def series_counties(catalog: Catalog, target: Target) -> list[str]:
    """County codes one target is reported for in a bench drop: 全州 first, then its counties."""
    if target.scope == Scope.COUNTIES and target.counties:
        return [catalog.prefecture_code, *target.counties]
    return [catalog.prefecture_code, *(c.code for c in catalog.counties if c.kind == CountyKind.COUNTY)]


def rows_per_month(catalog: Catalog) -> int:
    """Rows one month of a full bench drop holds (every target in every county it is reported for)."""
    return sum(len(series_counties(catalog, t)) for t in catalog.targets)


def extra_counties_for(base: Catalog, rows: int) -> int:
    """Synthetic counties needed so twelve months of every target hold at least `rows` rows."""
    per_county = sum(1 for t in base.targets if not (t.scope == Scope.COUNTIES and t.counties))
    have = rows_per_month(bench_catalog(base, 0)) * MONTHS
    return max(0, math.ceil((rows - have) / (per_county * MONTHS)))


def catalog_for_rows(rows: int, base: Catalog | None = None) -> Catalog:
    """The bench catalog sized for a drop of `rows` rows (deterministic: same rows → same catalog)."""
    base = base or load_catalog()
    return bench_catalog(base, extra_counties_for(base, rows))


@dataclass(frozen=True)
class ReferenceTables:
    """The catalog as plain tables for the baselines (Arrow, so both can join without Python loops)."""

    targets: pa.Table  # target_id, unit (canonical), kind, bound_min, bound_max (float64, null if open)
    counties: pa.Table  # county (as written in drops), county_code
    units: pa.Table  # unit (as written), factor (float64, to the target's canonical unit where one applies)


def _f(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def reference_tables(catalog: Catalog) -> ReferenceTables:
    """Targets with bounds, county names → codes, written units → factors, as Arrow tables."""
    targets = pa.table({
        "target_id": [t.id for t in catalog.targets],
        "catalog_unit": [t.unit for t in catalog.targets],
        "milestone": [t.kind == Kind.MILESTONE for t in catalog.targets],
        "bound_min": pa.array([_f(t.bounds.min) for t in catalog.targets], pa.float64()),
        "bound_max": pa.array([_f(t.bounds.max) for t in catalog.targets], pa.float64()),
    })
    names = [PREFECTURE_LABEL if c.code == catalog.prefecture_code else c.name_zh for c in catalog.counties]
    counties = pa.table({"county": names, "county_code": [c.code for c in catalog.counties]})
    written = {u.symbol: float(u.factor) for u in catalog.units}
    written |= {a: float(u.factor) for u in catalog.units for a in u.aliases}
    units = pa.table({"unit": list(written), "factor": list(written.values())})
    return ReferenceTables(targets=targets, counties=counties, units=units)
