"""The scorecard half of a report page: summary counts, the target table and the three charts.

Each function turns frames into plain dicts of already-formatted text, so templates only lay them out.
"""

from __future__ import annotations

import calendar
from typing import Any

import pandas as pd

from expectations.models import Catalog, Kind, Target
from tasks.report import fmt
from tasks.report.charts import Allowance, HeatCell, Trajectory, burndown_svg, heatmap_svg, trajectory_svg
from tasks.report.data import ReportData
from tasks.report.scorecard import CLASS_LABELS, LIGHT_LABELS

_RED_FIRST = {"red": 0, "yellow": 1, "green": 2, "grey": 3}


def month_of(period: Any) -> int | None:
    """The month number of a "YYYY-MM" period, None when missing or malformed."""
    text = fmt.text(period)
    if len(text) >= 7 and text[4] == "-" and text[5:7].isdigit():
        return int(text[5:7])
    return None


def scorecard_rows(card: pd.DataFrame, catalog: Catalog) -> list[dict[str, Any]]:
    """One display row per target of the scorecard frame, in its order."""
    programs = {p.id: p for p in catalog.programs}
    rows = []
    for record in card.to_dict("records"):
        target = catalog.target(record["target_id"])
        program = programs.get(target.program)
        light, schedule = str(record["light"]), str(record["schedule"])
        will_meet = record.get("will_meet")
        rows.append({
            "id": target.id,
            "name": target.name_zh,
            "name_en": target.name_en,
            "ref": target.ref,
            "program": program.name_zh if program else target.program,
            "leads": "、".join(fmt.department_name(s, catalog) for s in target.lead_departments),
            "light": light,
            "light_zh": LIGHT_LABELS[light][0],
            "schedule": schedule,
            "schedule_zh": CLASS_LABELS[schedule][0],
            "period": fmt.text(record.get("period")),
            "county": fmt.county_name(record.get("county_code"), catalog),
            "value": _value_text(record.get("value"), target, catalog),
            "worst_county": "" if fmt.is_missing(record.get("county_code"))
            or str(record.get("county_code")) == catalog.prefecture_code
            else fmt.county_name(record.get("county_code"), catalog),
            "target": fmt.target_text(target, record.get("target_value"), catalog),
            "completion": fmt.pct(record.get("completion_pct")),
            "expected": fmt.pct(record.get("expected_pct")),
            "gap": fmt.points(record.get("gap_points")),
            "projection": fmt.quantity(record.get("projection"), target, catalog),
            "projection_range": _projection_range(record, target, catalog),
            "will_meet": "—" if fmt.is_missing(will_meet) else ("能完成" if bool(will_meet) else "难完成"),
            "detail": "" if fmt.is_missing(record.get("detail_zh")) else str(record.get("detail_zh")),
        })
    return rows


def _value_text(value: Any, target: Target, catalog: Catalog) -> str:
    """The latest value as read: a milestone's 1/0 is 已完成/未完成, anything else a quantity in the plan's unit."""
    if target.kind == Kind.MILESTONE and not fmt.is_missing(value):
        return "已完成" if fmt.to_decimal(value) == 1 else "未完成"
    return fmt.quantity(value, target, catalog)


def _projection_range(record: dict[str, Any], target: Target, catalog: Catalog) -> str:
    low, high = record.get("projection_low"), record.get("projection_high")
    if fmt.is_missing(low) or fmt.is_missing(high):
        return ""
    unit, _ = fmt.written_unit(target, catalog)
    low_text = fmt.number(fmt.in_written_unit(low, target, catalog))
    return f"{low_text}–{fmt.number(fmt.in_written_unit(high, target, catalog))}{unit}"


def _as_written(value: Any, target: Target, catalog: Catalog) -> float | None:
    return fmt.to_float(fmt.in_written_unit(value, target, catalog))


