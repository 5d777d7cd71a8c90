"""What a failed expectation means for one row, in words a department can act on (Chinese first, then English).

Each rule of the suites (`meta.rule`) has a function (row, context) → (message_zh, message_en). `row` is a record
of the validated frame (normalized columns plus gx_frame's derived columns). Only the rows listed in a receipt
are formatted (at most a few hundred per rule), so plain Python here is fine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

import pandas as pd

from expectations.models import Catalog, Comparator, County, Department, Target
from expectations.suites import BASIS_VALUES, STATUS_VALUES

Messages = tuple[str, str]
BASIS_ZH: dict[str, str] = dict(zip(BASIS_VALUES, ("累计", "当月"), strict=True))
STATUS_ZH: dict[str, str] = dict(zip(STATUS_VALUES, ("初步数", "正式数", "修订数"), strict=True))


@dataclass(frozen=True)
class MessageContext:
    """What a message may mention besides the row: the catalog, the submitting department and the date."""

    catalog: Catalog
    department: str
    as_of: dt.date

    @cached_property
    def targets(self) -> dict[str, Target]:
        return {t.id: t for t in self.catalog.targets}

    @cached_property
    def departments(self) -> dict[str, Department]:
        return {d.slug: d for d in self.catalog.departments}

    @cached_property
    def counties(self) -> dict[str, County]:
        return {c.code: c for c in self.catalog.counties}


def fmt(value: Any) -> str:
    """A value as a department wrote it: Decimals without exponent or float noise, missing as 空."""
    if value is None or (not isinstance(value, str | Decimal) and pd.isna(value)):
        return "空"
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, float):
        return fmt(Decimal(repr(value)))
    return str(value)


def where(row: dict[str, Any]) -> Messages:
    """`第8行` / `Row 8`, with the sheet for workbooks."""
    sheet, number = row.get("source_sheet"), fmt(row.get("source_row"))
    if isinstance(sheet, str) and sheet:
        return f"工作表“{sheet}”第{number}行", f"Sheet '{sheet}', row {number}"
    return f"第{number}行", f"Row {number}"


def _target(ctx: MessageContext, row: dict[str, Any]) -> Target | None:
    target_id = row.get("target_id")
    return ctx.targets.get(target_id) if isinstance(target_id, str) else None


def _what(ctx: MessageContext, row: dict[str, Any]) -> Messages:
    target = _target(ctx, row)
    if target is None:
        return f"指标“{fmt(row.get('target_id'))}”", f"target '{fmt(row.get('target_id'))}'"
    return f"指标“{target.name_zh}”", f"target '{target.name_en}' ({target.id})"


def county_name(ctx: MessageContext, code: Any) -> Messages:
    county = ctx.counties.get(code) if isinstance(code, str) else None
    return (county.name_zh, county.name_en) if county else (fmt(code), fmt(code))


def unit_label(ctx: MessageContext, unit: str | None) -> Messages:
    """The written form of a canonical unit (%, 人, 元 …) from the catalog's factor-1 unit, and its English."""
    canonical = next((c for c in ctx.catalog.canonical_units if c.id == unit), None)
    english = canonical.name_en if canonical else (unit or "")
    for u in ctx.catalog.units:
        if u.canonical == unit and u.factor == 1:
            return u.symbol, u.symbol if u.symbol in ("%", "‰") else english
    return (canonical.name_zh if canonical else (unit or "")), english


def _cell(ctx: MessageContext, row: dict[str, Any]) -> Messages:
    """`指标“X”（楚雄市，2021-05）`."""
    what_zh, what_en = _what(ctx, row)
    county_zh, county_en = county_name(ctx, row.get("county_code"))
    period = fmt(row.get("period"))
    return f"{what_zh}（{county_zh}，{period}）", f"{what_en} ({county_en}, {period})"


def _range(lo: Decimal | None, hi: Decimal | None, unit: str) -> Messages:
    """How a value misses its bounds: `超出合理范围 0–100（%）`, `低于合理下限 0（人）` …"""
    if lo is not None and hi is not None:
        return (f"超出合理范围 {fmt(lo)}–{fmt(hi)}（{unit}）",
                f"is outside the plausible range {fmt(lo)}–{fmt(hi)} ({unit})")
    if lo is not None:
        return f"低于合理下限 {fmt(lo)}（{unit}）", f"is below the plausible minimum {fmt(lo)} ({unit})"
    return f"高于合理上限 {fmt(hi)}（{unit}）", f"is above the plausible maximum {fmt(hi)} ({unit})"


