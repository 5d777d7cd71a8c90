"""The Excel file a department fills in (报送模板): its targets pre-filled, one row per target × county.

Sheet 填报 has ONE header row the reader accepts (指标编码 指标名称 县市 月份 数值 单位 口径 备注) and a
row per target and county: prefecture-scope targets get one 全州 row; per-county targets get a row per county,
plus a 全州 row when the prefecture figure cannot be summed from the counties (a rate, not a count). Both
指标编码 and 指标名称 are filled: the reader takes the id and checks that the name agrees. Only the 数值 (and
备注) cells are left to fill, with drop-downs and numeric data validation. Sheet 说明 explains, in Chinese,
how to fill and drop the file and what the receipt means. The targets are those the department leads (its
monthly report to the supervision office); `include_responsible=True` adds targets it is a responsible unit of.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from expectations.models import Catalog, Kind, Scope, Target
from tasks.report.fmt import target_text

HEADERS: tuple[str, ...] = ("指标编码", "指标名称", "县市", "月份", "数值", "单位", "口径", "备注")
WIDTHS: tuple[int, ...] = (40, 34, 12, 10, 14, 10, 8, 30)
PREFECTURE_LABEL = "全州"
BASIS_ZH = {"ytd": "累计", "month": "当月"}
MILESTONE_CHOICES = ("完成", "未完成")
SPARE_ROWS = 200  # drop-downs also cover rows a department adds below the pre-filled ones
_INPUT = PatternFill("solid", fgColor="FFF8DC")
_HEAD = PatternFill("solid", fgColor="D9E2F3")
_UNBOUNDED = Decimal("1E15")
HEADER_NOTES = {
    "县市": "从下拉列表选择；全州数据填“全州”。",
    "月份": "报告期，格式2021-06。",
    "数值": "只填数字，单位以“单位”列为准；没有数据的行请整行删除，不要留空或填0。",
    "口径": "累计=年初至本月累计；当月=本月数。",
}
GUIDE_TARGETS = 24  # targets listed on the 说明 sheet; the 填报 sheet lists them all


@dataclass(frozen=True)
class TemplateRow:
    """One pre-filled line of the template: a target in a county (or 全州) for a period."""

    target: Target
    county: str  # county name as written in the sheet, 全州 for the prefecture
    county_code: str
    period: str  # "YYYY-MM" or "" when the department fills it in
    unit: str  # the unit the value is written in (the plan's unit)
    basis: str  # 累计 or 当月


def department_targets(catalog: Catalog, slug: str, include_responsible: bool = False) -> list[Target]:
    """The targets in a department's template; raises ValueError (Chinese and English) when there are none."""
    try:
        catalog.department(slug)
    except KeyError as exc:
        raise ValueError(f"未知部门“{slug}”：请使用目录中的部门代码（如 hrss）。 "
                         f"Unknown department {slug!r}.") from exc
    targets = catalog.targets_of(slug) if include_responsible else catalog.lead_targets(slug)
    if not targets:
        raise ValueError(f"部门“{slug}”没有牵头的指标，无需报送模板。 Department {slug!r} leads no targets; "
                         "use include_responsible to get the targets it is responsible for.")
    return targets


def template_rows(catalog: Catalog, targets: list[Target], period: str | None) -> list[TemplateRow]:
    """The pre-filled rows, target by target in catalog order, counties in catalog order."""
    rows = []
    county_order = {c.code: i for i, c in enumerate(catalog.counties)}
    for target in targets:
        basis = BASIS_ZH["ytd" if target.kind == Kind.CUMULATIVE else "month"]
        codes: list[str] = []
        if target.scope == Scope.COUNTIES:
            codes = sorted(target.counties or catalog.county_codes, key=lambda c: county_order.get(c, 99))
            if target.value is not None and not target.additive:
                # A rate's prefecture figure is reported, it cannot be summed from the counties.
                codes = [catalog.prefecture_code, *codes]
        else:
            codes = [catalog.prefecture_code]
        for code in codes:
            name = PREFECTURE_LABEL if code == catalog.prefecture_code else catalog.county(code).name_zh
            rows.append(TemplateRow(target, name, code, period or "", target.unit_written, basis))
    return rows


def _text(cell: Cell, value: str) -> None:
    # Catalog text is trusted, but a name starting with "=" must never become a formula (ASVS 1.2.10).
    cell.value = value
    cell.data_type = "s"


def _bounds(target: Target, catalog: Catalog) -> tuple[Decimal, Decimal]:
    """The quality bounds of a target in the unit the template asks for (exact), open ends as ±1E15."""
    factor = catalog.conversion_factor(target.unit_written, target.unit) or Decimal(1)
    low = target.bounds.min / factor if target.bounds.min is not None else -_UNBOUNDED
    high = target.bounds.max / factor if target.bounds.max is not None else _UNBOUNDED
    return low, high


