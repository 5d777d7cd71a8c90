"""Resolve each field of a sheet's data rows: target, county, period, value (with units), flagged cells."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from expectations.models import Catalog, Kind
from tasks.contracts import Issue, Severity
from tasks.normalize.columns import (
    BoolArray,
    Coded,
    Column,
    ObjArray,
    blank,
    codes_of,
    map_unique,
    obj_array,
    pick,
    rows_of,
)
from tasks.normalize.layout import Layout
from tasks.normalize.periods import is_bare_month, parse_period
from tasks.normalize.problems import ParseProblem, match_key, where
from tasks.normalize.resolve import CountyResolver, TargetResolver
from tasks.normalize.rowissues import RowProblems
from tasks.normalize.units import UnitTable, to_canonical
from tasks.normalize.values import (
    EXACT,
    FAST_VALUE,
    MAX_EXPONENT,
    ParsedValue,
    clean_decimal,
    missing_problem,
    parse_milestone,
    parse_value,
)
from tasks.read import RawSheet

MISSING_TARGET = ParseProblem("missing_target", "表示缺少指标，请填写指标编码或指标名称。",
                              "means no target; fill in the target id or name.")
MISSING_COUNTY = ParseProblem("missing_county", "表示缺少县市，请填写县市名称（全州数据填“全州”）。",
                              "means no county; fill in the county (全州 for the prefecture).")
MISSING_PERIOD = ParseProblem("missing_period", "表示缺少月份，请填写报告期，如2021-03。",
                              "means no period; fill in the reporting month, e.g. 2021-03.")


class Helpers:
    """The catalog and its lookup tables, built once per normalize call."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.counties = CountyResolver(catalog)
        self.targets = TargetResolver(catalog)
        self.units = UnitTable(catalog)


def resolve_targets(layout: Layout, cells: dict[str, Coded], h: Helpers,
                    problems: RowProblems) -> tuple[ObjArray, Coded]:
    """Target id per row (None where unknown), also as codes; an id column wins over a name column, and they must
    agree."""
    resolved = [map_unique(cells[f"target{i}"], lambda s: h.targets.resolve(s).id)
                for i in range(len(layout.targets))]
    ids0, bad0 = resolved[0]
    raw0, col0 = cells["target0"], layout.targets[0]
    if len(resolved) == 1:
        missing = blank(raw0)
        problems.add("target", missing, MISSING_TARGET, col0.header, raw0)
        problems.add("target", bad0, ids0, col0.header, raw0)
        table = [h.targets.by_key.get(match_key(u)) or h.targets.by_key.get(u.strip().lower())
                 for u in raw0.uniques]  # what resolve() finds, without building its problems again
        return pick(bad0, None, ids0), Coded.from_table(raw0.codes, table)
    ids1, bad1 = resolved[1]
    raw1, col1 = cells["target1"], layout.targets[1]
    use0 = ~blank(raw0)
    problems.add("target", ~use0 & blank(raw1), MISSING_TARGET, col0.header, raw0)
    problems.add("target", use0 & bad0, ids0, col0.header, raw0)
    problems.add("target", ~use0 & bad1, ids1, col1.header, raw1)
    conflict = use0 & ~bad0 & ~blank(raw1) & ~bad1 & (ids0 != ids1)
    problems.add("target", conflict, ParseProblem(
        "target_conflict", f"与「{col0.header}」列的指标不一致，请核对是哪一个指标。",
        f"names a different target than column {col0.header}; check which target is meant."), col1.header, raw1)
    ids = pick(use0, pick(bad0, None, ids0), pick(bad1, None, ids1))
    ids[conflict] = None
    return ids, Coded.of(ids)


def resolve_counties(layout: Layout, cells: dict[str, Coded], h: Helpers, problems: RowProblems,
                     n: int) -> ObjArray:
    """County code per row: from the county column, or the sheet's default."""
    column = layout.column("county")
    if column is None:
        return obj_array([layout.county_default] * n)
    codes, bad = map_unique(cells["county"], h.counties.resolve)
    problems.add("county", blank(cells["county"]), MISSING_COUNTY, column.header, cells["county"])
    problems.add("county", bad, codes, column.header, cells["county"])
    return codes


