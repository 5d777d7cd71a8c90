"""Inline SVG charts, drawn in Python so the report needs no script library and no network when viewed.

Every label passes through `escape`; the functions return `Markup` that Jinja inserts as is. Coordinates are
floats (drawing only); the numbers printed on the charts come from the caller, already formatted exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

LIGHT_STROKE = {"green": "#1e8e3e", "yellow": "#c98a00", "red": "#c5221f", "grey": "#80868b"}
LIGHT_FILL = {"green": "#a8dab5", "yellow": "#fde293", "red": "#f6aea9", "grey": "#e8eaed"}
FONT = "font-family=\"'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',sans-serif\""


def nice_ceiling(value: float) -> float:
    """The smallest 1/2/2.5/5 × 10^k at or above a value, so an axis ends on a round number."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        candidate = step * 10**exponent
        if candidate >= value * (1 - 1e-12):
            return candidate
    return 10.0 ** (exponent + 1)


def _tick_label(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Trajectory:
    """One cumulative target's year so far, in the plan's unit: month-end values against the 序时 line."""

    title: str
    unit: str
    points: Sequence[tuple[int, float]]  # (month 1–12, year-to-date value)
    target: float | None
    light: str = "grey"
    expected_now: tuple[float, float] | None = None  # (month position of the latest period, expected value)
    projection: tuple[float, float | None, float | None] | None = None  # (year-end value, low, high)


def trajectory_svg(chart: Trajectory, width: int = 380, height: int = 230) -> Markup:
    """Year-to-date line, the time-proportional (序时) line, the target line and the year-end projection."""
    left, right, top, bottom = 52, 14, 28, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    candidates = [v for _, v in chart.points] + [chart.target or 0.0]
    if chart.projection is not None:
        candidates += [v for v in chart.projection if v is not None]
    y_max = nice_ceiling(max([*candidates, 0.0]) * 1.05)

    def x(month: float) -> float:
        return left + plot_w * month / 12

    def y(value: float) -> float:
        return top + plot_h * (1 - max(value, 0.0) / y_max)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart trajectory" '
             f'viewBox="0 0 {width} {height}" role="img" {FONT} font-size="11">',
             f"<title>{escape(chart.title)}</title>",
             f'<text x="{left}" y="16" font-size="12.5" font-weight="600">'
             f"{escape(_short(chart.title, 30))}</text>",
             f'<text x="{width - right}" y="16" text-anchor="end" fill="#5f6368">{escape(chart.unit)}</text>']
    for i in range(5):
        value = y_max * i / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                     'stroke="#e0e0e0"/>')
        parts.append(f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" fill="#5f6368">'
                     f"{_tick_label(value)}</text>")
    for month in range(1, 13):
        parts.append(f'<text x="{x(month):.1f}" y="{top + plot_h + 15}" text-anchor="middle" fill="#5f6368" '
                     f'font-size="10">{month}月</text>')
    if chart.target is not None:
        parts.append(f'<line class="expected" x1="{x(0):.1f}" y1="{y(0):.1f}" x2="{x(12):.1f}" '
                     f'y2="{y(chart.target):.1f}" stroke="#9aa0a6" stroke-width="1.5" '
                     'stroke-dasharray="5 4"/>')
        parts.append(f'<line class="target" x1="{left}" x2="{width - right}" y1="{y(chart.target):.1f}" '
                     f'y2="{y(chart.target):.1f}" stroke="#1a73e8" stroke-width="1.2"/>')
    if chart.expected_now is not None:
        ex, ey = chart.expected_now
        parts.append(f'<circle cx="{x(ex):.1f}" cy="{y(ey):.1f}" r="3.5" fill="#fff" stroke="#5f6368"/>')
    stroke = LIGHT_STROKE.get(chart.light, LIGHT_STROKE["grey"])
    if chart.points:
        path = " ".join(f"{x(m):.1f},{y(v):.1f}" for m, v in chart.points)
        parts.append(f'<polyline class="actual" points="{path}" fill="none" stroke="{stroke}" '
                     'stroke-width="2.2"/>')
        parts += [f'<circle cx="{x(m):.1f}" cy="{y(v):.1f}" r="2.6" fill="{stroke}"/>'
                  for m, v in chart.points]
    if chart.projection is not None and chart.points:
        last_m, last_v = chart.points[-1]
        mid, low, high = chart.projection
        parts.append(f'<line class="projection" x1="{x(last_m):.1f}" y1="{y(last_v):.1f}" x2="{x(12):.1f}" '
                     f'y2="{y(mid):.1f}" stroke="{stroke}" stroke-width="1.6" stroke-dasharray="2 3"/>')
        if low is not None and high is not None:
            parts.append(f'<line x1="{x(12) - 1:.1f}" x2="{x(12) - 1:.1f}" y1="{y(low):.1f}" '
                         f'y2="{y(high):.1f}" stroke="{stroke}" stroke-width="5" stroke-opacity="0.35"/>')
    legend_y = height - 8
    parts.append(_legend(left, legend_y, [(stroke, "", "实际"), ("#9aa0a6", "5 4", "序时"),
                                          ("#1a73e8", "", "目标"), (stroke, "2 3", "预测")]))
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend(x0: float, y0: float, items: list[tuple[str, str, str]]) -> str:
    out = []
    for i, (colour, dash, label) in enumerate(items):
        x = x0 + i * 72
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<line x1="{x}" x2="{x + 18}" y1="{y0 - 4}" y2="{y0 - 4}" stroke="{colour}" '
                   f'stroke-width="2"{dash_attr}/>'
                   f'<text x="{x + 22}" y="{y0}" fill="#3c4043">{escape(label)}</text>')
    return "".join(out)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class HeatCell:
    """One target × county cell: its light and the short text printed in it (a gap or a value)."""

    light: str
    label: str
    tooltip: str


