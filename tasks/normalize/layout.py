"""How one sheet is laid out: its header, the column for each role, and sheet-level defaults.

A sheet may leave out the period column when its title, sheet name or file name gives the month
(楚雄州2021年3月进度表), and the county column when the sheet is about one county or the prefecture; the year of a
bare month (3月) comes from the same places. Each default is announced in an info Issue.
"""

from __future__ import annotations

from dataclasses import dataclass

from expectations.models import Catalog
from tasks.contracts import Issue, Severity
from tasks.normalize.headers import ROLE_ZH, Column, Header, accepted_headers
from tasks.normalize.periods import year_in, year_month_in
from tasks.normalize.problems import where
from tasks.normalize.resolve import CountyResolver
from tasks.normalize.units import UnitTable
from tasks.read import RawSheet

_SINGLE_ROLES = ("county", "period", "unit", "basis", "status", "note")


@dataclass
class Layout:
    """The columns a sheet's rows are read from, and what stands in for a missing period/county column."""

    targets: list[Column]  # the id column first when there is one
    values: list[Column]
    columns: dict[str, Column]  # county, period, unit, basis, status, note when present
    period_default: str | None
    county_default: str | None
    year: int  # for bare months (3月) when no as_of rule applies
    year_known: bool  # the year was written in the sheet name, title or file name
    year_source: tuple[str, str]  # (zh, en) where the year came from

    def column(self, role: str) -> Column | None:
        return self.columns.get(role)


def _issue(severity: Severity, code: str, sheet: str, zh: str, en: str, row: int | None = None,
           column: str | None = None) -> Issue:
    return Issue(severity, code, zh, en, sheet=sheet or None, row=row, column=column)


def missing_column(sheet: str, role: str, extra_zh: str = "", extra_en: str = "") -> Issue:
    """The critical Issue for a required column that is not there, listing the headers accepted for it."""
    loc_zh, loc_en = where(sheet, None)
    return _issue(Severity.CRITICAL, "missing_column", sheet,
                  f"{loc_zh}缺少「{ROLE_ZH[role]}」列{extra_zh}；可用的表头：{accepted_headers(role)}。",
                  f"{loc_en} has no {role} column{extra_en}; accepted headers: {accepted_headers(role, ', ')}.",
                  column=ROLE_ZH[role])


def _sample(sheet: RawSheet, header: Header, index: int, n: int = 50) -> list[str]:
    """The first `n` non-empty cells of a column below the header."""
    if index >= len(sheet.columns):
        return []
    column = sheet.columns[index].slice(header.data_start)
    texts: list[str] = column.filter(column.is_valid()).slice(0, n).dictionary_decode().to_pylist()
    return texts


def _settle_ambiguous(sheet: RawSheet, header: Header, counties: CountyResolver, units: UnitTable) -> None:
    """Decide whether each 单位 column means the reporting county or the unit of measure."""
    for column in header.ambiguous:
        if header.role("county"):
            column.role = "unit"
        elif header.role("unit"):
            column.role = "county"
        else:
            sample = _sample(sheet, header, column.index)
            as_county = sum(counties.find(s) is not None for s in sample)
            as_unit = sum(units.lookup(s) is not None for s in sample)
            column.role = "county" if as_county > as_unit else "unit"
        header.columns.append(column)
    header.columns.sort(key=lambda c: c.index)


