"""Value parsing and unit conversion: exact Decimals, every notation departments use, clear refusals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from expectations.models import Catalog
from tasks.normalize import ParsedValue, ParseProblem, UnitTable, parse_milestone, parse_value, to_canonical
from tasks.normalize.values import clean_decimal


def _target(tid: str, unit: str, written: str, kind: str = "level", comparator: str = ">=") -> dict[str, Any]:
    direction = {">=": "higher_is_better", "done": "done_is_better"}[comparator]
    return {"id": tid, "name_zh": tid, "name_en": tid, "program": "p", "ref": "一", "lead_departments": ["d"],
            "unit_written": written, "unit": unit, "comparator": comparator,
            "value": None if comparator == "done" else 1, "direction": direction, "kind": kind,
            **({"deadline": "2021-12-31"} if kind == "milestone" else {})}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """A small catalog with one target per canonical unit and the units departments write."""
    units = [("人", "person", "1", []), ("万人", "person", "10000", ["万名"]), ("元", "yuan", "1", []),
             ("万元", "yuan", "10000", []), ("亿元", "yuan", "100000000", []), ("%", "percent", "1", ["％"]),
             ("‰", "permille", "1", []), ("/10万", "per_100k", "1", ["1/10万"]), ("平方公里", "km2", "1", ["km2"]),
             ("亩", "mu", "1", []), ("万亩", "mu", "10000", []), ("T", "mbps", "1000000", []),
             ("M", "mbps", "1", []), ("项", "item", "1", [])]
    dims = {"person": ("persons", None), "yuan": ("money", None), "percent": ("ratio", "1"),
            "permille": ("ratio", "0.1"), "per_100k": ("ratio", "0.001"), "km2": ("area", "1500"),
            "mu": ("area", "1"), "mbps": ("bandwidth", None), "item": ("count", None)}
    return Catalog.model_validate({
        "plan_zh": "方案", "plan_en": "plan", "year": 2021, "prefecture_code": "532300",
        "programs": [{"id": "p", "name_zh": "p", "name_en": "p", "ref": "一", "group": "projects"}],
        "departments": [{"slug": "d", "name_zh": "d", "name_en": "d"}],
        "counties": [{"code": "532300", "name_zh": "楚雄州", "name_en": "Chuxiong", "kind": "prefecture"}],
        "canonical_units": [{"id": k, "name_zh": k, "name_en": k, "dimension": d, "to_base": b}
                            for k, (d, b) in dims.items()],
        "units": [{"symbol": s, "canonical": c, "factor": f, "aliases": a} for s, c, f, a in units],
        "calendar": {"year": 2021, "supervision_office": "d", "data_team": "d"},
        "targets": [_target("p.jobs", "person", "万人", "cumulative"), _target("p.money", "yuan", "亿元"),
                    _target("p.rate", "percent", "%"), _target("p.imr", "permille", "‰"),
                    _target("p.mmr", "per_100k", "/10万"), _target("p.area", "km2", "平方公里"),
                    _target("p.grain", "mu", "万亩"), _target("p.band", "mbps", "T"),
                    _target("p.done", "item", "项", "milestone", "done")],
    })


@pytest.fixture(scope="module")
def table(catalog: Catalog) -> UnitTable:
    return UnitTable(catalog)


def convert(text: str, target: str, catalog: Catalog, table: UnitTable, column: str | None = None) -> Decimal:
    return to_canonical(parse_value(text), column, catalog.target(target), table)


@pytest.mark.parametrize(("text", "number", "unit"), [
    ("1.39万人", "1.39", "万人"), ("2.9亿元", "2.9", "亿元"), ("97.2%", "97.2", "%"), ("5‰", "5", "‰"),
    ("16/10万", "16", "/10万"), ("350平方公里", "350", "平方公里"), ("2.4T", "2.4", "T"),
    ("1,234,567", "1234567", None), ("１３，９００．５", "13900.5", None), ("-3.5", "-3.5", None),
    ("1.5E+4", "15000", None), ("  42 ", "42", None), ("1.39 万 人", "1.39", "万人"), (".5", "0.5", None),
    ("９７．２％", "97.2", "%"), ("+7", "7", None), ("1e-3", "0.001", None),
], ids=lambda v: str(v))
def test_parse_value_notations(text: str, number: str, unit: str | None) -> None:
    parsed = parse_value(text)
    assert parsed == ParsedValue(parsed.number, unit)
    assert isinstance(parsed.number, Decimal) and parsed.number == Decimal(number)


@pytest.mark.parametrize(("text", "target", "column", "canonical"), [
    ("1.39万人", "p.jobs", None, "13900"), ("2.9亿元", "p.money", None, "290000000"),
    ("97.2%", "p.rate", None, "97.2"), ("5‰", "p.imr", None, "5"), ("16/10万", "p.mmr", None, "16"),
    ("350平方公里", "p.area", None, "350"), ("2.4T", "p.band", None, "2400000"),
    ("13900", "p.jobs", None, "13900"), ("1.39", "p.jobs", "万人", "13900"), ("1.39万", "p.jobs", None, "13900"),
    ("1.39万", "p.jobs", "人", "13900"), ("1.39万人", "p.jobs", "人", "13900"), ("12", "p.grain", "万亩", "120000"),
    ("350平方公里", "p.grain", None, "525000"), ("0.5%", "p.imr", None, "5"), ("5‰", "p.rate", None, "0.5"),
    ("0.953", "p.rate", None, "0.953"), ("3.5", "p.rate", "％", "3.5"), ("-120.5", "p.money", "万元", "-1205000"),
    ("1.5E+4", "p.jobs", None, "15000"), ("1,234,567", "p.money", "元", "1234567"),
], ids=lambda v: str(v))
def test_conversion_to_canonical(text: str, target: str, column: str | None, canonical: str,
                                 catalog: Catalog, table: UnitTable) -> None:
    value = convert(text, target, catalog, table, column)
    assert isinstance(value, Decimal)
    assert value == Decimal(canonical)


@pytest.mark.parametrize(("text", "target", "column", "code"), [
    ("97.2%", "p.rate", "‰", "unit_conflict"), ("1.39万", "p.jobs", "万人", "unit_conflict"),
    ("1.39万人", "p.jobs", "万", "unit_conflict"), ("2.9亿元", "p.jobs", None, "wrong_unit"),
    ("5", "p.jobs", "元", "wrong_unit"), ("5", "p.rate", "平方公里", "wrong_unit"),
    ("5公斤", "p.jobs", None, "unknown_unit"), ("5", "p.jobs", "斤", "unknown_unit"),
], ids=lambda v: str(v))
def test_conversion_refusals(text: str, target: str, column: str | None, code: str, catalog: Catalog,
                             table: UnitTable) -> None:
    with pytest.raises(ParseProblem) as info:
        convert(text, target, catalog, table, column)
    assert info.value.code == code
    assert info.value.zh and info.value.en


@pytest.mark.parametrize("text", ["", " ", "-", "--", "—", "——", "/", "无", "NA", "n/a", "N/A", "null", "－", "NaN"])
def test_missing_is_never_zero(text: str) -> None:
    with pytest.raises(ParseProblem) as info:
        parse_value(text)
    assert info.value.code == "missing_value"


@pytest.mark.parametrize("text", ["约1.2万", "1,23", "12.3.4", "abc", "1 234", "1.2.3%", "Infinity", "1e999",
                                  "≈5", "5.", "1,2345", "(5)"])
def test_not_a_number_is_bad_value(text: str) -> None:
    with pytest.raises(ParseProblem) as info:
        parse_value(text)
    assert info.value.code == "bad_value"


@pytest.mark.parametrize(("text", "done"), [("完成", 1), ("已完成", 1), ("是", 1), ("done", 1), ("1", 1),
                                            ("DONE", 1), ("未完成", 0), ("否", 0), ("0", 0)])
def test_milestone_words(text: str, done: int) -> None:
    assert parse_milestone(text) == Decimal(done)


def test_milestone_refuses_other_text() -> None:
    with pytest.raises(ParseProblem) as info:
        parse_milestone("80%")
    assert info.value.code == "bad_value"
    with pytest.raises(ParseProblem) as info:
        parse_milestone("")
    assert info.value.code == "missing_value"


decimals = st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=4, allow_nan=False,
                       allow_infinity=False)
FULL_WIDTH = str.maketrans("0123456789.,%-+", "０１２３４５６７８９．，％－＋")


def _text(d: Decimal) -> str:
    return format(d, "f")


@given(decimals)
def test_decimal_is_exact(d: Decimal) -> None:
    parsed = parse_value(_text(d))
    assert isinstance(parsed.number, Decimal)
    assert parsed.number == d and parsed.unit is None


@given(d=decimals, notation=st.sampled_from(["plain", "thousands", "cn_thousands", "万人", "亿元", "%", "‰", "/10万",
                                             "万"]))
def test_round_trip_every_notation(d: Decimal, notation: str, catalog: Catalog, table: UnitTable) -> None:
    # format(v) in a notation, then parse and convert, gives v in canonical units exactly
    target, text, expected = "p.jobs", _text(d), d
    if notation == "thousands":
        text = format(d, ",f")
    elif notation == "cn_thousands":
        text = format(d, ",f").replace(",", "，")
    elif notation == "万":
        text, expected = _text(d) + "万", d * 10000
    elif notation == "万人":
        text, expected = _text(d) + "万人", d * 10000
    elif notation == "亿元":
        target, text, expected = "p.money", _text(d) + "亿元", d * 100000000
    elif notation in {"%", "‰", "/10万"}:
        target = {"%": "p.rate", "‰": "p.imr", "/10万": "p.mmr"}[notation]
        text = _text(d) + notation
    assert convert(text, target, catalog, table) == expected


@given(decimals, st.sampled_from(["", "%", "万人", ",", "/10万"]))
def test_full_width_equals_ascii(d: Decimal, suffix: str) -> None:
    ascii_text = format(d, ",f") if suffix == "," else _text(d) + suffix
    assert parse_value(ascii_text.translate(FULL_WIDTH)) == parse_value(ascii_text)


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=Decimal("-1e20"), max_value=Decimal("1e20")))
def test_clean_decimal_keeps_the_number(d: Decimal) -> None:
    cleaned = clean_decimal(d)
    assert cleaned == d
    assert "E" not in str(cleaned) or abs(cleaned) < Decimal("1e-6")
