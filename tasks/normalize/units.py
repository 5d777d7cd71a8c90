"""Units from the catalog (symbol and aliases → canonical unit × factor), and conversion of parsed values.

Nothing here is hard-coded except the Chinese magnitude words (万, 亿, 千 …), which multiply any catalog unit:
`1.39万人` is 1.39 × 10⁴ person even when the catalog lists only 人.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from expectations.models import Catalog, Target
from tasks.normalize.problems import ParseProblem, nfkc
from tasks.normalize.values import EXACT, ParsedValue

MAGNITUDES: dict[str, Decimal] = {
    "千万": Decimal(10) ** 7, "百万": Decimal(10) ** 6, "十万": Decimal(10) ** 5, "万": Decimal(10) ** 4,
    "亿": Decimal(10) ** 8, "千": Decimal(10) ** 3, "百": Decimal(100),
}


@dataclass(frozen=True)
class UnitMatch:
    """A written unit resolved: canonical unit id (None for a bare magnitude such as 万) and exact factor."""

    written: str
    canonical: str | None
    factor: Decimal


def unit_key(text: str) -> str:
    """Units compare after NFKC, without spaces, ASCII lower-cased (％ ≡ %, ＰＭ ≡ pm)."""
    return "".join(nfkc(text).split()).lower()


class UnitTable:
    """Every way the catalog lets a unit be written, mapped to (canonical, factor)."""

    def __init__(self, catalog: Catalog) -> None:
        self.by_key: dict[str, UnitMatch] = {}
        for cu in catalog.canonical_units:
            for name in (cu.id, cu.name_zh, cu.name_en):
                self.by_key.setdefault(unit_key(name), UnitMatch(name, cu.id, Decimal(1)))
        for unit in catalog.units:  # explicit symbols win over canonical names
            for name in (unit.symbol, *unit.aliases):
                self.by_key[unit_key(name)] = UnitMatch(name, unit.canonical, unit.factor)
        self.dimension = {cu.id: cu.dimension for cu in catalog.canonical_units}
        self.to_base: dict[str, Decimal | None] = {cu.id: getattr(cu, "to_base", None)
                                                   for cu in catalog.canonical_units}
        self.symbols_of: dict[str, list[str]] = {}
        for unit in catalog.units:
            self.symbols_of.setdefault(unit.canonical, []).append(unit.symbol)

    def lookup(self, text: str) -> UnitMatch | None:
        """Resolve written unit text; a leading magnitude word multiplies a known unit; None when unknown."""
        key = unit_key(text)
        if key in self.by_key:
            return self.by_key[key]
        for word, size in MAGNITUDES.items():
            if key.startswith(word):
                rest = key[len(word):]
                if not rest:
                    return UnitMatch(text, None, size)
                base = self.by_key.get(rest)
                if base is not None and base.canonical is not None:
                    return UnitMatch(text, base.canonical, EXACT.multiply(size, base.factor))
        return None

    def between(self, source: str, target: str) -> Decimal | None:
        """Exact factor from one canonical unit to another of the same dimension (‰ → %: 0.1), else None."""
        if source == target:
            return Decimal(1)
        a, b = self.to_base.get(source), self.to_base.get(target)
        if self.dimension.get(source) != self.dimension.get(target) or a is None or b is None:
            return None
        try:
            return EXACT.divide(a, b)
        except ArithmeticError:  # not exact (1 亩 in m²): refuse rather than round a quantity
            return None

    def accepted(self, canonical: str, sep: str = "、") -> str:
        """The written forms accepted for a canonical unit, for messages ("人、万人")."""
        return sep.join(self.symbols_of.get(canonical, [canonical]))


def _unknown(text: str, table: UnitTable, target: Target, role: str | None) -> ParseProblem:
    return ParseProblem(
        "unknown_unit",
        f"中的单位“{text}”不认识；该指标的单位可写为：{table.accepted(target.unit)}。",
        f"has the unknown unit '{text}'; for this target write one of: {table.accepted(target.unit, ', ')}.",
        role=role,
    )


def to_canonical(parsed: ParsedValue, column_unit: str | None, target: Target,
                 table: UnitTable) -> Decimal:
    """The value in the target's canonical unit, exactly.

    `column_unit` is the unit column's text (or the unit in the value header, 完成值（万人）). A unit written in the
    value and one in the column must name the same canonical unit (else unit_conflict); the result must be in the
    target's canonical unit, or convert exactly to it within one dimension (5‰ → 0.5 for a % target), else
    wrong_unit. A plain number takes the column's unit, or the target's own. A
    fraction for a percent target (0.953) is not scaled: bounds checks downstream catch it.
    """
    in_value = table.lookup(parsed.unit) if parsed.unit else None
    if parsed.unit and in_value is None:
        raise _unknown(parsed.unit, table, target, None)
    in_column = table.lookup(column_unit) if column_unit else None
    if column_unit and in_column is None:
        raise _unknown(column_unit, table, target, "unit")
    factor = Decimal(1)
    canonical: str | None = target.unit
    if in_value is not None and in_column is not None:
        value_has_unit = in_value.canonical is not None
        column_has_unit = in_column.canonical is not None
        if (value_has_unit and column_has_unit and in_value.canonical != in_column.canonical) or (
                not value_has_unit and in_column.factor != 1) or (value_has_unit and not column_has_unit):
            raise ParseProblem(
                "unit_conflict",
                f"中的单位“{parsed.unit}”与单位列的“{column_unit}”不一致，请只在一处写单位，或使两者一致。",
                f"carries the unit '{parsed.unit}' but the unit column says '{column_unit}'; write the unit in "
                "one place only, or make them agree.",
            )
        if value_has_unit:
            factor, canonical = in_value.factor, in_value.canonical
        else:
            factor, canonical = EXACT.multiply(in_value.factor, in_column.factor), in_column.canonical
    elif in_value is not None or in_column is not None:
        match = in_value if in_value is not None else in_column
        assert match is not None
        factor = match.factor
        canonical = match.canonical if match.canonical is not None else target.unit
    across = table.between(canonical, target.unit) if canonical is not None else None
    if across is not None:
        factor = EXACT.multiply(factor, across)
    else:
        written = parsed.unit if in_value is not None and in_value.canonical else column_unit
        raise ParseProblem(
            "wrong_unit",
            f"的单位“{written}”不适用于该指标（应为{table.accepted(target.unit)}），请检查是否填错了指标或单位。",
            f"is in '{written}', which does not fit this target (write it in {table.accepted(target.unit, ', ')});"
            " check the target and the unit.",
            role=None if written == parsed.unit else "unit",
        )
    return EXACT.multiply(parsed.number, factor)
