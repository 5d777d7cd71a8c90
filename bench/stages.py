"""One drop through one pipeline, stage by stage: the quick look a developer takes while tuning a stage.

    python -m bench.stages 1000000 [--impl minsheng|limit|naive] [--fmt csv|xlsx|parquet] [--bad]
                                   [--backends sqlite,postgresql] [--workdir /tmp/minsheng-bench]

Generates the drop (or reuses it), runs the pipeline in a fresh process on fresh databases, and prints seconds
per stage, the end-to-end figure per warehouse and the peak resident memory. The full comparison is
`minsheng bench`; this is the same child run, one pipeline at a time.
"""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path

from bench.catalog import BENCH_DEPARTMENT
from bench.child import run_child
from bench.common import Case, fresh_database
from bench.config import FULL
from bench.suite import drop_path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stages", description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("--impl", default="minsheng", choices=("minsheng", "limit", "naive"))
    parser.add_argument("--fmt", default="csv", choices=("csv", "xlsx", "parquet"))
    parser.add_argument("--bad", action="store_true")
    parser.add_argument("--backends", default="sqlite")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/minsheng-bench"))
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    drop = drop_path(args.workdir, args.rows, args.fmt, args.bad, FULL.bad_share)
    with ExitStack() as stack:
        urls = {b: stack.enter_context(fresh_database(b, args.workdir, f"stages_{args.impl}_{args.rows}"))
                for b in args.backends.split(",")}
        case = Case(impl=args.impl, drop=drop, rows=args.rows, workdir=args.workdir / "runs", backends=urls,
                    department=BENCH_DEPARTMENT)
        case.workdir.mkdir(parents=True, exist_ok=True)
        result = run_child(case)
    print(f"{args.impl} on {drop.name}: outcome {result.outcome}, rows loaded {result.rows_loaded}")
    for stage, seconds in result.shared.items():
        print(f"  {stage:10s} {seconds:8.3f} s   peak {result.memory_mb.get(stage, 0):7.0f} MB")
    for backend, times in result.per_backend.items():
        for stage, seconds in times.items():
            print(f"  {stage + '@' + backend:22s} {seconds:8.3f} s")
        print(f"  total@{backend}: {result.total(backend):.2f} s")
    print(f"  peak resident memory: {result.peak_rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
