"""Measure 4: many small drops through the real ingest flow, sequential vs the Dask task runner.

The inbox gets `files` drops of 1,000 rows from the departments that own the most targets (consecutive slices
of each department's year, so no two files share a key). The catalog is the real one with extra synthetic
counties (written as a catalog folder: the flow loads its catalog from MINSHENG_CATALOG_DIR). Each runner runs
in its own process (bench.flow_child) with its own Prefect home and warehouse:

1. the ingest flow on an empty inbox (starts the ephemeral Prefect API, migrates the warehouse: fixed cost),
2. the same flow again once the files are in the inbox: the timed run, files per second.

A third process runs the same per-file calls in a plain loop without Prefect (`judge_file`, `load_drop`,
receipt), so the orchestration's cost per file is (flow run − plain loop) / files; and a flow of `files` tasks that
do nothing, on the same runner, measures Prefect's own cost per task directly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.catalog import synthetic_county
from bench.child import REPO, _quiet_environment
from bench.datagen import drop_table, write_table
from expectations.loader import DEFAULT_CATALOG_DIR, load_catalog

FILE_ROWS = 1_000
EXTRA_COUNTIES = 90
DEPARTMENTS = ("finance", "development_reform", "health", "education", "forestry", "housing", "civil_affairs",
               "commerce", "agriculture")


def write_catalog(directory: Path) -> Path:
    """The real catalog plus EXTRA_COUNTIES synthetic county-level units, as a catalog folder."""
    shutil.rmtree(directory, ignore_errors=True)
    shutil.copytree(DEFAULT_CATALOG_DIR, directory)
    lines = []
    for i in range(1, EXTRA_COUNTIES + 1):
        county = synthetic_county(i)
        lines += [f'  - code: "{county.code}"', f"    name_zh: {county.name_zh}", f"    name_en: {county.name_en}",
                  "    kind: county"]
    with (directory / "counties.yaml").open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return directory


def write_drops(catalog_dir: Path, staging: Path, files: int, rows: int = FILE_ROWS) -> list[Path]:
    """`files` CSV drops of `rows` rows under staging/<dept>/, round-robin over DEPARTMENTS, keys disjoint."""
    catalog = load_catalog(catalog_dir)
    years = {}
    taken: set[str] = set()
    for slug in DEPARTMENTS:  # a target shared by two departments goes to the first: no key in two files
        own = [t for t in catalog.targets_of(slug) if t.id not in taken]
        taken |= {t.id for t in own}
        if own:
            years[slug] = drop_table(catalog.model_copy(update={"targets": own}), 10 ** 9)[0]
    cursor = dict.fromkeys(years, 0)
    paths: list[Path] = []
    capacity = sum(t.num_rows // rows for t in years.values())
    if files > capacity:
        raise ValueError(f"at most {capacity} disjoint drops of {rows} rows; raise EXTRA_COUNTIES")
    while len(paths) < files:
        for slug in years:
            if len(paths) == files:
                break
            start = cursor[slug]
            if start + rows > years[slug].num_rows:
                continue
            cursor[slug] += rows
            path = staging / slug / f"{slug}_{start // rows + 1:03d}.csv"
            write_table(path, years[slug].slice(start, rows))
            paths.append(path)
    return paths


def _flow_env(workdir: Path, catalog_dir: Path, runner: str) -> dict[str, str]:
    env = _quiet_environment()
    env.update({
        "PREFECT_HOME": str(workdir / "prefect_home"),
        "PREFECT_API_URL": "",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "MINSHENG_DATA_DIR": str(workdir / "data"),
        "MINSHENG_CATALOG_DIR": str(catalog_dir),
        "MINSHENG_WAREHOUSE_URL": f"sqlite:///{workdir / 'warehouse.sqlite'}",
        "MINSHENG_STABLE_SECONDS": "0",
        "MINSHENG_TASK_RUNNER": runner,
        "MINSHENG_DASK_WORKERS": "2",
    })
    env.pop("MINSHENG_DASK_ADDRESS", None)
    return env


def _child(mode: str, workdir: Path, catalog_dir: Path, staging: Path, runner: str) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-m", "bench.flow_child", mode, str(staging)], capture_output=True,
                          text=True, cwd=REPO, env=_flow_env(workdir, catalog_dir, runner), timeout=1800,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"small-drops {mode}/{runner} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_small_drops(workdir: Path, files: int, runners: tuple[str, ...] = ("sequential", "dask"),
                    plain_per_file_s: float | None = None) -> dict[str, Any]:
    """Files per second per runner and the orchestration's cost per file.

    The plain loop runs here unless `plain_per_file_s` is given (its per-file cost measured at another size:
    it does not depend on how many files there are); then its seconds are that cost × files, marked estimated.
    """
    base = workdir / f"small_{files}"
    shutil.rmtree(base, ignore_errors=True)
    catalog_dir = write_catalog(base / "catalog")
    staging = base / "staging"
    write_drops(catalog_dir, staging, files)
    if plain_per_file_s is None:
        plain = _child("plain", base / "plain", catalog_dir, staging, "sequential") | {"estimated": False}
    else:
        plain = {"files": files, "loop_s": round(plain_per_file_s * files, 3), "per_file_s": plain_per_file_s,
                 "estimated": True}
    out: dict[str, Any] = {"files": files, "rows_per_file": FILE_ROWS, "plain": plain, "cpus": os.cpu_count()}
    for runner in runners:
        flow = _child("flow", base / runner, catalog_dir, staging, runner)
        out[runner] = flow | {"files_per_s": round(files / flow["flow_s"], 2),
                              "overhead_per_file_s": round((flow["flow_s"] - plain["loop_s"]) / files, 4)}
    return out
