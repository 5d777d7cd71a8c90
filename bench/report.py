"""Result rows (the JSON contract of bench/results/latest.json), growth factors and the tables people read.

Every row has the same keys, null where a field does not apply:

    measure, size, backend, minsheng_s, limit_s, naive_s, ratio_vs_limit, naive_over_minsheng,
    peak_rss_mb, limit_peak_rss_mb

What "limit" means depends on the measure: the limit pipeline for ingest rows; hashing every file for
idle_tick; the same per-file calls without Prefect for small_drops; a plain pyarrow read for aq_derivation.
For peak_memory rows ratio_vs_limit is the ratio of peak resident memory, not of seconds.
"""

from __future__ import annotations

from typing import Any

ROW_KEYS = ("measure", "size", "backend", "minsheng_s", "limit_s", "naive_s", "ratio_vs_limit",
            "naive_over_minsheng", "peak_rss_mb", "limit_peak_rss_mb")
TARGETS: dict[str, tuple[str, float]] = {  # measure → (which ratio, the target for it)
    "ingest": ("ratio_vs_limit ≤", 2.0),
    "peak_memory": ("ratio_vs_limit ≤", 2.0),
    "idle_tick": ("ratio_vs_limit ≤", 0.2),
    "aq_derivation": ("ratio_vs_limit ≤", 5.0),
}
NAIVE_TARGET = 10.0  # naive / minsheng ≥ this on ingest
# The sizes the issue states each target for (size labels start so); other sizes are measured for growth only.
TARGET_SIZES: dict[str, tuple[str, ...]] = {
    "ingest": ("1M csv", "5M csv"), "peak_memory": ("5M csv",), "idle_tick": ("10000 files",),
    "aq_derivation": ("1700×",),
}


def size_label(rows: int) -> str:
    """1000 → 1k, 100000 → 100k, 1000000 → 1M, 5000000 → 5M (rounded, for tables)."""
    if rows >= 1_000_000:
        return f"{rows / 1_000_000:g}M"
    if rows >= 1_000:
        return f"{rows / 1_000:g}k"
    return str(rows)


def _ratio(a: float | None, b: float | None, digits: int = 2) -> float | None:
    return round(a / b, digits) if a is not None and b else None


def row(measure: str, size: str, backend: str | None, *, minsheng_s: float | None = None,
        limit_s: float | None = None, naive_s: float | None = None, peak_rss_mb: float | None = None,
        limit_peak_rss_mb: float | None = None, ratio_vs_limit: float | None = None) -> dict[str, Any]:
    """One result row; the ratios are computed from the seconds unless given (memory rows give their own)."""
    r = lambda v: None if v is None else round(v, 3)  # noqa: E731 — a local formatter
    return {
        "measure": measure, "size": size, "backend": backend, "minsheng_s": r(minsheng_s), "limit_s": r(limit_s),
        "naive_s": r(naive_s),
        "ratio_vs_limit": ratio_vs_limit if ratio_vs_limit is not None else _ratio(minsheng_s, limit_s, 3),
        "naive_over_minsheng": _ratio(naive_s, minsheng_s),
        "peak_rss_mb": peak_rss_mb, "limit_peak_rss_mb": limit_peak_rss_mb,
    }


def verdict(r: dict[str, Any]) -> str:
    """"met" / "MISSED" against the issue's target for the row's measure, "" when it has none."""
    notes: list[str] = []
    if not str(r["size"]).startswith(TARGET_SIZES.get(r["measure"], ("",))):
        return ""
    if r["measure"] in TARGETS and r["ratio_vs_limit"] is not None:
        _, bound = TARGETS[r["measure"]]
        notes.append("met" if r["ratio_vs_limit"] <= bound else "MISSED")
    if r["measure"] == "ingest" and r["naive_over_minsheng"] is not None:
        notes.append("naive met" if r["naive_over_minsheng"] >= NAIVE_TARGET else "naive MISSED")
    return ", ".join(notes)