def _value_validations(ws: Worksheet, rows: list[TemplateRow], catalog: Catalog) -> None:
    """Numbers within the target's bounds (one validation per distinct range); 完成/未完成 for milestones."""
    groups: dict[tuple[Decimal, Decimal] | None, list[tuple[int, int]]] = {}  # None: a milestone row
    for i, row in enumerate(rows, start=2):
        key = None if row.target.kind == Kind.MILESTONE else _bounds(row.target, catalog)
        runs = groups.setdefault(key, [])
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)  # extend a run of adjacent rows: one range instead of many cells
        else:
            runs.append((i, i))
    groups.setdefault((-_UNBOUNDED, _UNBOUNDED), []).append((len(rows) + 2, len(rows) + 1 + SPARE_ROWS))
    for key, runs in groups.items():
        if key is None:
            dv = DataValidation(type="list", formula1=f'"{",".join(MILESTONE_CHOICES)}"', allow_blank=True,
                                showErrorMessage=True, errorTitle="请选择完成状态",
                                error="节点任务请填写“完成”或“未完成”。 "
                                      "Milestone: 完成 (done) or 未完成 (not done).")
        else:
            low, high = key
            dv = DataValidation(type="decimal", operator="between", formula1=_plain(low),
                                formula2=_plain(high), allow_blank=True, showErrorMessage=True,
                                showInputMessage=True, errorTitle="请填写数字", promptTitle="数值",
                                prompt="只填数字，单位见“单位”列。 Numbers only; the unit is in column 单位.",
                                error=f"请填写 {_plain(low)} 至 {_plain(high)} 之间的数字（单位见“单位”列）。"
                                      " A number in the target's range, in the unit of column 单位.")
        for first, last in runs:
            dv.add(f"E{first}:E{last}")
        ws.add_data_validation(dv)