def resolve_periods(layout: Layout, cells: dict[str, Coded], problems: RowProblems, as_of: dt.date | None,
                    sheet: str, issues: list[Issue], n: int) -> ObjArray:
    """"YYYY-MM" per row; a bare month (3月) gets the sheet's year, else the latest such month up to as_of."""
    column = layout.column("period")
    if column is None:
        return obj_array([layout.period_default] * n)
    assumed: dict[str, int] = {}

    def parse(text: str) -> str:
        if not is_bare_month(text):
            return parse_period(text)
        month = int(parse_period(text, default_year=2000)[5:])
        year = layout.year
        if not layout.year_known and as_of is not None:
            year = as_of.year if month <= as_of.month else as_of.year - 1
        assumed[text] = year
        return parse_period(text, default_year=year)

    periods, bad = map_unique(cells["period"], parse)
    problems.add("period", blank(cells["period"]), MISSING_PERIOD, column.header, cells["period"])
    problems.add("period", bad, periods, column.header, cells["period"])
    if assumed:
        source_zh, source_en = layout.year_source if layout.year_known else (
            ("报送日期", "reporting date") if as_of is not None else layout.year_source)
        listed = "、".join(f"“{t}”→{y}年" for t, y in assumed.items())
        loc_zh, loc_en = where(sheet, None)
        issues.append(Issue(Severity.INFO, "assumed_year", f"{loc_zh}「{column.header}」列只写了月份，按{source_zh}"
                            f"补全年份：{listed}。", f"{loc_en}: column {column.header} gives months without a year; "
                            f"the year was taken from the {source_en}: "
                            + ", ".join(f"'{t}' → {y}" for t, y in assumed.items()) + ".",
                            sheet=sheet or None, column=column.header))
    return periods


def _plain(text: str) -> Decimal:
    """A plain ASCII decimal without trailing fraction zeros (97.20 → 97.2), -0 as 0."""
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    number = Decimal(text)
    return number if number else Decimal(0)


def _safe_unit(unit: str) -> bool:
    """Whether a unit written after a plain number parses as itself (no folding, spacing or digits to undo)."""
    try:
        return parse_value("1" + unit) == ParsedValue(Decimal(1), unit)
    except ParseProblem:
        return False


def parse_texts(texts: list[str]) -> list[ParsedValue | ParseProblem]:
    """parse_value for each text, the common shapes (`97.2`, `1.39万人`, `97.2%`) matched in one vectorized pass."""
    parts = pc.extract_regex(pa.array(texts, pa.string()), FAST_VALUE)
    numbers = pc.struct_field(parts, "number").to_pylist()
    units = pc.struct_field(parts, "unit").to_pylist()
    safe: dict[str, bool] = {}
    out: list[ParsedValue | ParseProblem] = []
    for text, number, unit in zip(texts, numbers, units, strict=True):
        if number is not None:
            if not unit:
                out.append(ParsedValue(_plain(number), None))
                continue
            ok = safe.get(unit)
            if ok is None:
                ok = safe[unit] = _safe_unit(unit)
            value = Decimal(number)
            if ok and (value == 0 or abs(value.adjusted()) <= MAX_EXPONENT):
                out.append(ParsedValue(value, unit))
                continue
        try:
            out.append(parse_value(text))
        except ParseProblem as problem:  # kept as data: without its traceback (and the frames it holds)
            out.append(problem.with_traceback(None))
    return out


def _parse_distinct(raw: Column) -> tuple[np.ndarray, ObjArray]:
    """Each row's index into a table of parse results (ParsedValue or ParseProblem) of the distinct cells; the
    table's last entry is the missing-value problem (for empty cells)."""
    codes, uniques = codes_of(raw)
    results: list[Any] = list(parse_texts(list(uniques)))
    results.append(missing_problem())
    return np.where(codes < 0, len(results) - 1, codes), obj_array(results)


def parse_values(raw: Column) -> tuple[ObjArray, BoolArray]:
    """ParsedValue (or ParseProblem) per row; plain ASCII decimals skip the full parser (the fast path)."""
    codes, table = _parse_distinct(raw)
    bad = np.array([isinstance(r, ParseProblem) for r in table], dtype=bool)
    return table[codes], bad[codes]


