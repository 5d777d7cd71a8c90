"""Deterministic, realistic indicator drops for the benchmark: CSV, XLSX and Parquet, clean or with bad rows.

A drop is laid out like the department template (tasks/template.py): a title row, then the header
指标编码 指标名称 县市 月份 数值 单位 备注, one row per target × county × month (month-major, as a department
exports a year), values in the plan's written unit, about half of them with the unit inside the value
(`1.39万人`, `97.2%`), the rest as plain numbers with the 单位 column saying the unit. Cumulative targets grow
month by month (a year-to-date total never decreases), level targets scatter around their target (some miss it:
warnings, not errors), milestones read 未完成 until their month and 完成 after.

A bad drop has `bad_share` of its rows broken in five equal ways a department really breaks them: a negative
value (out of bounds), a county that does not exist, text instead of a number, a missing value, and a row that
repeats the previous row's key. Same arguments → the same bytes.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bench.catalog import MONTHS, PREFECTURE_LABEL, series_counties
from expectations.models import Catalog, Kind

HEADERS = ("指标编码", "指标名称", "县市", "月份", "数值", "单位", "备注")
TITLE = "楚雄州民生实事指标完成情况（基准测试数据，非真实数据）"
BAD_KINDS = ("out_of_bounds", "unknown_county", "bad_value", "missing_value", "duplicate_key")
FORMATS = ("csv", "xlsx", "parquet")
WHOLE_UNITS = frozenset({"person", "person_time", "household", "item"})  # counted in whole numbers


@dataclass(frozen=True)
class DropFile:
    """One generated drop: where it is, its format, its data rows and how many of them were broken."""

    path: Path
    fmt: str
    rows: int
    bad_rows: int


def _series(catalog: Catalog) -> dict[str, np.ndarray]:
    """One entry per target × county: target index and county name, in drop order."""
    names = {c.code: (PREFECTURE_LABEL if c.code == catalog.prefecture_code else c.name_zh)
             for c in catalog.counties}
    target_index: list[int] = []
    county: list[str] = []
    for i, target in enumerate(catalog.targets):
        codes = series_counties(catalog, target)
        target_index += [i] * len(codes)
        county += [names[c] for c in codes]
    return {"target": np.asarray(target_index, dtype=np.int32), "county": np.asarray(county, dtype=object),
            "prefecture": np.asarray([c == PREFECTURE_LABEL for c in county])}


def _per_target(catalog: Catalog) -> dict[str, np.ndarray]:
    """Written-unit scale, decimals, reference value and bounds per target, in written units."""
    factor, decimals, ref, low, high, kind = [], [], [], [], [], []
    for t in catalog.targets:
        unit = catalog.unit(t.unit_written)
        f = float(unit.factor) if unit is not None else 1.0
        value = t.value if t.value is not None else (t.bounds.max / 10 if t.bounds.max else Decimal(100))
        factor.append(f)
        decimals.append(2 if f >= 100 else 0 if t.unit in WHOLE_UNITS else 1)
        ref.append(float(value) / f)
        low.append(float(t.bounds.min) / f if t.bounds.min is not None else -np.inf)
        high.append(float(t.bounds.max) / f if t.bounds.max is not None else np.inf)
        kind.append(t.kind.value)
    return {"factor": np.asarray(factor), "decimals": np.asarray(decimals), "ref": np.asarray(ref),
            "low": np.asarray(low), "high": np.asarray(high), "kind": np.asarray(kind, dtype=object)}


def _number_text(scaled: np.ndarray, decimals: np.ndarray) -> pa.Array:
    """Exact decimal text of scaled / 10**decimals without trailing zeros (1390 with 2 → "13.9")."""
    hundredths = scaled * 10 ** (2 - decimals)
    whole = pa.array(hundredths // 100).cast(pa.string())
    frac = pc.utf8_lpad(pa.array(hundredths % 100).cast(pa.string()), width=2, padding="0")
    frac = pc.utf8_rtrim(frac, characters="0")
    return pc.if_else(pc.equal(frac, ""), whole, pc.binary_join_element_wise(whole, frac, "."))


def drop_table(catalog: Catalog, rows: int, *, bad_share: float = 0.0, seed: int = 2021) -> tuple[pa.Table, int]:
    """The drop's data rows as a table of strings (HEADERS) and the number of rows deliberately broken.

    At most a full year of every target and county: a larger `rows` gives that year.
    """
    rng = np.random.default_rng(seed)
    series = _series(catalog)
    per = _per_target(catalog)
    n_series = len(series["target"])
    rows = min(rows, n_series * MONTHS)
    months_needed = min(MONTHS, -(-rows // n_series))
    s = np.tile(np.arange(n_series), months_needed)[:rows]
    month = np.repeat(np.arange(1, months_needed + 1), n_series)[:rows]
    t = series["target"][s]
    kind, dec = per["kind"][t], per["decimals"][t]
    share = np.where(series["prefecture"], rng.uniform(0.8, 1.2, n_series), rng.uniform(0.05, 0.15, n_series))
    full_year = per["ref"][series["target"]] * share  # written units; a county is about a tenth of the whole
    level_noise = rng.uniform(0.9, 1.06, rows)
    written = np.where(kind == Kind.CUMULATIVE.value, full_year[s] * month / MONTHS, full_year[s] * level_noise)
    written = np.clip(written, per["low"][t], per["high"][t])
    scaled = np.floor(written * 10.0 ** dec).astype(np.int64)
    text = _number_text(scaled, dec)
    units = np.asarray([t_.unit_written for t_ in catalog.targets], dtype=object)[t]
    with_unit = rng.random(rows) < 0.5
    text = pc.if_else(pa.array(with_unit), pc.binary_join_element_wise(text, pa.array(units, pa.string()), ""),
                      text)
    milestone = kind == Kind.MILESTONE.value
    done_from = rng.integers(3, 13, n_series)[s]
    words = np.where(month >= done_from, "完成", "未完成")
    value = np.where(milestone, words, np.asarray(text.to_pylist(), dtype=object))
    unit_column = np.where(milestone, "项", units)
    note = np.full(rows, "", dtype=object)
    note[rng.random(rows) < 0.01] = "含上月补报"
    columns = {
        "指标编码": np.asarray([x.id for x in catalog.targets], dtype=object)[t],
        "指标名称": np.asarray([x.name_zh for x in catalog.targets], dtype=object)[t],
        "县市": series["county"][s].copy(),
        "月份": np.asarray([f"{catalog.year}-{m:02d}" for m in range(1, MONTHS + 1)], dtype=object)[month - 1],
        "数值": value, "单位": unit_column, "备注": note,
    }
    bad = _break_rows(columns, rng, bad_share, per["low"][t] >= 0)
    return pa.table({h: pa.array(columns[h], pa.string()) for h in HEADERS}), bad


def _break_rows(columns: dict[str, np.ndarray], rng: np.random.Generator, bad_share: float,
                nonnegative: np.ndarray) -> int:
    """Break `bad_share` of the rows in place, in the five ways of BAD_KINDS; returns how many."""
    rows = len(columns["数值"])
    count = int(rows * bad_share)
    if count == 0:
        return 0
    picked = rng.choice(np.arange(1, rows), size=count, replace=False)
    for kind, where in zip(BAD_KINDS, np.array_split(picked, len(BAD_KINDS)), strict=True):
        if kind == "out_of_bounds":
            columns["数值"][where[nonnegative[where]]] = "-12"
            columns["数值"][where[~nonnegative[where]]] = "待核实"
        elif kind == "unknown_county":
            columns["县市"][where] = "不存在县"
        elif kind == "bad_value":
            columns["数值"][where] = "待核实"
        elif kind == "missing_value":
            columns["数值"][where] = "-"
        else:
            for name in ("指标编码", "指标名称", "县市", "月份"):
                columns[name][where] = columns[name][where - 1]
    return count


def write_drop(path: Path, catalog: Catalog, rows: int, *, bad_share: float = 0.0, seed: int = 2021) -> DropFile:
    """Write a drop in the format its suffix names (.csv UTF-8, .xlsx, .parquet)."""
    table, bad = drop_table(catalog, rows, bad_share=bad_share, seed=seed)
    write_table(path, table)
    return DropFile(path=path, fmt=path.suffix.lstrip(".").lower(), rows=table.num_rows, bad_rows=bad)


def write_table(path: Path, table: pa.Table) -> None:
    """Write drop rows as .csv (UTF-8, title row above the header), .xlsx (same layout) or .parquet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = path.suffix.lstrip(".").lower()
    if fmt == "csv":
        _write_csv(path, table)
    elif fmt == "xlsx":
        _write_xlsx(path, table)
    elif fmt == "parquet":
        pq.write_table(table, path, compression="zstd")
    else:
        raise ValueError(f"unknown drop format {fmt!r}: use one of {', '.join(FORMATS)}")


def _write_csv(path: Path, table: pa.Table) -> None:
    # Python's csv module quotes exactly where needed; the title row sits above the header as in real exports.
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([TITLE])
        writer.writerow(HEADERS)
        for batch in table.to_batches(max_chunksize=200_000):
            writer.writerows(zip(*(c.to_pylist() for c in batch.columns), strict=True))


def _write_xlsx(path: Path, table: pa.Table) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("填报")
    sheet.append([TITLE])
    sheet.append(list(HEADERS))
    for row in zip(*(c.to_pylist() for c in table.columns), strict=True):
        sheet.append([v or None for v in row])
    book.save(path)
