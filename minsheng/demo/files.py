"""The demo's files, as bytes with a name, a drop time and the outcome the pipeline should reach for each.

One builder per part in the story: GBK tables with a title row and 合计 rows, messy workbooks, the department
with one bad file (and its correction), the department that stops after month last-2, and everybody else.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from expectations.models import Catalog, Kind, Target
from minsheng.demo.render import Style, county_column, csv_bytes, table_rows, value_column
from minsheng.demo.series import Obs, Story, rng_for, target_observations
from minsheng.demo.xlsx import stale_copy, workbook_bytes
from tasks.contracts import Outcome

TZ = ZoneInfo("Asia/Shanghai")
MILESTONE_TEXT = {"完成", "未完成"}


@dataclass(frozen=True)
class Planned:
    """One file to write under raw_dir, with what the pipeline should make of it."""

    relative_path: str  # POSIX path under raw_dir, starting with the department slug
    department: str
    data: bytes
    months: tuple[int, ...]
    rows: int  # data rows a reader keeps, one per target × county × month (合计 rows are not counted)
    expected: Outcome
    features: tuple[str, ...]
    dropped: dt.datetime  # when the department dropped it (the file's mtime), Asia/Shanghai


@dataclass(frozen=True)
class Department:
    """What one department reports in the demo: its slug, names, true values and spelling."""

    slug: str
    name_zh: str
    short_zh: str
    index: int  # position among lead departments; varies drop times
    targets: list[Target]
    observations: list[Obs]
    style: Style


def department_observations(targets: list[Target], catalog: Catalog, months: list[int], seed: int,
                            story: Story, breakdown_all: bool) -> list[Obs]:
    """True values of a department's targets; prefecture-scope additive ones get county parts for about half
    the targets (all with `breakdown_all`). A department with only annual targets sends interim figures."""
    out: list[Obs] = []
    for target in targets:
        breakdown = breakdown_all or rng_for(seed, "breakdown", target.id).random() < 0.5
        out += target_observations(target, catalog, months, seed, story, breakdown)
    if not out:
        for target in targets:
            out += target_observations(target, catalog, months[-1:], seed, story, breakdown_all,
                                       as_given=True)
    return out


def _ordered(observations: list[Obs], dept: Department, catalog: Catalog,
             by_county: bool = False) -> list[Obs]:
    """Rows as a department lays them out: by month, target, then county (全州 first, or 合计 last)."""
    target_pos = {t.id: i for i, t in enumerate(dept.targets)}
    county_pos = {code: i for i, code in enumerate(catalog.county_codes)}
    summed = {o.target_id for o in observations if o.county_code != catalog.prefecture_code}

    def county_key(o: Obs) -> int:
        if o.county_code == catalog.prefecture_code:
            return len(county_pos) + 1 if dept.style.total_label == "合计" and o.target_id in summed else -1
        return county_pos.get(o.county_code, len(county_pos))

    if by_county:
        return sorted(observations, key=lambda o: (o.month, county_key(o), target_pos[o.target_id]))
    return sorted(observations, key=lambda o: (o.month, target_pos[o.target_id], county_key(o)))


def _dropped(year: int, last_month: int, day: int, hour: int) -> dt.datetime:
    """Drop time: early in the month after the last month the file covers."""
    month = last_month % 12 + 1
    return dt.datetime(year + (last_month == 12), month, day, hour, 17, tzinfo=TZ)


def _expected(observations: list[Obs]) -> Outcome:
    return Outcome.LOAD_WITH_WARNINGS if any(o.misses for o in observations) else Outcome.LOAD


def _features(rows: list[list[str]], style: Style, catalog: Catalog) -> list[str]:
    """What makes a CSV realistic, read off its content: encoding, title/合计 rows, units written in the
    value text (1.39万人, 97.2%), full-width digits, a former county name (禄丰县), milestones as 完成."""
    counties, values = [r[county_column(style)] for r in rows], [r[value_column(style)] for r in rows]
    former = {name for c in catalog.counties for name in c.former_names}
    found = {
        "title_row": style.title is not None,
        "total_row": "合计" in counties,
        "units_in_text": any(re.search(r"[^\d.,０-９．，]$", v) and v not in MILESTONE_TEXT for v in values),
        "fullwidth_digits": any(re.search("[０-９]", v) for v in values),
        "former_county_name": bool(former & set(counties)),
        "milestone_text": any(v in MILESTONE_TEXT for v in values),
    }
    encoding = {"utf-8": "utf-8", "utf-8-sig": "utf-8-bom", "gb18030": "gbk"}[style.encoding]
    return ["csv", encoding, *(name for name, present in found.items() if present)]


def csv_drop(dept: Department, relative: str, months: list[int], catalog: Catalog, year: int,
             style: Style | None = None, day: int = 3) -> Planned | None:
    """A CSV with the department's rows for `months` (None when it has nothing for them)."""
    style = style or dept.style
    chosen = _ordered([o for o in dept.observations if o.month in months], dept, catalog)
    if not chosen:
        return None
    rows = table_rows(chosen, catalog, year, style)
    reported = tuple(sorted({o.month for o in chosen}))
    features = _features(rows, style, catalog) + (["several_months"] if len(reported) > 1 else [])
    kept = sum(1 for r in rows if r[county_column(style)] != "合计")
    return Planned(f"{dept.slug}/{relative}", dept.slug, csv_bytes(rows, style), reported, kept,
                   _expected(chosen), tuple(features), _dropped(year, max(months), day, 9 + dept.index % 8))


