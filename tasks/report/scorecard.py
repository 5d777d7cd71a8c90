"""The scorecard arithmetic of a 督查通报: schedule classes and their counts per department and county.

Schedule class of one status row (X = `schedule_band_points`, by default the yellow-light threshold):

- a target with a time-proportional gap (cumulative targets): 超序时 ahead if gap ≥ +X points, 欠序时
  behind if gap < −X, else 达序时 on schedule;
- a target without one (levels, budgets, milestones): green → 达序时, yellow/red → 欠序时;
- no value at all (grey light, no gap) → 无数据.

A target's headline row is its prefecture row (county_code = the prefecture code); a target reported only per
county is represented by its most-behind county, so a bulletin never looks better than the worst county.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from expectations.models import Catalog, Target

LIGHTS: tuple[str, ...] = ("green", "yellow", "red", "grey")
LIGHT_LABELS: dict[str, tuple[str, str]] = {
    "green": ("绿", "green"),
    "yellow": ("黄", "yellow"),
    "red": ("红", "red"),
    "grey": ("灰", "grey: no data"),
}
CLASSES: tuple[str, ...] = ("ahead", "on", "behind", "nodata")
CLASS_LABELS: dict[str, tuple[str, str]] = {
    "ahead": ("超序时", "ahead of schedule"),
    "on": ("达序时", "on schedule"),
    "behind": ("欠序时", "behind schedule"),
    "nodata": ("无数据", "no data"),
}
_LIGHT_RANK = {"red": 0, "yellow": 1, "grey": 2, "green": 3}


def _numeric(series: pd.Series) -> pd.Series:
    """Decimals, floats or None as floats (NaN for missing): only for comparing and drawing, never stored."""
    return pd.to_numeric(series.astype(object).where(series.notna(), None), errors="coerce").astype(float)


def normalized_lights(status: pd.DataFrame) -> pd.Series:
    """The light column with anything unknown or missing shown as grey."""
    light = status["light"].astype(object).where(status["light"].notna(), "grey").astype(str).str.lower()
    return light.where(light.isin(LIGHTS), "grey")


def schedule_classes(status: pd.DataFrame, band_points: float) -> pd.Series:
    """The 超序时/达序时/欠序时/无数据 class (ahead/on/behind/nodata) of every status row."""
    gap = _numeric(status["gap_points"])
    light = normalized_lights(status)
    has_gap = gap.notna()
    choices = np.select(
        [has_gap & (gap >= band_points), has_gap & (gap < -band_points), has_gap,
         light.isin(["yellow", "red"]), light.eq("green")],
        ["ahead", "behind", "on", "behind", "on"],
        default="nodata",
    )
    return pd.Series(choices, index=status.index, dtype=object)


def with_classes(status: pd.DataFrame, band_points: float) -> pd.DataFrame:
    """Status rows plus `light` normalised, `schedule` class and a numeric `gap_sort` (most behind first)."""
    out = status.copy()
    out["light"] = normalized_lights(status)
    out["schedule"] = schedule_classes(status, band_points)
    out["gap_sort"] = _numeric(status["gap_points"])
    out["light_rank"] = out["light"].map(_LIGHT_RANK)
    return out


def headline_rows(status: pd.DataFrame, prefecture_code: str) -> pd.DataFrame:
    """One row per target: its prefecture row, else its worst county row (reddest light, most behind)."""
    if status.empty:
        return status.copy()
    ranked = status.assign(_is_pref=status["county_code"].astype(str).eq(prefecture_code))
    ranked = ranked.sort_values(["target_id", "_is_pref", "light_rank", "gap_sort"],
                                ascending=[True, False, True, True], na_position="last")
    return ranked.drop_duplicates("target_id").drop(columns="_is_pref").reset_index(drop=True)


def report_targets(catalog: Catalog, department: str | None) -> list[Target]:
    """The targets a report covers: all of them, or those a department leads (its own bulletin)."""
    if department is None:
        return list(catalog.targets)
    return catalog.lead_targets(department)


def scorecard(classed: pd.DataFrame, catalog: Catalog, targets: list[Target]) -> pd.DataFrame:
    """Every covered target with its headline status; targets nobody reported are grey 无数据 rows.

    `classed` is the status frame after `with_classes`.
    """
    head = headline_rows(classed, catalog.prefecture_code)
    programs = {p.id: i for i, p in enumerate(catalog.programs)}
    position = {t.id: i for i, t in enumerate(catalog.targets)}
    # Grouped by program in the plan's order, targets in catalog order within a program.
    frame = pd.DataFrame({"target_id": [t.id for t in targets],
                          "program_order": [programs.get(t.program, len(programs)) for t in targets],
                          "target_order": [position.get(t.id, len(position)) for t in targets]})
    merged = frame.merge(head, on="target_id", how="left")
    merged["light"] = merged["light"].astype(object).where(merged["light"].notna(), "grey")
    merged["schedule"] = merged["schedule"].astype(object).where(merged["schedule"].notna(), "nodata")
    return merged.sort_values(["program_order", "target_order"]).reset_index(drop=True)


def _count_table(pairs: list[tuple[str, str]], order: list[str]) -> pd.DataFrame:
    """(key, class) pairs counted into a key × class table with a total column, keys in `order`."""
    counts = Counter(pairs)
    keys = [k for k in order if any(counts.get((k, c)) for c in CLASSES)]
    table = pd.DataFrame([[counts.get((k, c), 0) for c in CLASSES] for k in keys], index=keys,
                         columns=list(CLASSES), dtype=int)
    table["total"] = table.sum(axis=1)
    return table


def counts_by_department(card: pd.DataFrame, catalog: Catalog, targets: list[Target]) -> pd.DataFrame:
    """Targets per lead department and schedule class (a target with two lead departments counts for both)."""
    schedule = dict(zip(card["target_id"], card["schedule"], strict=True))
    pairs = [(slug, str(schedule.get(t.id, "nodata"))) for t in targets for slug in t.lead_departments]
    return _count_table(pairs, catalog.lead_department_slugs)


def counts_by_county(classed: pd.DataFrame, catalog: Catalog, target_ids: list[str]) -> pd.DataFrame:
    """Target × county rows per county and schedule class, counties in catalog order, prefecture excluded."""
    rows = classed[classed["target_id"].isin(target_ids)
                   & ~classed["county_code"].astype(str).eq(catalog.prefecture_code)]
    pairs = list(zip(rows["county_code"].astype(str), rows["schedule"].astype(str), strict=True))
    return _count_table(pairs, [c.code for c in catalog.counties])


def light_counts(card: pd.DataFrame) -> dict[str, int]:
    """How many covered targets show each light."""
    counts = card["light"].value_counts()
    return {light: int(counts.get(light, 0)) for light in LIGHTS}


def class_counts(card: pd.DataFrame) -> dict[str, int]:
    """How many covered targets fall in each schedule class."""
    counts = card["schedule"].value_counts()
    return {cls: int(counts.get(cls, 0)) for cls in CLASSES}
