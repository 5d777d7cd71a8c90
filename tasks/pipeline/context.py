"""What one run needs to know: the as-of date, where things are, and the catalog. Picklable for Dask workers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from expectations.loader import load_catalog
from expectations.models import Catalog
from minsheng.settings import DataLayout, Settings, get_settings
from tasks.evaluate.config import Thresholds
from tasks.read import ReadLimits
from warehouse.db import make_engine

PLAN_TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class RunContext(DataLayout):
    """One run's frame of reference. `recorded_at` stamps everything the run writes: the wall clock for a live
    run, the end of the as-of day for a replay, so replays are deterministic."""

    as_of: dt.date
    recorded_at: dt.datetime
    data_dir: Path
    warehouse_url: str
    catalog_dir: Path
    limits: ReadLimits
    stable_seconds: float
    wall_clock: float  # seconds since the epoch, for the stable-file window
    thresholds: Thresholds
    alert_urls: dict[str, list[str]] = field(default_factory=dict)

    @property
    def catalog(self) -> Catalog:
        return cached_catalog(self.catalog_dir)

    @property
    def engine(self) -> Engine:
        return cached_engine(self.warehouse_url)


def today_in_plan_tz(now: dt.datetime | None = None) -> dt.date:
    return (now or dt.datetime.now(PLAN_TZ)).astimezone(PLAN_TZ).date()


def run_context(as_of: dt.date | str | None = None, settings: Settings | None = None,
                now: dt.datetime | None = None) -> RunContext:
    """Build the run's context; `as_of` None means today in Beijing time (scheduled runs)."""
    settings = settings or get_settings()
    wall = now or dt.datetime.now(PLAN_TZ)
    if isinstance(as_of, str):
        as_of = dt.date.fromisoformat(as_of)
    live = as_of is None or as_of == today_in_plan_tz(wall)
    day = as_of or today_in_plan_tz(wall)
    recorded_at = wall if live else dt.datetime.combine(day, dt.time(23, 59, 59), PLAN_TZ)
    limits = ReadLimits(max_bytes=settings.max_file_bytes, max_rows=settings.max_rows,
                        max_columns=settings.max_columns)
    return RunContext(as_of=day, recorded_at=recorded_at, data_dir=settings.data_dir.resolve(),
                      warehouse_url=settings.resolved_warehouse_url, catalog_dir=settings.catalog_dir.resolve(),
                      limits=limits, stable_seconds=settings.stable_seconds, wall_clock=wall.timestamp(),
                      thresholds=Thresholds.from_settings(settings), alert_urls=dict(settings.alert_urls))


@lru_cache(maxsize=8)
def cached_catalog(directory: Path) -> Catalog:
    """The catalog is parsed once per process and directory."""
    return load_catalog(directory)


@lru_cache(maxsize=8)
def cached_engine(url: str) -> Engine:
    """One engine (and connection pool) per process and warehouse."""
    return make_engine(url)