def plan_layout(sheet: RawSheet, header: Header, catalog: Catalog, counties: CountyResolver, units: UnitTable,
                source_name: str, issues: list[Issue]) -> Layout | None:
    """Map the header's columns to roles and settle defaults; append Issues; None when the sheet cannot be read."""
    _settle_ambiguous(sheet, header, counties, units)
    name = sheet.name
    loc_zh, loc_en = where(name, None)
    titles = [" ".join(dict.fromkeys(c for c in row if c)) for row in sheet.head(header.first)]  # merged: once
    titles = [t for t in titles if t.strip()]
    if titles:
        issues.append(_issue(Severity.INFO, "title_rows", name,
                             f"{loc_zh}跳过表头上方的{len(titles)}行标题：{' / '.join(titles)[:120]}",
                             f"{loc_en}: skipped {len(titles)} title row(s) above the header.",
                             row=int(sheet.row_numbers[header.first])))
    for text in header.ignored:
        issues.append(_issue(Severity.INFO, "extra_column", name,
                             f"{loc_zh}的「{text}」列不属于报送格式，已忽略。",
                             f"{loc_en}: column {text} is not part of the drop format; ignored.",
                             column=text))
    ok = True
    columns: dict[str, Column] = {}
    for role in _SINGLE_ROLES:
        found = header.role(role)
        if len(found) > 1:
            ok = False
            issues.append(_issue(Severity.CRITICAL, "duplicate_column", name,
                                 f"{loc_zh}有多个「{ROLE_ZH[role]}」列（{'、'.join(c.header for c in found)}），"
                                 "请只保留一个。",
                                 f"{loc_en} has several {role} columns "
                                 f"({', '.join(c.header for c in found)}); keep one.", column=found[1].header))
        elif found:
            columns[role] = found[0]
    targets = sorted(header.role("target"), key=lambda c: not c.is_id)
    if len([c for c in targets if c.is_id]) > 1 or len([c for c in targets if not c.is_id]) > 1:
        ok = False
        issues.append(_issue(Severity.CRITICAL, "duplicate_column", name,
                             f"{loc_zh}有多个指标列（{'、'.join(c.header for c in targets)}），"
                             "请只保留一个指标编码列和/或一个指标名称列。",
                             f"{loc_en} has several target columns; keep one id and/or one name column.",
                             column=targets[-1].header))
    values = header.role("value")
    bases = [c.basis for c in values]
    if len(set(bases)) != len(bases):
        ok = False
        issues.append(_issue(Severity.CRITICAL, "duplicate_column", name,
                             f"{loc_zh}有多个完成值列（{'、'.join(c.header for c in values)}），"
                             "无法确定取哪一列；请只保留一个，或分别标明“本月”“累计”。",
                             f"{loc_en} has several value columns "
                             f"({', '.join(c.header for c in values)}); keep one, or label them 本月 and 累计.",
                             column=values[-1].header))
    year, source = _year(sheet.name, titles, source_name, catalog)
    period_default = None
    if "period" not in columns:
        for label_zh, label_en, text in (("工作表名", "sheet name", name), ("标题", "title", " ".join(titles)),
                                         ("文件名", "file name", source_name)):
            period_default = year_month_in(text)
            if period_default:
                issues.append(_issue(Severity.INFO, "default_period", name,
                                     f"{loc_zh}没有月份列，按{label_zh}取报告期{period_default}。",
                                     f"{loc_en} has no period column; the period {period_default} "
                                     f"was taken from the {label_en}."))
                break
        if period_default is None:
            ok = False
            issues.append(missing_column(name, "period", "，且标题、工作表名和文件名中也没有写明年月",
                                         " and no year and month in the title, sheet name or file name"))
    county_default = None
    if "county" not in columns:
        county_default = counties.find(name) if name else None
        county_default = county_default or catalog.prefecture_code
        county_name = catalog.county(county_default).name_zh
        issues.append(_issue(Severity.INFO, "default_county", name,
                             f"{loc_zh}没有县市列，各行按「{county_name}」处理。",
                             f"{loc_en} has no county column; rows are taken as {county_name}."))
    if not ok:
        return None
    return Layout(targets, values, columns, period_default, county_default, year, source != ("", ""),
                  source if source != ("", "") else ("方案年度", "plan year"))


def _year(sheet_name: str, titles: list[str], source_name: str, catalog: Catalog) -> tuple[int, tuple[str, str]]:
    for label_zh, label_en, text in (("工作表名", "sheet name", sheet_name), ("标题", "title", " ".join(titles)),
                                     ("文件名", "file name", source_name)):
        found = year_in(text)
        if found:
            return found, (label_zh, label_en)
    return catalog.year, ("", "")