def _missing(field_zh: str, field_en: str, hint_zh: str, hint_en: str) -> Callable[..., Messages]:
    def message(ctx: MessageContext, row: dict[str, Any]) -> Messages:
        (loc_zh, loc_en), (what_zh, what_en) = where(row), _what(ctx, row)
        named = isinstance(row.get("target_id"), str)  # a missing id arrives as None or NaN
        subject_zh, subject_en = (what_zh, what_en) if named else ("该行", "this row")
        return (f"{loc_zh}：{subject_zh}缺少{field_zh}，{hint_zh}",
                f"{loc_en}: {subject_en} has no {field_en}; {hint_en}")
    return message


def _bad_value(ctx: MessageContext, row: dict[str, Any]) -> Messages:
    (loc_zh, loc_en), (cell_zh, cell_en), v = where(row), _cell(ctx, row), fmt(row.get("value"))
    if row.get("value_type") == "float":
        # The reader/normalizer must hand over Decimals; a float here is our bug, not the department's.
        return (f"{loc_zh}：{cell_zh}的值 {v} 以浮点数传递，可能失去精度；这是程序问题，请联系数据组。",
                f"{loc_en}: the value {v} of {cell_en} arrived as a float and may have lost precision; this is "
                "a pipeline problem: contact the data team.")
    return (f"{loc_zh}：{cell_zh}的值“{v}”不是有效数字，请填写数字（可带单位，如“1.39万人”“97.2%”）。",
            f"{loc_en}: the value '{v}' of {cell_en} is not a valid number; enter a number (units allowed, "
            "e.g. 1.39万人, 97.2%).")


def _unknown_target(ctx: MessageContext, row: dict[str, Any]) -> Messages:
    (loc_zh, loc_en), t = where(row), fmt(row.get("target_id"))
    return (f"{loc_zh}：指标“{t}”不在{ctx.catalog.year}年民生实事目标清单中，请使用清单中的指标编码或名称。",
            f"{loc_en}: target '{t}' is not in the {ctx.catalog.year} plan's target list; use an id or name "
            "from the list.")


def _not_owner(ctx: MessageContext, row: dict[str, Any]) -> Messages:
    (loc_zh, loc_en), (what_zh, what_en), target = where(row), _what(ctx, row), _target(ctx, row)
    dept = ctx.departments.get(ctx.department)
    dept_zh, dept_en = (dept.name_zh, dept.name_en) if dept else (ctx.department, ctx.department)
    leads = [ctx.departments.get(s) for s in (target.lead_departments if target else [])]
    lead_zh = "、".join(d.name_zh for d in leads if d) or "其他部门"
    lead_en = ", ".join(d.name_en for d in leads if d) or "another department"
    return (f"{loc_zh}：{what_zh}不属于{dept_zh}的报送范围（牵头部门：{lead_zh}），请删除该行或交由牵头部门报送。",
            f"{loc_en}: {what_en} is not reported by {dept_en} (lead: {lead_en}); delete the row or leave it to "
            "the lead department.")


def _unknown_county(ctx: MessageContext, row: dict[str, Any]) -> Messages:
    loc_zh, loc_en = where(row)
    c = fmt(row.get("county_code"))
    return (f"{loc_zh}：县市“{c}”无法识别，请填写楚雄州所辖县市名称（如“楚雄市”）、6位行政区划代码，全州合计填“全州”。",
            f"{loc_en}: county '{c}' is unknown; use a county name of Chuxiong Prefecture (e.g. 楚雄市), its "
            "6-digit code, or 全州 for the prefecture total.")


def _county_not_in_scope(ctx: MessageContext, row: dict[str, Any]) -> Messages:
    from expectations.catalog_tables import allowed_counties

    (loc_zh, loc_en), (what_zh, what_en) = where(row), _what(ctx, row)
    county_zh, county_en = county_name(ctx, row.get("county_code"))
    allowed = allowed_counties(ctx.catalog, str(row.get("target_id")))
    names = [county_name(ctx, code) for code in allowed]
    return (f"{loc_zh}：{what_zh}不分解到“{county_zh}”，可填报的地区为：{'、'.join(n[0] for n in names)}。",
            f"{loc_en}: {what_en} is not broken down to {county_en}; allowed: {', '.join(n[1] for n in names)}.")


