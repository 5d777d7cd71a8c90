"""What a bench run measures, at which sizes: the full suite, --quick, and the smoke test's tiny sizes."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class BenchConfig:
    """Sizes of every measure; the first size of each is the base its growth factor is taken against."""

    name: str
    clean_rows: tuple[int, ...]  # clean CSV drops, end to end (measures 1, 2, 6)
    format_rows: int  # one size where CSV and the `formats` are all measured
    formats: tuple[str, ...]  # besides CSV: xlsx, parquet
    bad_rows: tuple[int, ...]  # drops with a few percent bad rows: validation + quarantine
    naive_max_rows: int  # the naive baseline is skipped above this (it alone would break the time budget)
    naive_formats: tuple[str, ...]  # drop formats the naive baseline runs on
    backends: tuple[str, ...]
    idle_files: tuple[int, ...]  # measure 3
    small_runs: tuple[tuple[int, tuple[str, ...]], ...]  # measure 4: (files, task runners); the plain loop
    # runs at the first size only (its per-file cost does not depend on the number of files)
    aq_sizes: tuple[tuple[int, int], ...]  # measure 5: (stations, hours)
    bad_share: float = 0.03
    profile_rows: int | None = None  # profile minsheng (cProfile) on the clean CSV drop of this size
    memory_guard_mb: float | None = None  # stop a child above this resident size (None: 85 % of free memory)

    def with_backends(self, backends: tuple[str, ...]) -> BenchConfig:
        return replace(self, backends=backends)

    def with_profile(self, rows: int | None) -> BenchConfig:
        return replace(self, profile_rows=rows)


FULL = BenchConfig(
    name="full", clean_rows=(1_000_000, 5_000_000), format_rows=100_000, formats=("xlsx", "parquet"),
    bad_rows=(100_000, 1_000_000),
    naive_max_rows=1_000_000, naive_formats=("csv",), backends=("sqlite", "postgresql"), idle_files=(2_000, 10_000),
    small_runs=((20, ("sequential",)), (200, ("sequential", "dask"))), aq_sizes=((425, 8760), (1700, 8760)),
)
QUICK = BenchConfig(
    name="quick", clean_rows=(20_000, 100_000), format_rows=20_000, formats=(), bad_rows=(20_000,),
    naive_max_rows=20_000, naive_formats=("csv",), backends=("sqlite", "postgresql"), idle_files=(500, 2_000),
    small_runs=((10, ("sequential",)),), aq_sizes=((50, 720), (200, 720)),
)
TINY = BenchConfig(
    name="tiny", clean_rows=(1_000,), format_rows=1_000, formats=(), bad_rows=(), naive_max_rows=0,
    naive_formats=(), backends=("sqlite",), idle_files=(50, 200), small_runs=((3, ()),), aq_sizes=((6, 48),),
)
CONFIGS = {c.name: c for c in (FULL, QUICK, TINY)}
