"""Which rows of a sheet are data: not empty, not a 合计/总计/小计 row, not a notes row, not a repeated header."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tasks.contracts import Issue
from tasks.normalize.columns import BoolArray, Column, blank, map_unique
from tasks.normalize.headers import classify
from tasks.normalize.resolve import is_total_label
from tasks.normalize.rowissues import skipped
from tasks.read import RawSheet

NOTE_PREFIXES = ("备注", "注", "说明", "填报人", "审核人", "填报日期", "填表人", "填表日期", "负责人", "联系电话",
                 "制表", "note", "Note")


def _first_text(row: Sequence[str | None]) -> str:
    return next((c.strip() for c in row if c is not None and c.strip()), "")


def _width(row: Sequence[str | None]) -> int:
    return sum(1 for c in row if c is not None and c.strip())


def data_rows(sheet: RawSheet, start: int, numbers: np.ndarray, target: Column, county: Column | None,
              values: list[Column], used: list[Column], issues: list[Issue]) -> BoolArray:
    """The mask of the rows from `start` on to read; the skipped ones are announced as info Issues."""
    n = len(numbers)
    role_blank = np.logical_and.reduce([blank(c) for c in used])
    value_blank = np.logical_and.reduce([blank(v) for v in values])
    total = map_unique(target, is_total_label)[0].astype(bool)
    if county is not None:
        total |= map_unique(county, is_total_label)[0].astype(bool)
    total &= ~role_blank
    header_like = np.zeros(n, dtype=bool)
    if values:
        target_is_header = map_unique(target, lambda t: (classify(t) or ("",))[0] == "target")[0].astype(bool)
        if target_is_header.any():
            value_is_header = map_unique(values[0], lambda v: (classify(v) or ("",))[0] == "value")[0]
            header_like = target_is_header & value_is_header.astype(bool)
    notes = np.zeros(n, dtype=bool)
    in_notes = False
    candidates = np.flatnonzero(value_blank)  # a note never carries a value; this keeps the Python loop short
    for i, row in zip(candidates.tolist(), sheet.rows_at(candidates + start), strict=True):
        first = _first_text(row)
        if first and (first.startswith(NOTE_PREFIXES) or (in_notes and _width(row) <= 1)):
            notes[i] = True
            in_notes = True
    other = np.zeros(n, dtype=bool)
    candidates = np.flatnonzero(role_blank & ~notes)
    for i, row in zip(candidates.tolist(), sheet.rows_at(candidates + start), strict=True):
        other[i] = _width(row) > 0
    for mask, code, zh, en in (
        (total, "total_row", "合计/小计行", "total rows (合计/小计)"),
        (notes, "notes_row", "表尾的备注/填报人等说明行", "notes rows (备注/填报人 …)"),
        (header_like, "repeated_header", "重复的表头行", "repeated header rows"),
        (other, "no_data_row", "没有指标和数值的行", "rows without a target or value"),
    ):
        if mask.any():
            issues.append(skipped(sheet.name, code, numbers[mask], zh, en))
    return ~(role_blank | total | notes | header_like)
