"""Run every measure of a BenchConfig and collect the rows, the growth factors and the details behind them."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import report
from bench.catalog import BENCH_DEPARTMENT, catalog_for_rows
from bench.child import run_child
from bench.common import BACKEND_STAGES, SHARED_STAGES, Case, RunResult, fresh_database, pg_admin_url
from bench.config import BenchConfig
from bench.datagen import write_drop
from bench.machine import describe, load_average

GENERATOR_VERSION = 1
Log = Callable[[str], None]


@dataclass
class BenchReport:
    """What `run_bench` found: rows for latest.json, growth factors, and everything behind them."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    growth: list[dict[str, Any]] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)


def drop_path(workdir: Path, rows: int, fmt: str, bad: bool, bad_share: float) -> Path:
    """Generate (or reuse, when its parameters match) one drop file; deterministic, so reuse is safe."""
    path = workdir / "drops" / f"{'bad' if bad else 'clean'}_{rows}.{fmt}"
    marker = path.with_name(path.name + ".json")
    params = {"version": GENERATOR_VERSION, "rows": rows, "bad_share": bad_share if bad else 0.0}
    if path.is_file() and marker.is_file() and json.loads(marker.read_text()) == params:
        return path
    write_drop(path, catalog_for_rows(rows), rows, bad_share=params["bad_share"])
    marker.write_text(json.dumps(params))
    return path


def _memory_guard(config: BenchConfig) -> float:
    import psutil

    return config.memory_guard_mb or psutil.virtual_memory().available / 2**20 * 0.85


def run_ingest(config: BenchConfig, workdir: Path, rows: int, fmt: str, bad: bool, log: Log,
               profile: Path | None = None) -> dict[str, RunResult | str]:
    """limit, minsheng and (when small enough) naive on one drop, each in its own process and fresh databases."""
    drop = drop_path(workdir, rows, fmt, bad, config.bad_share)
    naive = rows <= config.naive_max_rows and fmt in config.naive_formats and (not bad or rows == max(config.bad_rows))
    impls = ["limit", "minsheng"] + (["naive"] if naive else [])
    results: dict[str, RunResult | str] = {}
    for impl in impls:
        with ExitStack() as stack:
            urls = {b: stack.enter_context(fresh_database(b, workdir, f"{impl}_{rows}")) for b in config.backends}
            case = Case(impl=impl, drop=drop, rows=rows, workdir=workdir / "runs", backends=urls,
                        department=BENCH_DEPARTMENT)
            case.workdir.mkdir(parents=True, exist_ok=True)
            started = time.perf_counter()
            try:
                results[impl] = run_child(case, memory_limit_mb=_memory_guard(config))
            except Exception as error:  # a failed or stopped run is a finding, not the end of the suite
                results[impl] = f"{type(error).__name__}: {error}"
            log(f"  {impl:8s} {drop.name}: {time.perf_counter() - started:6.1f} s wall"
                + (f" — {results[impl]}" if isinstance(results[impl], str) else ""))
    if profile is not None:
        with fresh_database("sqlite", workdir, "profile") as url:
            case = Case(impl="minsheng", drop=drop, rows=rows, workdir=workdir / "runs", backends={"sqlite": url},
                        department=BENCH_DEPARTMENT)
            with contextlib.suppress(Exception):
                run_child(case, profile=profile, memory_limit_mb=_memory_guard(config))
    return results


def ingest_rows(results: dict[str, RunResult | str], measure: str, size: str,
                backends: tuple[str, ...]) -> list[dict[str, Any]]:
    """The end-to-end rows per backend, the memory row, and one row per stage."""
    ok = {k: v for k, v in results.items() if isinstance(v, RunResult)}
    ms, lim, nv = ok.get("minsheng"), ok.get("limit"), ok.get("naive")
    out = []
    for backend in backends:
        out.append(report.row(measure, size, backend, minsheng_s=ms.total(backend) if ms else None,
                              limit_s=lim.total(backend) if lim else None, naive_s=nv.total(backend) if nv else None,
                              peak_rss_mb=ms.peak_rss_mb if ms else None,
                              limit_peak_rss_mb=lim.peak_rss_mb if lim else None))
    if measure == "ingest" and ms and lim:
        out.append(report.row("peak_memory", size, None, peak_rss_mb=ms.peak_rss_mb,
                              limit_peak_rss_mb=lim.peak_rss_mb,
                              ratio_vs_limit=round(ms.peak_rss_mb / lim.peak_rss_mb, 2)))
    for stage in SHARED_STAGES:
        out.append(report.row(f"{measure}/{stage}", size, None, **{
            f"{name}_s": r.shared.get(stage) for name, r in (("minsheng", ms), ("limit", lim), ("naive", nv)) if r}))
    for backend in backends:
        for stage in BACKEND_STAGES:
            values = {f"{name}_s": r.per_backend.get(backend, {}).get(stage)
                      for name, r in (("minsheng", ms), ("limit", lim), ("naive", nv)) if r}
            if any(v is not None for v in values.values()):
                out.append(report.row(f"{measure}/{stage}", size, backend, **values))
    return out


