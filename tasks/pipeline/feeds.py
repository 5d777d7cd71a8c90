"""Air-quality station feeds dropped like any other file: recognise them, derive their observations.

A drop is a *station feed* when its header (a CSV's first line, a Parquet schema: nothing else is read to decide)
has a station column and at least three pollutant columns, named as `tasks.aq.columns` understands them. Its
rows are then not read as a table of observations but derived (`tasks.aq`: daily AQI per HJ 633-2012, good-days
ratio and mean PM2.5 per area and month) with the station registry `stations.yaml` of the catalog directory.
The derived rows go on through `judge_file` like a hand-reported file's: the same GX validation, the same load,
the same evaluation and alerts.

Only the year-to-date (累计) values are handed on: the warehouse keeps one current value per target × county ×
period, so a month's 当月 and 累计 figures cannot both be held, and the year-to-date ratio is the statistic the
plan's annual target is judged on (a hand-reported level is read the same way). The monthly figures remain what
`minsheng aq derive` prints.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from expectations.models import Catalog
from minsheng.settings import get_settings
from tasks.aq.columns import POLLUTANT_FIELDS, map_columns
from tasks.aq.periods import GOOD_DAYS_TARGET, PM25_TARGET
from tasks.aq.registry import RegistryError, StationRegistry, load_registry
from tasks.aq.tasks import air_quality_verdict
from tasks.contracts import Drop, Issue, Severity
from tasks.discover import sha256_file
from tasks.normalize.frame import empty_frame
from tasks.read import ReadLimits
from tasks.read.model import too_large

FEED_SUFFIXES = frozenset({".csv", ".parquet"})
MIN_POLLUTANTS = 3
HEADER_BYTES = 64 * 1024  # a header line longer than this is no station feed's
REGISTRY_FILE = "stations.yaml"
AIR_TARGETS = (GOOD_DAYS_TARGET, PM25_TARGET)
LOADED_BASIS = "ytd"


def read_header(path: Path) -> list[str] | None:
    """Column names of a CSV (first line, UTF-8 or GB18030) or Parquet file (schema only); None when the file
    is of another kind or its header cannot be read (the ordinary reader then says what is wrong)."""
    suffix = path.suffix.lower()
    if suffix not in FEED_SUFFIXES or path.is_symlink() or not path.is_file():
        return None
    if suffix == ".parquet":
        try:
            return list(pq.read_schema(path).names)
        except (pa.ArrowException, OSError):
            return None
    try:
        with path.open("rb") as fh:
            head = fh.readline(HEADER_BYTES)
    except OSError:
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return next(csv.reader([head.decode(encoding)]), [])
        except UnicodeDecodeError:
            continue
    return None


def is_station_feed(headers: Sequence[str]) -> bool:
    """True when the headers name a station and at least MIN_POLLUTANTS pollutants (any alias, any unit)."""
    mapping, _, clashes = map_columns(list(headers))
    # A field named twice is still named: the feed reader then reports the clash, which is the useful message.
    fields = set(mapping) | {f for f, _ in clashes}
    return "station" in fields and len(fields & set(POLLUTANT_FIELDS)) >= MIN_POLLUTANTS


def station_registry(catalog_dir: Path, catalog: Catalog) -> StationRegistry:
    """The catalog directory's station registry, its county codes checked against the catalog.

    Parsed once per file version (path, mtime and size): a registry edited while a server runs is read again.
    Raises RegistryError (file, line and field named) or FileNotFoundError.
    """
    path = (catalog_dir / REGISTRY_FILE).resolve()
    stat = path.stat()
    codes = frozenset(c.code for c in catalog.counties)
    return _cached_registry(path, stat.st_mtime_ns, stat.st_size, codes)


@lru_cache(maxsize=8)
def _cached_registry(path: Path, mtime_ns: int, size: int, codes: frozenset[str]) -> StationRegistry:
    return load_registry(path, known_county_codes=set(codes))


def read_station_feed(path: Path, department: str, catalog: Catalog, limits: ReadLimits, as_of: dt.date,
                      catalog_dir: Path | None = None) -> tuple[pd.DataFrame, list[Issue]] | None:
    """None when `path` is not a station feed; else its derived observations (NORMALIZED_COLUMNS, year to date,
    one row per target × area × month) and the issues found, as `read_drop` returns them.

    `catalog_dir` holds `stations.yaml` (default: the settings' catalog directory). A department that neither
    leads nor is responsible for the air-quality targets gets a critical `not_owner` before anything is read.
    """
    headers = read_header(path)
    if headers is None or not is_station_feed(headers):
        return None
    known = {t.id for t in catalog.targets}
    targets = [t for t in AIR_TARGETS if t in known]
    refusal = _refusal(path, department, catalog, limits, targets)
    if refusal:
        return empty_frame(), [refusal]
    directory = catalog_dir if catalog_dir is not None else get_settings().catalog_dir.resolve()
    try:
        registry = station_registry(directory, catalog)
    except FileNotFoundError:
        return empty_frame(), [Issue(Severity.CRITICAL, "no_station_registry",
                                  f"没有站点名录 {directory / REGISTRY_FILE}，无法识别监测站点；请先登记站点。",
                                  f"no station registry at {directory / REGISTRY_FILE}: the stations cannot be "
                                  "placed in counties; register them first.")]
    except RegistryError as exc:
        return empty_frame(), [Issue(Severity.CRITICAL, "bad_station_registry", f"站点名录有误：{exc}",
                                  f"the station registry is invalid: {exc}")]
    stat = path.stat()
    drop = Drop(path=path, department=department, sha256=sha256_file(path), size=stat.st_size,
                mtime=stat.st_mtime, relative_name=_relative_name(path, department))
    verdict = air_quality_verdict(drop, registry, as_of)
    rows = verdict.rows
    rows = rows[rows["target_id"].isin(targets) & (rows["basis"] == LOADED_BASIS)].reset_index(drop=True)
    return rows, [*verdict.issues, *_coverage(rows)]


def _refusal(path: Path, department: str, catalog: Catalog, limits: ReadLimits,
             targets: list[str]) -> Issue | None:
    """Why the feed is refused before reading it: no air targets in the catalog, not the department's, too big."""
    if not targets:
        return Issue(Severity.CRITICAL, "unknown_target", "目录中没有空气质量指标，监测数据无处入库。",
                     f"the catalog has none of the air-quality targets ({', '.join(AIR_TARGETS)}); the feed "
                     "has nothing to report on.")
    owned = {t.id for t in catalog.targets_of(department)}
    if not set(targets) <= owned:
        departments = {d.slug: d for d in catalog.departments}
        leads = [departments[s] for s in catalog.target(targets[0]).lead_departments if s in departments]
        dept = departments.get(department)
        lead_zh, lead_en = "、".join(d.name_zh for d in leads), ", ".join(d.name_en for d in leads)
        return Issue(Severity.CRITICAL, "not_owner",
                     f"空气质量监测数据只能由负责空气质量指标的部门报送（牵头：{lead_zh}），"
                     f"不属于{dept.name_zh if dept else department}的报送范围；请交由牵头部门报送。",
                     f"station air-quality feeds are submitted by the departments responsible for the air "
                     f"targets (lead: {lead_en}), not by {dept.name_en if dept else department}; leave it to the "
                     "lead department.")
    size = path.stat().st_size
    if size > limits.max_bytes:
        return too_large(size, limits.max_bytes).issues[0]
    return None


def _coverage(rows: pd.DataFrame) -> list[Issue]:
    """A year-to-date value covers only the months the feed holds: a warning for a year it starts after January
    (somebody should look: a feed of one month gives that month's figure under the year-to-date label)."""
    periods = rows["period"].astype(str)
    firsts = periods.groupby(periods.str[:4]).min()
    return [Issue(Severity.WARNING, "ytd_from_first_month",
                  f"{first[:4]}年累计值从本文件最早的月份 {first} 起算（文件中没有该年更早的监测数据）。",
                  f"{first[:4]} year-to-date values count from {first}, the first month of that year in this "
                  "file (it holds no earlier readings).")
            for first in firsts if not first.endswith("-01")]


def _relative_name(path: Path, department: str) -> str:
    """The path under the department's folder (as the ledger names drops), else the file name."""
    for parent in path.parents:
        if parent.name == department:
            return path.relative_to(parent).as_posix()
    return path.name