def heatmap_svg(rows: Sequence[str], columns: Sequence[str],
                cells: dict[tuple[int, int], HeatCell]) -> Markup:
    """Targets down, counties across; each cell coloured by its light, empty cells for no report."""
    label_w, cell_w, cell_h, head_h = 250, 62, 24, 30
    width = label_w + cell_w * len(columns) + 8
    height = head_h + cell_h * len(rows) + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart heatmap" viewBox="0 0 {width} {height}" '
             f'width="{width}" role="img" {FONT} font-size="11">', "<title>县市 × 指标 热力图</title>"]
    for j, column in enumerate(columns):
        cx = label_w + cell_w * j + cell_w / 2
        parts.append(f'<text x="{cx:.1f}" y="{head_h - 9}" text-anchor="middle" font-weight="600">'
                     f"{escape(_short(column, 5))}</text>")
    for i, row in enumerate(rows):
        cy = head_h + cell_h * i
        parts.append(f'<text x="{label_w - 8}" y="{cy + cell_h / 2 + 4:.1f}" text-anchor="end">'
                     f"<title>{escape(row)}</title>{escape(_short(row, 20))}</text>")
        for j in range(len(columns)):
            cell = cells.get((i, j))
            cx = label_w + cell_w * j
            fill = LIGHT_FILL.get(cell.light, LIGHT_FILL["grey"]) if cell else "#ffffff"
            parts.append(f'<rect class="cell {escape(cell.light) if cell else "empty"}" x="{cx + 1}" '
                         f'y="{cy + 1}" width="{cell_w - 2}" height="{cell_h - 2}" rx="3" fill="{fill}" '
                         'stroke="#dadce0">'
                         f"<title>{escape(cell.tooltip) if cell else '未报送 / not reported'}</title></rect>")
            if cell:
                parts.append(f'<text x="{cx + cell_w / 2:.1f}" y="{cy + cell_h / 2 + 4:.1f}" '
                             f'text-anchor="middle" fill="#202124">{escape(cell.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class Allowance:
    """One county's bad-air-day allowance: days used, days allowed this year, share of the year gone."""

    county: str
    used: float
    allowed: float
    year_share: float  # days elapsed / days in year, 0–1


def allowance_light(item: Allowance) -> str:
    """Red when the allowance is spent, yellow when use runs ahead of the calendar, else green."""
    if item.used >= item.allowed:
        return "red"
    if item.used > item.allowed * item.year_share:
        return "yellow"
    return "green"


def burndown_svg(items: Sequence[Allowance]) -> Markup:
    """Per county: allowance left (bar), days used (filled) and the pro-rata use expected by now (tick)."""
    label_w, bar_w, row_h, top = 90, 420, 26, 24
    width, height = label_w + bar_w + 190, top + row_h * len(items) + 10
    scale = max([i.allowed for i in items] + [i.used for i in items] + [1.0])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart burndown" '
             f'viewBox="0 0 {width} {height}" width="{width}" role="img" {FONT} font-size="11.5">',
             "<title>优良天数余量 bad-air-day allowance</title>",
             f'<text x="{label_w}" y="14" fill="#5f6368">已用 used ■ 剩余 left □ │序时应用 pro-rata</text>']
    for i, item in enumerate(items):
        y = top + row_h * i
        light = allowance_light(item)
        allowed_w = bar_w * item.allowed / scale
        used_w = bar_w * min(item.used, scale) / scale
        tick = label_w + bar_w * item.allowed * item.year_share / scale
        left = item.allowed - item.used
        parts += [
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{escape(item.county)}</text>',
            f'<rect x="{label_w}" y="{y + 4}" width="{allowed_w:.1f}" height="16" fill="#fff" '
            'stroke="#9aa0a6"/>',
            f'<rect class="used {light}" x="{label_w}" y="{y + 4}" width="{used_w:.1f}" height="16" '
            f'fill="{LIGHT_STROKE[light]}" fill-opacity="0.8"/>',
            f'<line x1="{tick:.1f}" x2="{tick:.1f}" y1="{y + 1}" y2="{y + 23}" stroke="#202124" '
            'stroke-width="1.5"/>',
            f'<text x="{label_w + bar_w + 10}" y="{y + 16}">已用 {_tick_label(item.used)} / 允许 '
            f"{_tick_label(item.allowed)} 天，"
            f"{'余 ' + _tick_label(left) if left >= 0 else '超 ' + _tick_label(-left)}</text>",
        ]
    parts.append("</svg>")
    return Markup("".join(parts))
