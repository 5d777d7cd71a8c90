"""How a department writes true values into a table: which headers, county and period spellings, units
and encodings it uses. All pure (values in, text or bytes out); `minsheng.demo_drops` writes the files."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from expectations.models import Catalog, Kind, Target
from minsheng.demo.series import Obs

HEADERS = {
    "full": ("指标编码", "指标名称", "县市", "月份", "数值", "单位", "口径", "备注"),
    "name": ("指标名称", "县市", "月份", "完成值", "单位", "口径", "备注"),
    "english": ("target_id", "county", "period", "value", "unit", "basis", "note"),
}
FULLWIDTH = str.maketrans("0123456789,.-", "０１２３４５６７８９，．－")


@dataclass(frozen=True)
class Style:
    """How one department writes its tables (the drop contract allows all of these spellings)."""

    header: str = "full"  # a key of HEADERS
    county: str = "name"  # name (楚雄市) | short (楚雄) | code (532301) | former (禄丰县 for 禄丰市)
    period: str = "iso"  # iso (2021-03) | zh (2021年3月) | compact (202103)
    encoding: str = "utf-8"  # utf-8 | utf-8-sig | gb18030 (identical to GBK bytes for every GBK character)
    newline: str = "\n"
    title: str | None = None  # a title row above the header, as departments' Excel exports have
    total_label: str = "全州"  # the prefecture row below county rows of the same target: 全州 or 合计
    text_units: bool = False  # write 1.39万人 / 97.2% in the value cell instead of a unit column
    fullwidth: bool = False  # write values in full-width digits with thousands separators (１３，９００)


def plain(value: Decimal) -> str:
    """A decimal as plain text, no exponent and no trailing zeros (13900, 1.39, 97.2)."""
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", ""} else text


def plain_unit(target: Target, catalog: Catalog) -> tuple[str, Decimal]:
    """The written unit a department uses by default: the plan's own word when it is exact (所, 个), else the
    factor-1 unit of the target's canonical unit."""
    same = [u for u in catalog.units if u.canonical == target.unit]
    for unit in same:
        if unit.factor == 1 and target.unit_written in {unit.symbol, *unit.aliases}:
            return unit.symbol, unit.factor
    for unit in same:
        if unit.factor == 1:
            return unit.symbol, unit.factor
    return target.unit, Decimal(1)


def big_unit(target: Target, catalog: Catalog, value: Decimal) -> tuple[str, Decimal] | None:
    """A larger unit the value converts to exactly with at most 2 decimals (13900 人 → 1.39 万人), if any."""
    for unit in sorted(catalog.units, key=lambda u: -u.factor):
        if unit.canonical != target.unit or unit.factor < 10000:
            continue
        written = value / unit.factor
        exponent = written.normalize().as_tuple().exponent
        short = isinstance(exponent, int) and exponent >= -2  # 1.39万人, 2.9亿元; never 0.1024万人
        if short and written >= Decimal("0.5") and written * unit.factor == value:
            return unit.symbol, written
    return None


def _thousands(text: str) -> str:
    whole, _, frac = text.partition(".")
    grouped = f"{int(whole):,}" if whole.lstrip("-").isdigit() else whole
    return grouped + ("." + frac if frac else "")


def value_cells(obs: Obs, target: Target, catalog: Catalog, style: Style) -> tuple[str, str]:
    """The value and unit cells of one observation, as this department writes them."""
    if target.kind == Kind.MILESTONE or obs.value is None:
        return ("完成" if obs.done else "未完成"), ""
    symbol, factor = plain_unit(target, catalog)
    written = plain(obs.value / factor)
    if style.fullwidth:
        return _thousands(written).translate(FULLWIDTH), symbol
    if style.text_units:
        big = big_unit(target, catalog, obs.value)
        if big is not None:
            return plain(big[1]) + big[0], ""
        if not symbol[:1].isalnum():  # %, ‰, /10万 read naturally after the number
            return written + symbol, ""
    return written, symbol


def county_label(code: str, catalog: Catalog, style: Style, summed: bool = False) -> str:
    """How the department names a county; the prefecture is 全州, or the style's 合计 when the row
    closes a block of county rows of the same target (`summed`)."""
    if code == catalog.prefecture_code:
        return style.total_label if summed else "全州"
    county = catalog.county(code)
    if style.county == "code":
        return county.code
    if style.county == "former" and county.former_names:
        return county.former_names[0]
    if style.county == "short":
        cjk = [a for a in county.aliases if a and "\u4e00" <= a[0] <= "\u9fff" and a != county.name_zh]
        return cjk[0] if cjk else county.name_zh
    return county.name_zh


def period_label(year: int, month: int, style: Style) -> str:
    """A month in the department's spelling: 2021-03, 2021年3月 or 202103."""
    if style.period == "zh":
        return f"{year}年{month}月"
    if style.period == "compact":
        return f"{year}{month:02d}"
    return f"{year}-{month:02d}"


def basis_label(target: Target) -> str:
    """口径: 累计 (year to date) for quantities that accumulate, blank for levels and milestones."""
    return "累计" if target.kind in {Kind.CUMULATIVE, Kind.BUDGET} else ""


def county_column(style: Style) -> int:
    """0-based index of the county column in this style's header."""
    return len(HEADERS[style.header]) - 6


def value_column(style: Style) -> int:
    """0-based index of the value column in this style's header."""
    return len(HEADERS[style.header]) - 4


def table_rows(observations: list[Obs], catalog: Catalog, year: int, style: Style) -> list[list[str]]:
    """Data rows of a long-format table in the department's style (order as given)."""
    rows = []
    broken_down = {o.target_id for o in observations if o.county_code != catalog.prefecture_code}
    for obs in observations:
        target = catalog.target(obs.target_id)
        value, unit = value_cells(obs, target, catalog, style)
        county = county_label(obs.county_code, catalog, style, obs.target_id in broken_down)
        cells = {
            "target_id": target.id, "name": target.name_zh, "county": county,
            "period": period_label(year, obs.month, style), "value": value, "unit": unit,
            "basis": basis_label(target), "note": obs.note,
        }
        keys = {"full": ("target_id", "name"), "name": ("name",), "english": ("target_id",)}[style.header]
        rows.append([cells[k] for k in (*keys, "county", "period", "value", "unit", "basis", "note")])
    return rows


def csv_bytes(rows: list[list[str]], style: Style) -> bytes:
    """The file's bytes: optional title row (padded like an Excel export), header, data rows, encoded."""
    header = list(HEADERS[style.header])
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=style.newline)
    if style.title:
        writer.writerow([style.title] + [""] * (len(header) - 1))
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(style.encoding)