def _bad_period(ctx: MessageContext, row: dict[str, Any]) -> Messages:
    (loc_zh, loc_en), p, year = where(row), fmt(row.get("period")), ctx.catalog.year
    return (f"{loc_zh}：月份“{p}”无效，应为{year}年内的月份，格式如“{year}-03”。",
            f"{loc_en}: period '{p}' is invalid; it must be a month of {year} written like {year}-03.")


def _future_period(ctx: MessageContext, row: dict[str, Any]) -> Messages:
    (loc_zh, loc_en), p, day = where(row), fmt(row.get("period")), ctx.as_of.isoformat()
    return (f"{loc_zh}：月份“{p}”尚未开始（截至{day}），请检查月份是否填错。",
            f"{loc_en}: period {p} has not started yet (as of {day}); check the month.")


def _wrong_unit(ctx: MessageContext, row: dict[str, Any]) -> Messages:
    (loc_zh, loc_en), (what_zh, what_en) = where(row), _what(ctx, row)
    got, want = fmt(row.get("unit")), fmt(row.get("catalog_unit"))
    label = unit_label(ctx, str(row.get("catalog_unit")))[0]
    return (f"{loc_zh}：{what_zh}的单位“{got}”与目标清单不一致（应为{label}），请换算后填报。",
            f"{loc_en}: unit '{got}' of {what_en} differs from the target list ({want}); convert the value.")


def _out_of_bounds(ctx: MessageContext, row: dict[str, Any]) -> Messages:
    (loc_zh, loc_en), (what_zh, what_en), target = where(row), _what(ctx, row), _target(ctx, row)
    lo, hi = (target.bounds.min, target.bounds.max) if target else (None, None)
    unit_zh, unit_en = unit_label(ctx, target.unit if target else None)
    range_zh, _ = _range(lo, hi, unit_zh)
    _, range_en = _range(lo, hi, unit_en)
    v = fmt(row.get("value"))
    return (f"{loc_zh}：{what_zh}的值 {v} {range_zh}，请检查单位或小数点。",
            f"{loc_en}: the value {v} of {what_en} {range_en}; check the unit or the decimal point.")


def _cumulative_decrease(ctx: MessageContext, row: dict[str, Any]) -> Messages:
    (loc_zh, loc_en), (cell_zh, cell_en) = where(row), _cell(ctx, row)
    v, prev = fmt(row.get("value")), fmt(row.get("prev_ytd_f"))
    return (f"{loc_zh}：{cell_zh}的累计值 {v} 低于本文件中上一期的累计值 {prev}；"
            "累计值不会减少，请检查是否误填了当月值。",
            f"{loc_en}: the year-to-date value {v} of {cell_en} is below the previous period's {prev} in this "
            "file; a year-to-date total cannot decrease (was a monthly value entered?).")


def _duplicate_key(ctx: MessageContext, row: dict[str, Any]) -> Messages:
    (loc_zh, loc_en), (cell_zh, cell_en) = where(row), _cell(ctx, row)
    n, first = fmt(row.get("_dup_count")), fmt(row.get("_dup_first_row"))
    basis = fmt(row.get("basis"))
    return (f"{loc_zh}：{cell_zh}（{BASIS_ZH.get(basis, basis)}）在文件中出现 {n} 次（首次在第{first}行），"
            "同一指标、县市、月份和口径只能填报一行，请删除重复行。",
            f"{loc_en}: {cell_en} (basis {fmt(row.get('basis'))}) appears {n} times (first at row {first}); "
            "keep one row per target, county, period and basis.")


def _bad_set(field_zh: str, field_en: str, allowed: dict[str, str], column: str) -> Callable[..., Messages]:
    """`allowed` maps each value to its Chinese label."""
    def message(ctx: MessageContext, row: dict[str, Any]) -> Messages:
        (loc_zh, loc_en), v = where(row), fmt(row.get(column))
        return (f"{loc_zh}：{field_zh}“{v}”无效，应为：{'、'.join(f'{z}（{k}）' for k, z in allowed.items())}。",
                f"{loc_en}: {field_en} '{v}' is invalid; allowed: {', '.join(allowed)}.")
    return message


_COMPARATOR_TEXT: dict[str, Messages] = {
    Comparator.GE.value: ("不低于", "at least"), Comparator.GT.value: ("高于", "more than"),
    Comparator.LE.value: ("不高于", "at most"), Comparator.LT.value: ("低于", "less than"),
    Comparator.APPROX.value: ("约为", "about"),
}


