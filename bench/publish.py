"""Write a bench run's results: latest.json (the rows), a detail file, the profile summary and the docs section."""

from __future__ import annotations

import json
import pstats
from io import StringIO
from pathlib import Path
from typing import Any

from bench import report
from bench.suite import BenchReport

DOC_BEGIN = "<!-- bench:begin (written by `minsheng bench --docs`; edit the prose outside these markers) -->"
DOC_END = "<!-- bench:end -->"
OWN_CODE = ("/tasks/", "/warehouse/", "/expectations/")


def profile_summary(path: Path, limit: int = 30) -> dict[str, Any]:
    """minsheng's own functions by cumulative time, and every function by own time, from a cProfile dump."""
    stats = pstats.Stats(str(path))
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]  # (file, line, fn) → (cc, nc, tt, ct, callers)
    entries = [{"function": f"{Path(k[0]).parent.name}/{Path(k[0]).name}:{k[1]}({k[2]})", "file": k[0],
                "calls": v[1], "own_s": round(v[2], 3), "cumulative_s": round(v[3], 3)} for k, v in raw.items()]
    own = sorted((e for e in entries if any(p in e["file"] for p in OWN_CODE)), key=lambda e: -e["cumulative_s"])
    hot = sorted(entries, key=lambda e: -e["own_s"])
    for e in entries:
        del e["file"]
    return {"total_s": round(max((e["cumulative_s"] for e in entries), default=0.0), 3),
            "minsheng_by_cumulative": own[:limit], "by_own_time": hot[:limit]}


def profile_text(path: Path, limit: int = 40) -> str:
    out = StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.sort_stats("cumulative").print_stats("/work/main/(tasks|warehouse|expectations)|minsheng_run", limit)
    stats.sort_stats("tottime").print_stats(limit)
    return out.getvalue()


def write_results(bench: BenchReport, out_dir: Path) -> Path:
    """latest.json (rows only), latest_detail.json, and the profile summary when one was taken.

    A quick or tiny suite writes latest_quick.json / latest_tiny.json (and their details) instead, so checking
    the harness never overwrites the full suite's committed results.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = "latest" if bench.detail.get("config") == "full" else f"latest_{bench.detail.get('config')}"
    latest = out_dir / f"{stem}.json"
    latest.write_text(json.dumps([{k: r[k] for k in report.ROW_KEYS} for r in bench.rows], ensure_ascii=False,
                                 indent=1) + "\n", encoding="utf-8")
    profile = out_dir / "profile_latest.prof"
    if profile.is_file():
        bench.detail["profile"] = profile_summary(profile)
        (out_dir / "profile_latest.txt").write_text(profile_text(profile), encoding="utf-8")
        profile.unlink()
    (out_dir / f"{stem}_detail.json").write_text(json.dumps(bench.detail, ensure_ascii=False, indent=1) + "\n",
                                                encoding="utf-8")
    return latest


def machine_markdown(machine: dict[str, Any]) -> str:
    libs = ", ".join(f"{k} {v}" for k, v in machine.get("libraries", {}).items() if v)
    return "\n".join([
        f"- CPU: {machine.get('nproc')} × {machine.get('cpu')}; memory {machine.get('memory_gb')} GB "
        f"({machine.get('memory_available_gb')} GB free at the start)",
        f"- OS: {machine.get('os')}; Python {machine.get('python')}; SQLite {machine.get('sqlite')}; "
        f"PostgreSQL {machine.get('postgresql') or 'not measured'}",
        f"- libraries: {libs}",
        f"- load average at start: {machine.get('load_average')} (shared machine: other people's tests ran too)",
    ])


def memory_markdown(detail: dict[str, Any]) -> str:
    """Peak memory when each stage ended, minsheng vs the limit, on the largest clean CSV drop."""
    runs = [r for r in detail.get("runs", []) if not r["bad"] and r["drop"].endswith("csv")
            and "memory_mb" in r["results"].get("minsheng", {})]
    if not runs:
        return ""
    run = max(runs, key=lambda r: r["rows"])
    mine, lim = run["results"]["minsheng"]["memory_mb"], run["results"].get("limit", {}).get("memory_mb", {})
    lines = [f"Peak resident memory (MB, VmHWM) when each stage ended, {run['drop']} drop:", "",
             "| stage | minsheng | limit |", "|---|---|---|"]
    lines += [f"| {stage} | {mb:.0f} | {lim[stage]:.0f} |" if stage in lim else f"| {stage} | {mb:.0f} | – |"
              for stage, mb in mine.items()]
    return "\n".join(lines)


def results_markdown(bench: BenchReport) -> str:
    """The generated part of docs/performance.md: machine, ratio table, stages, slowest stage, growth."""
    detail = bench.detail
    slow = detail.get("slowest_stages", [])
    lines = [
        f"Run: `{detail.get('config')}` suite, {detail.get('elapsed_s')} s wall; load average at the end "
        f"{detail.get('load_average_end')}.", "", machine_markdown(detail.get("machine", {})), "",
        "### Ratios", "", report.markdown_table(bench.rows), "",
        "### Stages (seconds; shared stages have no backend)", "", report.markdown_table(bench.rows, stages=True), "",
        "### Slowest minsheng stage per run", "",
        "| measure | size | backend | stage | seconds | share of total | stage minsheng/limit |",
        "|---|---|---|---|---|---|---|",
        *[f"| {s['measure']} | {s['size']} | {s['backend']} | {s['stage']} | {s['stage_s']} | {s['share']} | "
          f"{s['stage_vs_limit']} |" for s in slow],
        "", "### Growth", "", report.markdown_growth(bench.growth),
        "", "### Where the memory peaks", "", memory_markdown(detail),
    ]
    errors = list(detail.get("errors", [])) + [f"{r['drop']}: {k}: {v['error']}" for r in detail.get("runs", [])
                                                for k, v in r["results"].items() if "error" in v]
    if errors:
        lines += ["", "### Runs that did not finish", "", *[f"- {e}" for e in errors]]
    return "\n".join(lines)


def update_docs(doc: Path, bench: BenchReport) -> None:
    """Replace the generated section of `doc` (between the markers) with this run; append it if absent."""
    section = f"{DOC_BEGIN}\n\n{results_markdown(bench)}\n\n{DOC_END}"
    text = doc.read_text(encoding="utf-8") if doc.is_file() else "# Performance\n"
    if DOC_BEGIN in text and DOC_END in text:
        head, rest = text.split(DOC_BEGIN, 1)
        text = head + section + rest.split(DOC_END, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    doc.write_text(text, encoding="utf-8")