def trajectory_charts(data: ReportData, catalog: Catalog, card: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """A year-to-date chart per cumulative target of `card` with data, keyed by target id."""
    pref = catalog.prefecture_code
    history = data.history.copy()
    history["month"] = history["period"].map(month_of)
    this_year = history["period"].astype(str).str.startswith(str(catalog.year))
    history = history[this_year & history["month"].notna()]
    history["is_pref"] = history["county_code"].astype(str).eq(pref)
    history["number"] = history["value"].map(fmt.to_decimal)
    by_target = {str(k): v for k, v in history.groupby("target_id")}
    empty = history.iloc[0:0]
    charts = {}
    for head in card.to_dict("records"):
        target = catalog.target(head["target_id"])
        if target.kind != Kind.CUMULATIVE:
            continue
        rows = by_target.get(target.id, empty)
        own = rows[rows["is_pref"]]
        if own.empty and target.additive:
            own = rows.dropna(subset=["number"]).groupby("month", as_index=False)["number"].sum()
        series = own.dropna(subset=["number"]).sort_values("month")
        points = [(int(m), v) for m, n in zip(series["month"], series["number"], strict=True)
                  if (v := _as_written(n, target, catalog)) is not None]
        goal = _as_written(head.get("target_value"), target, catalog)
        goal = goal if goal is not None else _as_written(target.value, target, catalog)
        month = month_of(head.get("period"))
        latest = _as_written(head.get("value"), target, catalog)
        if not points and month is not None and latest is not None:
            points = [(month, latest)]
        if not points:
            continue
        expected = fmt.to_float(head.get("expected_pct"))
        projection = _as_written(head.get("projection"), target, catalog)
        unit, _ = fmt.written_unit(target, catalog)
        chart = Trajectory(
            title=target.name_zh, unit=unit, points=points, target=goal, light=str(head["light"]),
            expected_now=(month, goal * expected / 100) if month and goal is not None and expected is not None
            else None,
            projection=(projection, _as_written(head.get("projection_low"), target, catalog),
                        _as_written(head.get("projection_high"), target, catalog)) if projection is not None
            else None,
        )
        charts[target.id] = {"id": target.id, "light": chart.light, "svg": trajectory_svg(chart)}
    return charts


def charts_for(charts: dict[str, dict[str, Any]], targets: list[Target]) -> list[dict[str, Any]]:
    """The charts of a page's targets, reddest first (then in catalog order)."""
    chosen = [charts[t.id] for t in targets if t.id in charts]
    return sorted(chosen, key=lambda c: _RED_FIRST.get(c["light"], 9))


def heatmap(classed_status: pd.DataFrame, catalog: Catalog, targets: list[Target]) -> Any:
    """The county × target heat map of every covered target reported per county; None when there is none."""
    by_id = {t.id: t for t in targets}
    rows = classed_status[classed_status["target_id"].isin(list(by_id))
                          & ~classed_status["county_code"].astype(str).eq(catalog.prefecture_code)]
    if rows.empty:
        return None
    classed = rows.assign(county_code=rows["county_code"].astype(str))
    present_targets, present_codes = set(classed["target_id"]), set(classed["county_code"])
    target_ids = [t.id for t in targets if t.id in present_targets]
    codes = [c.code for c in catalog.counties if c.code in present_codes]
    codes += sorted(present_codes - set(codes))
    cells: dict[tuple[int, int], HeatCell] = {}
    row_of = {tid: i for i, tid in enumerate(target_ids)}
    col_of = {code: j for j, code in enumerate(codes)}
    for record in classed.to_dict("records"):
        target = by_id[record["target_id"]]
        gap = record.get("gap_points")
        value = fmt.quantity(record.get("value"), target, catalog)
        label = value if fmt.is_missing(gap) else fmt.points(gap)
        county = fmt.county_name(record["county_code"], catalog)
        tooltip = (f"{county} · {target.name_zh}: {fmt.quantity(record.get('value'), target, catalog)}，目标 "
                   f"{fmt.target_text(target, record.get('target_value'), catalog)}，完成 "
                   f"{fmt.pct(record.get('completion_pct'))}，序时 {fmt.pct(record.get('expected_pct'))}")
        cells[(row_of[record["target_id"]], col_of[record["county_code"]])] = HeatCell(
            light=str(record["light"]), label=label, tooltip=tooltip)
    names = [by_id[t].name_zh for t in target_ids]
    return heatmap_svg(names, [fmt.county_name(c, catalog) for c in codes], cells)


def burndown(data: ReportData, catalog: Catalog) -> Any:
    """The good-air-days allowance chart per county; None without air-budget data."""
    if data.air_budget is None or data.air_budget.empty:
        return None
    days_in_year = 366 if calendar.isleap(catalog.year) else 365
    order = {c.code: i for i, c in enumerate(catalog.counties)}
    frame = data.air_budget.assign(_order=data.air_budget["county_code"].astype(str).map(order))
    items = [
        Allowance(county=fmt.county_name(r["county_code"], catalog),
                  used=fmt.to_float(r["bad_days_used"]) or 0.0,
                  allowed=fmt.to_float(r["bad_days_allowed"]) or 0.0,
                  year_share=min((fmt.to_float(r["days_elapsed"]) or 0.0) / days_in_year, 1.0))
        for r in frame.sort_values("_order", na_position="last").to_dict("records")
        if not fmt.is_missing(r["bad_days_used"]) and not fmt.is_missing(r["bad_days_allowed"])
    ]
    return burndown_svg(items) if items else None


def count_rows(table: pd.DataFrame, names: dict[str, str], links: dict[str, str]) -> list[dict[str, Any]]:
    """Rows of a 超序时/达序时/欠序时 count table with display names and optional links."""
    return [{"key": key, "name": names.get(key, key), "link": links.get(key),
             **{k: int(v) for k, v in row.items()}} for key, row in table.iterrows()]