def _target_missed(ctx: MessageContext, row: dict[str, Any]) -> Messages:
    (loc_zh, loc_en), (cell_zh, cell_en), target = where(row), _cell(ctx, row), _target(ctx, row)
    comparator = str(row.get("comparator"))
    goal = target.target_for(row.get("county_code")) if target else None
    unit, unit_en = unit_label(ctx, target.unit if target else None)
    text_zh, text_en = _COMPARATOR_TEXT.get(comparator, (comparator, comparator))
    band = f"±{fmt(target.tolerance)}" if target and comparator == Comparator.APPROX.value else ""
    v = fmt(row.get("value"))
    return (f"{loc_zh}：{cell_zh}的值 {v}{unit} 未达到目标（{text_zh}{fmt(goal)}{band}{unit}）。"
            "本条为提醒，数据照常入库。",
            f"{loc_en}: {cell_en} is {v} {unit_en}, missing the target ({text_en} {fmt(goal)}{band} {unit_en}). "
            "A warning: the data is loaded.")


ROW_MESSAGES: dict[str, Callable[[MessageContext, dict[str, Any]], Messages]] = {
    "missing_target": _missing("指标", "target", "请填写指标编码或指标名称。", "fill in the target id or name."),
    "missing_county": _missing("县市", "county", "请填写县市名称或代码（全州合计填“全州”）。",
                               "fill in the county name or code (全州 for the prefecture)."),
    "missing_period": _missing("月份", "period", "请按“2021-03”格式填写月份。", "fill in the month like 2021-03."),
    "missing_value": _missing("数值", "value", "缺失的值不会按0处理，请补填或删除该行。",
                              "a missing value is never taken as 0: fill it in or delete the row."),
    "bad_value": _bad_value,
    "unknown_target": _unknown_target,
    "not_owner": _not_owner,
    "unknown_county": _unknown_county,
    "county_not_in_scope": _county_not_in_scope,
    "bad_period": _bad_period,
    "future_period": _future_period,
    "wrong_unit": _wrong_unit,
    "out_of_bounds": _out_of_bounds,
    "cumulative_decrease": _cumulative_decrease,
    "duplicate_key": _duplicate_key,
    "bad_basis": _bad_set("口径", "basis", BASIS_ZH, "basis"),
    "bad_status": _bad_set("状态", "status", STATUS_ZH, "status"),
    "target_missed": _target_missed,
}


def row_message(rule: str, ctx: MessageContext, row: dict[str, Any]) -> Messages:
    """The message for one failing row; a generic one for a rule without its own wording."""
    if rule in ROW_MESSAGES:
        return ROW_MESSAGES[rule](ctx, row)
    loc_zh, loc_en = where(row)
    return f"{loc_zh}：未通过校验规则“{rule}”。", f"{loc_en}: failed rule '{rule}'."


def summary_message(rule: str, listed: int, total: int) -> Messages:
    """Said once when a rule fails on more rows than a receipt lists."""
    return (f"规则“{rule}”共有 {total} 行未通过，以上仅列出前 {listed} 行，请按同样方法检查其余各行。",
            f"Rule '{rule}' failed on {total} rows; only the first {listed} are listed above; check the rest the "
            "same way.")


def schema_message(observed: list[str], expected: list[str]) -> Messages:
    """The normalized frame does not have the agreed columns: a pipeline bug, not the department's."""
    missing = [c for c in expected if c not in observed]
    extra = [c for c in observed if c not in expected]
    detail = f"缺少列：{'、'.join(missing) or '无'}；多余列：{'、'.join(extra) or '无'}"
    detail_en = f"missing: {', '.join(missing) or 'none'}; extra: {', '.join(extra) or 'none'}"
    if not missing and not extra:
        detail, detail_en = "列的顺序不符", "columns out of order"
    return (f"标准化后的数据列不符合约定（{detail}），文件暂不入库；这是程序问题，请联系数据组。",
            f"The normalized columns do not match the contract ({detail_en}); the file is held back. This is a "
            "pipeline problem: contact the data team.")


def error_message(rule: str, exception: str) -> Messages:
    """An expectation crashed: it proves nothing, so the file is held back (G13)."""
    return (f"校验规则“{rule}”执行出错（{exception}），无法确认数据正确，文件暂不入库；请联系数据组。",
            f"Validation rule '{rule}' crashed ({exception}); the data cannot be confirmed, so the file is held "
            "back. Contact the data team.")