def _plain(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return text if number.normalize() != number.to_integral_value() else text.split(".")[0]


def _list_validations(ws: Worksheet, catalog: Catalog, last: int) -> None:
    names = [PREFECTURE_LABEL] + [c.name_zh for c in catalog.counties if c.code != catalog.prefecture_code]
    counties = DataValidation(type="list", formula1=f'"{",".join(names)}"', allow_blank=False,
                              showErrorMessage=True, errorTitle="县市名称",
                              error="请从下拉列表选择县市，全州数据选“全州”。 Pick a county, or 全州.")
    if len(counties.formula1 or "") > 255:  # Excel's limit for an inline list: keep the names on a hidden sheet
        lists = ws.parent.create_sheet("_lists")
        lists.sheet_state = "hidden"
        for i, name in enumerate(names, start=1):
            _text(lists.cell(row=i, column=1), name)
        counties.formula1 = f"'_lists'!$A$1:$A${len(names)}"
    counties.add(f"C2:C{last}")
    basis = DataValidation(type="list", formula1='"累计,当月"', allow_blank=True, showErrorMessage=True,
                           errorTitle="口径",
                           error="请填写“累计”（年初至今）或“当月”。 累计 (year to date) or 当月.")
    basis.add(f"G2:G{last}")
    ws.add_data_validation(counties)
    ws.add_data_validation(basis)


def _fill_sheet(ws: Worksheet, rows: list[TemplateRow], catalog: Catalog) -> None:
    for col, (header, width) in enumerate(zip(HEADERS, WIDTHS, strict=True), start=1):
        cell = ws.cell(row=1, column=col)
        _text(cell, header)
        if header in HEADER_NOTES:
            cell.comment = Comment(HEADER_NOTES[header], "minsheng")
        cell.font = Font(bold=True)
        cell.fill = _HEAD
        cell.alignment = Alignment(horizontal="center", vertical="center")
        ws.column_dimensions[cell.column_letter].width = width
    for i, row in enumerate(rows, start=2):
        for col, text in ((1, row.target.id), (2, row.target.name_zh), (3, row.county), (4, row.period),
                          (6, row.unit), (7, row.basis)):
            _text(ws.cell(row=i, column=col), text)
        ws.cell(row=i, column=4).number_format = "@"  # 2021-06 must stay text, not become a date
        for col in (5, 8):
            ws.cell(row=i, column=col).fill = _INPUT
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:H{max(len(rows) + 1, 2)}"


def write_template(catalog: Catalog, slug: str, out: Path, period: str | None = None, *,
                   include_responsible: bool = False) -> Path:
    """Write the department's template to `out` (.xlsx, written atomically) and return the path."""
    if period is not None and not (len(period) == 7 and period[4] == "-" and period[:4].isdigit()
                                   and period[5:].isdigit() and 1 <= int(period[5:]) <= 12):
        raise ValueError(f"月份“{period}”格式不对，应为YYYY-MM，如2021-06。 Period must be YYYY-MM.")
    targets = department_targets(catalog, slug, include_responsible)
    rows = template_rows(catalog, targets, period)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "填报"
    _fill_sheet(sheet, rows, catalog)
    _value_validations(sheet, rows, catalog)
    _list_validations(sheet, catalog, len(rows) + 1 + SPARE_ROWS)
    write_guide(book.create_sheet("说明"), catalog, slug, targets, period)
    book.active = 0
    department = catalog.department(slug)
    book.properties.title = f"{department.name_zh} {period or ''} 民生指标报送模板".replace("  ", " ")
    book.properties.creator = "minsheng"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    try:
        book.save(tmp)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def _guide_lines(catalog: Catalog, slug: str, period: str | None) -> list[str]:
    department = catalog.department(slug)
    due = department.due_workday or catalog.calendar.due_workday
    when = f"{period}" if period else "报告期（格式2021-06）"
    return [
        f"{department.name_zh} 民生指标月度报送模板 填写说明（Instructions for {department.name_en}）",
        "",
        "一、怎么填 How to fill",
        "1. “填报”表每行是一个指标在一个县市（或全州）一个月份的数据；"
        "指标编码、指标名称、县市、单位已预填，请勿修改。",
        "2. 在“数值”列只填数字，单位以“单位”列为准：单位为“万人”时，1.39万人填1.39；"
        "百分比填百分数，97.2%填97.2。",
        f"3. 月份：{when}。口径：“累计”为年初至本月累计（累计类指标），“当月”为本月数。"
        "节点任务填“完成”或“未完成”。",
        "4. 没有数据的行请整行删除，不要留空，也不要用0代替；确实为0请填0。留空的数值会使整份文件不能入库。",
        "5. 备注可写说明，不影响入库。请勿合并单元格、插入合计行或改动表头。",
        "   Fill only the 数值 (value) cells, in the unit shown; delete rows you have no figure for "
        "(a blank value quarantines the whole file); never write 0 for “unknown”.",
        "",
        "二、怎么报 How to send",
        f"6. 每月第{due}个工作日前，将上月数据文件（.xlsx）放入共享目录 data/raw/{slug}/ 。"
        "文件名建议：月份_部门.xlsx。",
        "7. 同一文件重复放入不会重复入库；更正数据请修改后另存为新文件再放入，新数据生效，历史记录保留。",
        f"8. 报送前可先自查：minsheng check 文件名.xlsx --department {slug}",
        "",
        "三、回执 Receipt",
        "9. 处理后，同一目录的 _receipts/文件名.md 为回执：写明入库行数、提示（警告）和未入库原因。",
        "10. 有严重问题的文件整份隔离、不入库；回执逐条列出工作表、行、列和修改方法，请修改后重新报送。",
        "    A receipt appears in _receipts/<file>.md: rows loaded, warnings, and for a quarantined file "
        "every problem with sheet/row/column and how to fix it.",
        "",
    ]


def write_guide(ws: Worksheet, catalog: Catalog, slug: str, targets: list[Target],
                period: str | None) -> None:
    """The 说明 sheet: instructions, the county names and the department's targets, in ONE tall row.

    One row on purpose: the reader passes over a sheet without a header quietly only when it holds a single row
    of text (more rows read as a table it cannot find the header of, which is a warning).
    """
    names = [PREFECTURE_LABEL] + [c.name_zh for c in catalog.counties if c.code != catalog.prefecture_code]
    goals = [f"{t.name_zh}：{target_text(t, None, catalog)}" for t in targets]
    if len(goals) > GUIDE_TARGETS:
        goals = [*goals[:GUIDE_TARGETS], f"……共{len(targets)}项，见“填报”表"]
    blocks = ("\n".join(_guide_lines(catalog, slug, period)),
              "\n".join(["可填写的县市 Counties", *names]),
              "\n".join(["本部门指标及目标 Targets", *goals]))
    for col, (block, width) in enumerate(zip(blocks, (96, 16, 48), strict=True), start=1):
        cell = ws.cell(row=1, column=col)
        _text(cell, block)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[cell.column_letter].width = width
    lines = max(len(_guide_lines(catalog, slug, period)) + 4, len(names), len(goals)) + 1
    ws.row_dimensions[1].height = min(15 * lines, 409)  # Excel's tallest row is 409 points