def gbk_files(dept: Department, months: list[int], catalog: Catalog, year: int) -> list[Planned]:
    """Monthly GBK tables with a title row and 合计 rows; units in the value text, one month in full-width."""
    wide = 4 if 4 in months else months[0]
    prefix = "楚雄" if dept.name_zh.startswith("州") else ""
    out = []
    for m in months:
        title = f"{prefix}{dept.name_zh}{year}年{m}月民生实事进展统计表"
        style = Style(header="full", county="name", period="zh", encoding="gb18030", newline="\r\n",
                      title=title, total_label="合计", text_units=m != wide, fullwidth=m == wide)
        planned = csv_drop(dept, f"{year}/{title}.csv", [m], catalog, year, style, day=4)
        out += [planned] if planned else []
    return out


def xlsx_files(dept: Department, months: list[int], catalog: Catalog, year: int) -> list[Planned]:
    """Monthly messy workbooks (merged cells, 合计 and 备注 rows, percent cells, a hidden stale sheet)."""
    out = []
    for m in months:
        chosen = _ordered([o for o in dept.observations if o.month == m], dept, catalog, by_county=True)
        if not chosen:
            continue
        dropped = _dropped(year, m, 5, 10 + dept.index % 6)
        notes = (f"备注：1.本表数据截至{year}年{m}月底，累计类指标为年初至本月末累计数；"
                 "2.比率类指标以百分比显示；3.“合计”行为各县市之和。")
        data = workbook_bytes(
            catalog=catalog, year=year, department=dept.name_zh,
            title=f"{dept.name_zh}{year}年{m}月民生工程进展表",
            period_text=f"{year}年1-{m}月", sheet_name=f"{m}月进展", observations=chosen, notes=notes,
            stale_sheet_name=f"{max(m - 1, 1)}月(旧)", stale_observations=stale_copy(chosen),
            stamp=dropped.replace(tzinfo=None), style=dept.style)
        targets = [catalog.target(o.target_id) for o in chosen]
        summed = {o.target_id for o in chosen if o.county_code != catalog.prefecture_code}
        totals = sum(1 for o in chosen if o.county_code == catalog.prefecture_code and o.target_id in summed)
        found = {
            "percent_cells": any(t.unit == "percent" and t.kind != Kind.MILESTONE for t in targets),
            "total_row": dept.style.total_label == "合计" and totals > 0,
        }
        features = ("xlsx", "title_row", "merged_cells", "hidden_sheet", "notes_row", "excel_dates",
                    *(name for name, present in found.items() if present))
        name = f"{dept.slug}/{year}年{m}月{dept.short_zh}民生工程进展表.xlsx"
        kept = len(chosen) - (totals if dept.style.total_label == "合计" else 0)
        out.append(Planned(name, dept.slug, data, (m,), kept, _expected(chosen), features, dropped))
    return out


def bad_files(dept: Department, months: list[int], catalog: Catalog, year: int) -> list[Planned]:
    """Monthly CSVs, plus a first attempt at month last-1 with an unknown county (东城区) and a value 待定
    that must be quarantined whole; the corrected file for that month follows a few days later."""
    out = [p for m in months if (p := csv_drop(dept, f"{year}-{m:02d}_进展.csv", [m], catalog, year, day=5))]
    sent = [p for p in out if len(p.months) == 1]
    good = sent[-2] if len(sent) > 1 else sent[0]
    month = good.months[0]
    style = dept.style
    chosen = _ordered([o for o in dept.observations if o.month == month], dept, catalog)
    rows = table_rows(chosen, catalog, year, style)
    features = (*_features(rows, style, catalog), "unknown_county", "value_tbd")
    county_col, value_col = county_column(style), value_column(style)
    rows[0][county_col] = "东城区"
    numeric = [r for r in rows if r[value_col] not in MILESTONE_TEXT]
    (numeric[len(numeric) // 2] if numeric else rows[-1])[value_col] = "待定"
    out.append(Planned(f"{dept.slug}/{year}-{month:02d}_进展_有误.csv", dept.slug, csv_bytes(rows, style),
                       (month,), len(rows), Outcome.QUARANTINE, features, good.dropped.replace(day=1)))
    return out


def ordinary_files(dept: Department, months: list[int], layout: str, catalog: Catalog,
                   year: int) -> list[Planned]:
    """Monthly, quarterly or half-year CSVs for a department without a special part."""
    if layout == "monthly":
        batches = [[m] for m in months]
    elif layout == "quarterly":
        batches = [[m for m in months if (m - 1) // 3 == q] for q in sorted({(m - 1) // 3 for m in months})]
    else:
        batches = [months]
    out = []
    for batch in batches:
        a, b = batch[0], batch[-1]
        name = (f"{year}/{year}年{a}月{dept.short_zh}进展.csv" if a == b
                else f"{year}年{a}-{b}月{dept.short_zh}进展.csv")
        planned = csv_drop(dept, name, batch, catalog, year, day=2 + dept.index % 4)
        out += [planned] if planned else []
    return out