def growth(rows: list[dict[str, Any]], sizes: dict[str, tuple[float, str]]) -> list[dict[str, Any]]:
    """Per measure, backend and variant: how minsheng's (and the limit's) cost grows from the smallest size.

    `sizes` maps a row's size label to its magnitude (rows, files, readings) and its variant (format, runner):
    only rows of one variant are compared. factor = cost ratio; `per_unit` = factor / size ratio (1.0 is linear,
    above 1 grows faster than the input).
    """
    out = []
    groups: dict[tuple[str, str | None, str], list[dict[str, Any]]] = {}
    for r in rows:
        if r["size"] in sizes and "/" not in r["measure"]:
            groups.setdefault((r["measure"], r["backend"], sizes[r["size"]][1]), []).append(r)
    for (measure, backend, _), members in groups.items():
        members.sort(key=lambda m: sizes[m["size"]][0])
        field, limit_field = ("peak_rss_mb", "limit_peak_rss_mb") if measure == "peak_memory" else (
            "minsheng_s", "limit_s")
        base = members[0]
        for other in members[1:]:
            scale = sizes[other["size"]][0] / sizes[base["size"]][0]
            factor = _ratio(other[field], base[field])
            out.append({"measure": measure, "backend": backend, "from": base["size"], "to": other["size"],
                        "size_factor": round(scale, 2), "minsheng_factor": factor,
                        "limit_factor": _ratio(other[limit_field], base[limit_field]),
                        "per_unit": round(factor / scale, 2) if factor is not None else None})
    return out


def cell(value: Any) -> str:
    """One table cell: – for null, three significant digits below 100, whole numbers above."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def markdown_table(rows: list[dict[str, Any]], *, stages: bool = False) -> str:
    """The ratio table (stage rows only when `stages`), as GitHub markdown."""
    head = ["measure", "size", "backend", "minsheng s", "limit s", "naive s", "minsheng/limit", "naive/minsheng",
            "peak MB", "limit peak MB", "target"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if ("/" in r["measure"]) != stages:
            continue
        cells = [r["measure"], r["size"], r["backend"], r["minsheng_s"], r["limit_s"], r["naive_s"],
                 r["ratio_vs_limit"], r["naive_over_minsheng"], r["peak_rss_mb"], r["limit_peak_rss_mb"], verdict(r)]
        lines.append("| " + " | ".join(cell(c) for c in cells) + " |")
    return "\n".join(lines)


def markdown_growth(items: list[dict[str, Any]]) -> str:
    lines = ["| measure | backend | from → to | size × | minsheng × | limit × | minsheng per unit |",
             "|---|---|---|---|---|---|---|"]
    for g in items:
        lines.append(f"| {g['measure']} | {cell(g['backend'])} | {g['from']} → {g['to']} | {cell(g['size_factor'])}"
                     f" | {cell(g['minsheng_factor'])} | {cell(g['limit_factor'])} | {cell(g['per_unit'])} |")
    return "\n".join(lines)


def slowest_stages(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per ingest size and backend: the stage where minsheng spends most, with its share and its ratio to the limit."""
    out = []
    totals = {(r["measure"], r["size"], r["backend"]): r["minsheng_s"] for r in rows if "/" not in r["measure"]}
    by_case: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        if "/" in r["measure"] and r["minsheng_s"] is not None:
            by_case.setdefault((r["measure"].split("/")[0], r["size"]), []).append(r)
    for (measure, size), stages in by_case.items():
        for backend in sorted({s["backend"] for s in stages if s["backend"]}):
            mine = [s for s in stages if s["backend"] in (None, backend)]
            worst = max(mine, key=lambda s: s["minsheng_s"])
            total = totals.get((measure, size, backend))
            out.append({"measure": measure, "size": size, "backend": backend, "stage": worst["measure"].split("/")[1],
                        "stage_s": worst["minsheng_s"], "share": _ratio(worst["minsheng_s"], total),
                        "stage_vs_limit": worst["ratio_vs_limit"]})
    return out
