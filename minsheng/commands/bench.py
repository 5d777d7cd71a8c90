"""`minsheng bench`: how fast and how big, as ratios against a hand-tuned limit and the naive pandas + GX way."""

from __future__ import annotations

import tempfile
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from minsheng.cli import app

RESULTS_DIR = Path(__file__).resolve().parents[2] / "bench" / "results"


@app.command("bench")
def bench_command(
    quick: bool = typer.Option(False, "--quick", help="small sizes (about two minutes) to check the harness"),
    suite: str | None = typer.Option(None, "--suite", help="full, quick or tiny (overrides --quick)"),
    workdir: Path | None = typer.Option(None, "--workdir", help="scratch folder for drops and databases "
                                        "(kept; generated drops are reused). Default: a temporary folder"),
    out_dir: Path = typer.Option(RESULTS_DIR, "--out", help="where latest.json and latest_detail.json go "
                                 "(latest_quick.json … for the smaller suites)"),
    docs: Path | None = typer.Option(None, "--docs", help="also rewrite the results section of this markdown "
                                     "file (docs/performance.md)"),
    sqlite_only: bool = typer.Option(False, "--sqlite-only", help="skip PostgreSQL"),
    profile: int | None = typer.Option(None, "--profile", help="also run minsheng under cProfile on the clean CSV "
                                       "drop of this many rows (one of the suite's sizes); the summary goes to "
                                       "latest_detail.json and profile_latest.txt"),
) -> None:
    """Measure minsheng against the limit and naive baselines on the same generated data; print the ratio table
    and write bench/results/latest.json. Absolute seconds vary between machines: the ratios are the result."""
    from bench.config import CONFIGS
    from bench.publish import update_docs, write_results
    from bench.report import cell, markdown_growth, verdict
    from bench.suite import run_bench

    name = suite or ("quick" if quick else "full")
    if name not in CONFIGS:
        raise typer.BadParameter(f"choose one of {', '.join(CONFIGS)}", param_hint="--suite")
    config = CONFIGS[name]
    if sqlite_only:
        config = config.with_backends(("sqlite",))
    if profile is not None:
        if profile not in config.clean_rows:
            raise typer.BadParameter(f"choose one of the suite's clean sizes: {config.clean_rows}",
                                     param_hint="--profile")
        config = config.with_profile(profile)
    console = Console(width=max(Console().width, 150))
    with tempfile.TemporaryDirectory(prefix="minsheng-bench-") as scratch:
        report = run_bench(config, workdir or Path(scratch), out_dir, log=lambda m: console.print(m, highlight=False))
    latest = write_results(report, out_dir)
    table = Table(title=f"minsheng bench ({name}) — ratios are the result, seconds vary by machine")
    for column in ("measure", "size", "backend", "minsheng s", "limit s", "naive s", "ms/limit", "naive/ms",
                   "peak MB", "limit MB", "target"):
        table.add_column(column, justify="left" if column in ("measure", "size", "backend", "target") else "right")
    for r in (r for r in report.rows if "/" not in r["measure"]):
        table.add_row(*[cell(r[k]) for k in ("measure", "size", "backend", "minsheng_s", "limit_s", "naive_s",
                                              "ratio_vs_limit", "naive_over_minsheng", "peak_rss_mb",
                                              "limit_peak_rss_mb")], verdict(r))
    console.print(table)
    for slow in report.detail.get("slowest_stages", []):
        console.print(f"slowest stage, {slow['measure']} {slow['size']} {slow['backend']}: {slow['stage']} "
                      f"({slow['stage_s']} s, {slow['share']} of the total, {slow['stage_vs_limit']}× the limit's)",
                      highlight=False)
    console.print(markdown_growth(report.growth), highlight=False)
    if docs is not None:
        update_docs(docs, report)
    console.print(f"wrote {latest} in {report.detail.get('elapsed_s')} s", highlight=False)