def _ingest_measures(config: BenchConfig, workdir: Path, out_dir: Path, bench: BenchReport, log: Log) -> None:
    cases = [(rows, "csv", False) for rows in config.clean_rows]
    cases += [(config.format_rows, fmt, False) for fmt in config.formats]
    if config.format_rows not in config.clean_rows:
        cases.insert(0, (config.format_rows, "csv", False))
    cases += [(rows, "csv", True) for rows in config.bad_rows]
    runs = bench.detail.setdefault("runs", [])
    for rows, fmt, bad in cases:
        label = f"{report.size_label(rows)} {fmt}"
        log(f"ingest {'bad' if bad else 'clean'} {label}")
        wanted = not bad and fmt == "csv" and rows == config.profile_rows
        profile = out_dir / "profile_latest.prof" if wanted else None
        results = run_ingest(config, workdir, rows, fmt, bad, log, profile)
        bench.rows += ingest_rows(results, "ingest_bad" if bad else "ingest", label, config.backends)
        runs.append({"drop": label, "bad": bad, "rows": rows,
                     "results": {k: v.to_json() if isinstance(v, RunResult) else {"error": v}
                                 for k, v in results.items()}})


def _idle_measures(config: BenchConfig, workdir: Path, _out: Path, bench: BenchReport, log: Log) -> None:
    from bench.idle_tick import run_idle_tick

    for files in config.idle_files:
        log(f"idle tick over {files} seen files")
        found = run_idle_tick(workdir, files)
        bench.detail.setdefault("idle_tick", []).append(found)
        bench.rows.append(report.row("idle_tick", f"{files} files", "sqlite", minsheng_s=found["discovery_s"],
                                     limit_s=found["hash_all_s"]))


def _small_measures(config: BenchConfig, workdir: Path, _out: Path, bench: BenchReport, log: Log) -> None:
    from bench.small_drops import FILE_ROWS, run_small_drops

    per_file: float | None = None
    for files, runners in config.small_runs:
        log(f"{files} small drops: {'plain loop, ' if per_file is None else ''}ingest flow with "
            f"{', '.join(runners) or 'no runner'}")
        try:
            found = run_small_drops(workdir, files, runners, plain_per_file_s=per_file)
        except Exception as error:  # a failed measure is reported; the suite goes on
            bench.detail.setdefault("errors", []).append(f"small drops {files}: {type(error).__name__}: {error}")
            continue
        per_file = found["plain"]["per_file_s"]
        bench.detail.setdefault("small_drops", []).append(found)
        for runner in runners:
            label = f"{files}×{report.size_label(FILE_ROWS)} {runner}" + (" (2 workers)" if runner == "dask" else "")
            bench.rows.append(report.row("small_drops", label, "sqlite", minsheng_s=found[runner]["flow_s"],
                                         limit_s=found["plain"]["loop_s"]))
            bench.rows.append(report.row("orchestration_per_task", label, "sqlite",
                                         minsheng_s=found[runner]["noop_per_task_s"]))


def _aq_measures(config: BenchConfig, workdir: Path, _out: Path, bench: BenchReport, log: Log) -> None:
    from bench.aq_bench import run_aq_bench

    for stations, hours in config.aq_sizes:
        log(f"air quality {stations} stations × {hours} hours")
        found = run_aq_bench(stations, hours, workdir / "aq")
        bench.detail.setdefault("aq_derivation", []).append(found)
        bench.rows.append(report.row("aq_derivation", f"{stations}×{hours} ({report.size_label(found['rows'])} rows)",
                                     None, minsheng_s=found["derive_s"], limit_s=found["pyarrow_read_s"],
                                     peak_rss_mb=found["derive_peak_rss_mb"],
                                     limit_peak_rss_mb=found["pyarrow_read_peak_rss_mb"]))


def _sizes(rows: list[dict[str, Any]]) -> dict[str, tuple[float, str]]:
    """Magnitude and variant of every size label, for growth factors: "1M csv" → (1e6, "csv"),
    "50×1k dask (2 workers)" → (50, "dask (2 workers)"), "425×8760 (3.7M rows)" → (425 × 8760, "")."""
    out: dict[str, tuple[float, str]] = {}
    for r in rows:
        head, _, rest = r["size"].partition(" ")
        count = head.split("×")[0]
        try:
            value = float(count.rstrip("kM")) * {"k": 1e3, "M": 1e6}.get(count[-1], 1)
        except ValueError:
            continue
        if r["measure"] == "aq_derivation":
            out[r["size"]] = (value * float(head.split("×")[1]), "")
        else:
            out[r["size"]] = (value, rest)
    return out


def run_bench(config: BenchConfig, workdir: Path, out_dir: Path, log: Log = print) -> BenchReport:
    """Every measure of `config`; writes nothing but scratch files under `workdir` (and the profile in out_dir)."""
    from bench.common import postgres_available

    started = time.perf_counter()
    workdir.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    backends = tuple(b for b in config.backends if b != "postgresql" or postgres_available())
    if backends != config.backends:
        log("PostgreSQL unreachable: SQLite only")
        config = config.with_backends(backends)
    bench = BenchReport(detail={"config": config.name, "machine": describe(pg_admin_url()
                                                                            if "postgresql" in backends else None)})
    for measure in (_ingest_measures, _idle_measures, _small_measures, _aq_measures):
        try:
            measure(config, workdir, out_dir, bench, log)
        except Exception as error:  # one broken measure (say, a catalog mid-edit) must not lose the others
            log(f"  {measure.__name__.strip('_')} failed: {type(error).__name__}: {error}")
            bench.detail.setdefault("errors", []).append(f"{measure.__name__.strip('_')}: {type(error).__name__}: "
                                                         f"{error}")
    bench.growth = report.growth(bench.rows, _sizes(bench.rows))
    bench.detail["growth"] = bench.growth
    bench.detail["slowest_stages"] = report.slowest_stages(bench.rows)
    bench.detail["load_average_end"] = load_average()
    bench.detail["elapsed_s"] = round(time.perf_counter() - started, 1)
    return bench
