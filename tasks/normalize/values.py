"""Numbers as departments write them: `1.39万人`, `97.2%`, `16/10万`, `１３，９００．５`, `1.5E+4` — exactly.

`parse_value` splits a cell into an exact Decimal and the unit text written after it; it knows nothing of the
catalog. Turning that into canonical units (and checking it against the unit column and the target) is
`units.to_canonical`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow

from tasks.normalize.problems import ParseProblem, nfkc
from tasks.read.cells import EXCEL_ERRORS

MISSING_MARKERS = frozenset({"", "-", "--", "---", "—", "——", "–", "/", "\\", "无", "暂无", "na", "n/a", "n.a.",
                             "nan", "null", "none", "#n/a", "…", "...", "空"})
_NUMBER = re.compile(
    r"^(?P<sign>[+-]?)\s*(?P<int>\d{1,3}(?:,\d{3})+|\d+)?(?P<frac>\.\d+)?(?P<exp>[eE][+-]?\d+)?"
    r"\s*(?P<unit>[^\d.,\s].*)?$",
    re.DOTALL,
)
# The shapes most cells have, for a vectorized first pass (RE2 syntax): a plain ASCII decimal, optionally
# followed by a unit that starts with % or a non-ASCII character (万人, ‰, 亿元).
FAST_VALUE = r"^(?P<number>-?\d+(?:\.\d+)?)(?P<unit>(?:[%\x{80}-\x{10FFFF}]\S*)?)$"
EXACT = Context(prec=120, traps=[InvalidOperation, Inexact, Overflow])  # arithmetic that never rounds quietly
MAX_EXPONENT = 40  # Decimal accepts 1E+999999; no count or amount of money needs more than this
MILESTONE_WORDS: dict[str, int] = {
    "完成": 1, "已完成": 1, "是": 1, "done": 1, "1": 1, "yes": 1, "true": 1, "√": 1, "✓": 1, "已办结": 1,
    "未完成": 0, "否": 0, "0": 0, "no": 0, "false": 0, "notdone": 0, "×": 0, "未办结": 0,
}


@dataclass(frozen=True)
class ParsedValue:
    """A cell's number, exact, and the unit written after it (NFKC, spaces removed), e.g. (1.39, "万人")."""

    number: Decimal
    unit: str | None


def missing_problem() -> ParseProblem:
    return ParseProblem(
        "missing_value",
        "表示没有数据；缺失的值不会按0入库，请填写实际数值（确实为0请填0）。",
        "means no value; a missing value is never stored as 0 — fill in the actual figure (write 0 if it is 0).",
    )


def bad_value_problem() -> ParseProblem:
    return ParseProblem(
        "bad_value",
        "不是数值；请只填写数字，可带单位，如 13900、1.39万人、97.2%、16/10万。",
        "is not a number; write a number, optionally with its unit, e.g. 13900, 1.39万人, 97.2%, 16/10万.",
    )


def is_missing(text: str | None) -> bool:
    """Whether a cell means "no value" (empty, -, —, /, 无, NA …): never to be read as 0."""
    return text is None or nfkc(text).lower() in MISSING_MARKERS


def parse_value(text: str) -> ParsedValue:
    """Parse a value cell exactly: full-width folded, thousands separators (, and ，) dropped, sign, exponent.

    Raises ParseProblem(missing_value) for empty/"-"/"—"/"/"/"无"/"NA", ParseProblem(bad_value) for anything
    that is not a number followed by an optional unit.
    """
    if is_missing(text):
        raise missing_problem()
    folded = nfkc(text)
    if folded.upper() in EXCEL_ERRORS:  # an Excel error exported to CSV as text
        raise ParseProblem("error_cell", "是Excel错误值，请修正公式或直接填写数值。",
                           "is an Excel error value; fix the formula or type the value.")
    m = _NUMBER.match(folded)
    if m is None or (m.group("int") is None and m.group("frac") is None):
        raise bad_value_problem()
    digits = (m.group("int") or "0").replace(",", "") + (m.group("frac") or "") + (m.group("exp") or "")
    try:
        number = Decimal(m.group("sign") + digits)
    except InvalidOperation as exc:  # the regex admits only decimal syntax; this is a safety net
        raise bad_value_problem() from exc
    if abs(number.adjusted()) > MAX_EXPONENT and number != 0:
        raise ParseProblem("bad_value", "数量级不合理，请检查是否多写或少写了位数。",
                           "has an implausible magnitude; check the digits.")
    unit = re.sub(r"\s+", "", m.group("unit") or "") or None
    return ParsedValue(number, unit)


def parse_milestone(text: str) -> Decimal:
    """A milestone cell: 完成/已完成/是/done/1 → 1, 未完成/否/0 → 0; anything else raises ParseProblem."""
    if is_missing(text):
        raise missing_problem()
    word = re.sub(r"\s+", "", nfkc(text).lower())
    if word in MILESTONE_WORDS:
        return Decimal(MILESTONE_WORDS[word])
    raise ParseProblem("bad_value", "不是完成状态；该指标是节点任务，请填写“完成”或“未完成”。",
                       "is not a completion status; this target is a milestone: write 完成 (done) or 未完成 "
                       "(not done).")


def clean_decimal(value: Decimal) -> Decimal:
    """The same number without trailing zeros or exponent noise: 13900.00 → 13900, 97.20 → 97.2."""
    if value == 0:
        return Decimal(0)
    normal = value.normalize(EXACT)
    exponent = normal.as_tuple().exponent
    return normal.quantize(Decimal(1), context=EXACT) if isinstance(exponent, int) and exponent > 0 else normal
