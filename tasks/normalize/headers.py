"""Find the header row of a drop and map its columns to roles (target, county, period, value …).

Headers are matched case-, space- and punctuation-insensitively against Chinese and English aliases. A unit in
brackets is read off the value header (完成值（万人）). Two-row headers (a merged 完成值 over 本月 | 累计) are tried
as well as single rows; the candidate among the first rows that names the most roles wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tasks.normalize.problems import match_key, nfkc
from tasks.read import Cell

SCAN_ROWS = 15
ROLES = ("target", "county", "period", "value", "unit", "basis", "status", "note")
ROLE_ZH = {"target": "指标", "county": "县市", "period": "月份", "value": "完成值", "unit": "单位",
           "basis": "口径", "status": "状态", "note": "备注"}
ACCEPTED: dict[str, tuple[str, ...]] = {
    "target": ("target_id", "指标编码", "指标代码", "indicator", "target", "指标名称", "指标", "指标名", "项目",
               "项目名称", "指标项目"),
    "county": ("county", "县市", "地区", "区域", "县市区", "县区", "县（市）", "县（市、区）", "单位"),
    "period": ("period", "月份", "期别", "统计期", "时间", "报告期", "统计时间", "年月", "日期", "统计月份"),
    "value": ("value", "数值", "完成值", "累计完成", "完成数", "本月完成", "当月完成", "完成情况", "实际完成",
              "本年累计", "累计完成值"),
    "unit": ("unit", "单位", "计量单位"),
    "basis": ("basis", "口径", "统计口径"),
    "status": ("status", "状态", "数据状态"),
    "note": ("note", "notes", "remark", "remarks", "备注", "说明"),
}
TARGET_ID_KEYS = frozenset(match_key(a) for a in ("target_id", "targetid", "指标编码", "指标代码", "指标id", "id"))
_VALUE_BASE = frozenset(match_key(a) for a in (
    "value", "数值", "完成值", "完成数", "完成", "完成情况", "实际完成", "值", "数", "完成额", "完成量", "实际"))
_BASIS_WORDS: tuple[tuple[str, str], ...] = (  # longest first, so 本年累计 is not read as 累计 + 本年
    ("本年累计", "ytd"), ("年初至今", "ytd"), ("年累计", "ytd"), ("累计", "ytd"), ("ytd", "ytd"),
    ("本月", "month"), ("当月", "month"), ("monthly", "month"), ("month", "month"),
)
AMBIGUOUS = match_key("单位")  # a reporting unit (county) or a unit of measure, decided from the data
_ALIASES: dict[str, str] = {}
for _role, _names in ACCEPTED.items():
    for _name in _names:
        _ALIASES.setdefault(match_key(_name), _role)
_ALIASES.update({k: "target" for k in TARGET_ID_KEYS})
_BRACKET = re.compile(r"[(\[【](?P<inside>[^)\]】]*)[)\]】]")


@dataclass
class Column:
    """One recognized column: its 0-based index, role, header as the user wrote it, and what the header implies."""

    index: int
    role: str
    header: str
    basis: str | None = None  # 本月完成 → month, 累计完成 → ytd
    unit: str | None = None  # 完成值（万人） → 万人
    is_id: bool = False  # 指标编码/target_id rather than a name


@dataclass
class Header:
    """The header found in a sheet: which rows it spans and the columns it maps."""

    first: int  # index into RawSheet.rows of the first header row
    span: int  # 1, or 2 for a two-row header
    columns: list[Column]
    ignored: list[str] = field(default_factory=list)  # headers of columns nobody asked for
    ambiguous: list[Column] = field(default_factory=list)  # 单位 columns: county or unit, decided from data

    @property
    def data_start(self) -> int:
        return self.first + self.span

    def role(self, name: str) -> list[Column]:
        return [c for c in self.columns if c.role == name]


def classify(text: str) -> tuple[str, str | None, str | None, bool] | None:
    """(role, implied basis, unit in brackets, is_id) for one header text, or None when not a known header."""
    folded = nfkc(text)
    whole = match_key(folded)
    if whole in _ALIASES and _ALIASES[whole] != "value":  # 县（市、区）: the brackets belong to the name
        return _ALIASES[whole], None, None, whole in TARGET_ID_KEYS
    inside = _BRACKET.search(folded)
    unit = inside.group("inside").strip() or None if inside else None
    key = match_key(_BRACKET.sub("", folded))
    if not key:
        return None
    if key in _ALIASES:
        role = _ALIASES[key]
        basis = next((b for w, b in _BASIS_WORDS if w in key), None) if role == "value" else None
        return role, basis, unit if role == "value" else None, key in TARGET_ID_KEYS
    for word, basis in _BASIS_WORDS:
        if word in key:
            rest = key.replace(word, "", 1)
            if rest == "" or rest in _VALUE_BASE:
                return "value", basis, unit, False
    return None


def _texts(rows: list[list[Cell]], first: int, span: int) -> list[str]:
    width = max(len(rows[i]) for i in range(first, first + span))
    out = []
    for c in range(width):
        parts: list[str] = []
        for i in range(first, first + span):
            cell = rows[i][c] if c < len(rows[i]) else None
            text = (cell or "").strip()
            if text and text not in parts:
                parts.append(text)
        out.append("/".join(parts))
    return out


def _candidate(rows: list[list[Cell]], first: int, span: int) -> tuple[int, Header]:
    columns, ignored, ambiguous = [], [], []
    for index, text in enumerate(_texts(rows, first, span)):
        found = classify(text.replace("/", ""))
        if found is None:
            if text:
                ignored.append(text)
            continue
        role, basis, unit, is_id = found
        column = Column(index, role, text, basis, unit, is_id)
        if match_key(text) == AMBIGUOUS:
            ambiguous.append(column)
        else:
            columns.append(column)
    keys = {(c.role, c.basis) for c in columns} | {("ambiguous", None) for _ in ambiguous}
    return len(keys), Header(first, span, columns, ignored, ambiguous)


def detect_header(rows: list[list[Cell]]) -> Header | None:
    """The best header among the first rows: it must name a target and a value column; None when none does."""
    best: tuple[int, Header] | None = None
    for first in range(min(SCAN_ROWS, len(rows))):
        for span in (1, 2):
            if first + span > len(rows) or not any(rows[first]):
                continue
            score, header = _candidate(rows, first, span)
            if not header.role("target") or not header.role("value"):
                continue
            if best is None or score > best[0]:
                best = (score, header)
    return best[1] if best else None


def accepted_headers(role: str, sep: str = "、") -> str:
    """The headers accepted for a role, for error messages."""
    return sep.join(ACCEPTED[role])
