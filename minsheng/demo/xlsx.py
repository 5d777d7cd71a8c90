"""A messy but honest department workbook, the way progress tables really arrive.

The visible sheet has a merged title row, a merged 填报单位 line, a tall header whose cells are merged over
two rows, rows grouped by county with the county cell merged down each block, real Excel dates in 月份, rates
stored as fractions shown as percentages (0.953 → 95.3%), 合计 rows closing additive blocks and a 备注 notes
row at the bottom. A hidden sheet holds a stale earlier version. Bytes are stable: fixed document times
and zip entry times.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from expectations.models import Catalog, Kind
from minsheng.demo.render import HEADERS, Style, basis_label, county_label, plain_unit
from minsheng.demo.series import Obs

HEADER = list(HEADERS["full"])
LAST = "ABCDEFGHIJ"[len(HEADER) - 1]
PERCENT_FORMATS = {0: "0%", 1: "0.0%", 2: "0.00%"}
MONTH_FORMAT = 'yyyy"年"m"月"'


def _value_cell(obs: Obs, catalog: Catalog) -> tuple[object, str, str | None]:
    """(cell value, unit cell, number format) for one observation."""
    target = catalog.target(obs.target_id)
    if target.kind == Kind.MILESTONE or obs.value is None:
        return ("完成" if obs.done else "未完成"), "", None
    symbol, factor = plain_unit(target, catalog)
    written = obs.value / factor
    if target.unit == "percent":
        exponent = written.normalize().as_tuple().exponent
        places = min(2, max(0, -exponent)) if isinstance(exponent, int) else 1
        return float(written / 100), symbol, PERCENT_FORMATS[places]
    if written == written.to_integral_value():
        return int(written), symbol, None
    return float(written), symbol, None


def _append_rows(ws: Worksheet, observations: list[Obs], catalog: Catalog, year: int, style: Style) -> None:
    broken_down = {o.target_id for o in observations if o.county_code != catalog.prefecture_code}
    for obs in observations:
        target = catalog.target(obs.target_id)
        value, unit, number_format = _value_cell(obs, catalog)
        county = county_label(obs.county_code, catalog, style, obs.target_id in broken_down)
        ws.append([target.id, target.name_zh, county,
                   dt.datetime(year, obs.month, 1), value, unit, basis_label(target), obs.note or None])
        ws.cell(ws.max_row, 4).number_format = MONTH_FORMAT
        if number_format:
            ws.cell(ws.max_row, 5).number_format = number_format


def _merge_county_blocks(ws: Worksheet, first_row: int, last_row: int) -> None:
    """Merge the county cell (column C) down each run of rows for the same county, as departments do."""
    start = first_row
    for row in range(first_row + 1, last_row + 2):
        if row > last_row or ws.cell(row, 3).value != ws.cell(start, 3).value:
            if row - 1 > start:
                ws.merge_cells(start_row=start, start_column=3, end_row=row - 1, end_column=3)
                ws.cell(start, 3).alignment = Alignment(vertical="center")
            start = row


def _decorate(ws: Worksheet, title: str, department: str, period_text: str) -> None:
    """Rows 1–4: merged title, merged 填报单位/统计时段 line, and a header two rows tall (each cell merged
    down over rows 3–4, as in tables whose other columns once had two-level headings)."""
    ws.append([title])
    ws.merge_cells(f"A1:{LAST}1")
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append([f"填报单位：{department}（盖章）", None, None, None, f"统计时段：{period_text}"])
    ws.merge_cells("A2:D2")
    ws.merge_cells(f"E2:{LAST}2")
    ws.append(HEADER)
    ws.append([None] * len(HEADER))
    for col in range(1, len(HEADER) + 1):
        ws.merge_cells(start_row=3, start_column=col, end_row=4, end_column=col)
        ws.cell(3, col).font = Font(bold=True)
        ws.cell(3, col).alignment = Alignment(horizontal="center", vertical="center")
    for letter, width in zip("ABCDEFGH", (34, 40, 10, 12, 12, 8, 8, 24), strict=True):
        ws.column_dimensions[letter].width = width


def _stable_zip(data: bytes, stamp: dt.datetime) -> bytes:
    """Re-pack an xlsx with fixed entry times and dcterms:modified, so equal content gives equal bytes."""
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for entry in src.infolist():
            payload = src.read(entry.filename)
            if entry.filename == "docProps/core.xml":
                payload = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                                 rb"\g<1>" + iso + rb"\g<2>", payload)
            info = zipfile.ZipInfo(entry.filename, date_time=stamp.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, payload)
    return out.getvalue()


def workbook_bytes(*, catalog: Catalog, year: int, department: str, title: str, period_text: str,
                   sheet_name: str, observations: list[Obs], notes: str, stale_sheet_name: str,
                   stale_observations: list[Obs], stamp: dt.datetime, style: Style) -> bytes:
    """The bytes of one messy progress workbook; `observations` are written in the order given (grouped by
    county by the caller), `stale_observations` go to a hidden sheet nobody should read."""
    wb = Workbook()
    wb.properties.creator = department
    wb.properties.lastModifiedBy = department
    wb.properties.created = stamp
    ws = wb.active
    assert ws is not None  # a new Workbook always has one sheet
    ws.title = sheet_name
    _decorate(ws, title, department, period_text)
    _append_rows(ws, observations, catalog, year, style)
    _merge_county_blocks(ws, 5, ws.max_row)
    ws.append([notes])  # left unmerged: the text simply runs across the empty cells to its right
    ws.freeze_panes = "A5"

    stale = wb.create_sheet(stale_sheet_name)
    stale.append([f"{title}（旧表，已作废，请勿使用）"])
    stale.append(HEADER)
    _append_rows(stale, stale_observations, catalog, year, Style())
    stale.sheet_state = "hidden"
    wb.active = 0

    buffer = io.BytesIO()
    wb.save(buffer)
    return _stable_zip(buffer.getvalue(), stamp)


def stale_copy(observations: list[Obs]) -> list[Obs]:
    """An out-of-date draft of the same table: the previous month's figures, some of them mistyped."""
    out = []
    for i, obs in enumerate(observations):
        if obs.value is None or obs.month <= 1:
            continue
        value = obs.value * Decimal("0.9") if i % 3 == 0 else obs.value
        out.append(Obs(obs.target_id, obs.county_code, obs.month - 1, value.quantize(obs.value), obs.done))
    return out