def _combos(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A row of each distinct combination of the code columns (codes ≥ -1), and each row's combination."""
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        key = key * (int(column.max(initial=0)) + 2) + column + 1
    inverse, uniques = pd.factorize(key)
    first = np.zeros(len(uniques), dtype=np.int64)
    first[inverse] = np.arange(len(inverse))  # any row of a combination stands for all of them
    return first, inverse


def resolve_values(ids: ObjArray, id_codes: Coded, raw: Column, headers: ObjArray | str, units_text: Column,
                   h: Helpers, problems: RowProblems) -> ObjArray:
    """Decimal per row in the target's canonical unit (None where the value or its unit is wrong).

    Work is per distinct value text and per distinct (target, written unit, unit column) combination, never per
    row: a million-row drop repeats both.
    """
    codes, table = _parse_distinct(raw)
    parsed = table[codes]
    bad = np.array([isinstance(r, ParseProblem) for r in table], dtype=bool)[codes]
    milestone = map_unique(id_codes, lambda tid: h.targets.targets[tid].kind == Kind.MILESTONE)[0]
    milestone = np.asarray(milestone == True, dtype=bool)  # noqa: E712 — elementwise on an object array
    if milestone.any():
        done_raw = rows_of(raw)[milestone]
        done, done_bad = map_unique(done_raw, parse_milestone)
        parsed[milestone] = pick(blank(done_raw), missing_problem(), done)
        bad[milestone] = done_bad | blank(done_raw)
    problems.add("value", bad, parsed, headers, raw)
    values = np.full(len(raw), None, dtype=object)
    values[milestone & ~bad] = parsed[milestone & ~bad]
    rows = np.flatnonzero(~bad & ~milestone & ~blank(ids))
    if not len(rows):
        return values
    numbers = obj_array([r.number if isinstance(r, ParsedValue) else None for r in table])
    units = obj_array([r.unit if isinstance(r, ParsedValue) else None for r in table])
    unit_codes = pd.factorize(pd.Series(units, dtype=object), use_na_sentinel=False)[0]
    first, inverse = _combos(id_codes.codes[rows], unit_codes[codes[rows]], codes_of(units_text)[0][rows])
    factors: list[Decimal | ParseProblem] = []
    for i in rows[first]:
        try:
            unit = ParsedValue(Decimal(1), parsed[i].unit)
            factors.append(to_canonical(unit, units_text[i], h.targets.targets[ids[i]], h.units))
        except ParseProblem as problem:  # kept as data: without its traceback (and the frames it holds)
            factors.append(problem.with_traceback(None))
    per_row = obj_array(factors)[inverse]
    unit_bad = np.array([isinstance(f, ParseProblem) for f in factors], dtype=bool)[inverse]
    mask = np.zeros(len(raw), dtype=bool)
    mask[rows[unit_bad]] = True
    full = np.full(len(raw), None, dtype=object)
    full[rows] = per_row
    problems.add("value", mask, full, headers, raw)
    unit_one = np.array([f == 1 if isinstance(f, Decimal) else False for f in factors], dtype=bool)[inverse]
    values[rows[unit_one]] = numbers[codes[rows[unit_one]]]
    scale = ~unit_one & ~unit_bad
    if scale.any():  # one exact product per distinct (value text, factor) pair
        pair = codes[rows[scale]].astype(np.int64) * (len(factors) + 1) + inverse[scale]
        _, at, back = np.unique(pair, return_index=True, return_inverse=True)
        scaled_rows = rows[scale]
        products = [clean_decimal(EXACT.multiply(numbers[codes[r]], per_row[k]))
                    for r, k in zip(scaled_rows[at], np.flatnonzero(scale)[at], strict=True)]
        values[scaled_rows] = obj_array(products)[back.reshape(-1)]
    return values


def report_flags(sheet: RawSheet, used: dict[str, Any], numbers: np.ndarray, problems: RowProblems,
                 issues: list[Issue]) -> None:
    """Error cells and uncalculated formulas: critical in a used cell of a data row, info anywhere else."""
    by_index = {c.index: (key.rstrip("0123456789"), c.header) for key, c in used.items()}
    position = {int(r): i for i, r in enumerate(numbers)}
    ignored = 0
    for (row, col0), code in sorted(sheet.flags.items()):
        if row not in position or col0 not in by_index:
            ignored += 1
            continue
        role, header = by_index[col0]
        mask = np.zeros(len(numbers), dtype=bool)
        mask[position[row]] = True
        problems.suppress(role, mask)
        loc_zh, loc_en = where(sheet.name, row)
        if code == "error_cell":
            raw = sheet.columns[col0][int(np.flatnonzero(sheet.row_numbers == row)[0])].as_py()
            zh = f"{loc_zh}「{header}」列的值“{raw}”是Excel错误值，请修正公式或直接填写数值。"
            en = f"{loc_en}, column {header}: '{raw}' is an Excel error value; fix the formula or type the value."
        else:
            raw = None
            zh = (f"{loc_zh}「{header}」列是从未计算过的公式（文件没有保存计算结果），请在Excel中打开、保存后"
                  "重新报送。")
            en = (f"{loc_en}, column {header} holds a formula that was never calculated (no saved result); open "
                  "and save the file in Excel, then send it again.")
        issues.append(Issue(Severity.CRITICAL, code, zh, en, sheet=sheet.name or None, row=row, column=header,
                            value=raw))
    if ignored:
        loc_zh, loc_en = where(sheet.name, None)
        issues.append(Issue(Severity.INFO, "ignored_cells",
                            f"{loc_zh}有{ignored}个错误值或未计算的公式不在数据区域内，已忽略。",
                            f"{loc_en}: {ignored} error or uncalculated cells lie outside the data; ignored.",
                            sheet=sheet.name or None))
