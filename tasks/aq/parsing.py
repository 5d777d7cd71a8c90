"""Parsing the parts of a feed file that can be wrong in a hundred ways: times and numbers.

Every failure raises FeedError with critical issues that name file, row, column and how to fix it (Chinese and
English); nothing is coerced silently.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tasks.aq.columns import parse_time_strings, utc_to_beijing
from tasks.aq.registry import CoUnit
from tasks.contracts import Issue, Severity

Granularity = Literal["hourly", "daily"]
HourLabel = Literal["start", "end"]

NULL_TOKENS = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "-", "—", "--"]
HOUR_NS = 3_600_000_000_000


class FeedError(ValueError):
    """A drop cannot be read at all; carries the issues that say why."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(i.message_en for i in issues))
        self.issues = issues


def parse_times(raw: pa.Table, mapping: dict[str, str], name: str, first_row: int, hour_label: HourLabel,
                granularity: Granularity | None) -> tuple[pa.ChunkedArray, Granularity]:
    """Beijing wall-clock times of a file's rows as a naive Arrow timestamp column, and whether the file is
    hourly or daily. A naive timestamp column in the source is passed through untouched (its own resolution,
    no copy: 15 million timestamps are 120 MB)."""
    if "time" in mapping:
        column = raw.column(mapping["time"])
        if pa.types.is_timestamp(column.type) and column.type.tz is None and not column.null_count:
            head = column.slice(0, 1000).to_numpy()
            kind: Granularity = granularity or ("hourly" if not _all_midnight(head) or not _all_midnight(
                column.to_numpy()) else "daily")
            if kind == "daily" or hour_label == "start":
                return column, kind
        times, date_only = _time_column(column, name, mapping["time"], first_row)
        hour = None
    else:
        times, date_only = _ymd_columns(raw, mapping, name, first_row), True
        hour = (parse_numbers(raw.column(mapping["hour"]), name, mapping["hour"], first_row)
                if "hour" in mapping else None)
    kind = granularity or ("hourly" if hour is not None or not (date_only or _all_midnight(times)) else "daily")
    if hour is not None:
        bad = np.isnan(hour) | (hour < 0) | (hour > 24) | (hour != np.floor(hour))
        if hour_label == "start":
            bad |= hour == 24
        if bad.any():
            i = int(np.argmax(bad))
            hint = "（按整点结束时刻标注的数据请声明 hour_label=end）" if hour[i] == 24 else ""
            raise FeedError([critical("bad_time", f"小时值 {hour[i]} 无效，应为 0–23{hint}",
                                      f"hour {hour[i]} is not an hour 0-23 (for feeds labelling hours by their "
                                      "end, 1-24, declare hour_label=end)", sheet=name, row=first_row + i,
                                      column=mapping["hour"], value=str(hour[i]))])
        times = times + hour.astype(np.int64).astype("timedelta64[h]")
    if kind == "hourly" and hour_label == "end":
        times = times - np.timedelta64(1, "h")
    return pa.chunked_array([pa.array(times)]), kind


def _all_midnight(times: np.ndarray) -> bool:
    return bool(np.all(times == times.astype("datetime64[D]")))


def _time_column(col: pa.ChunkedArray, name: str, header: str, first_row: int) -> tuple[np.ndarray, bool]:
    if col.null_count and (pa.types.is_date(col.type) or pa.types.is_timestamp(col.type)):
        i = int(np.argmax(pc.is_null(col).to_numpy(zero_copy_only=False)))
        raise FeedError([critical("bad_time", "时间为空", "time is empty", sheet=name, row=first_row + i,
                                  column=header)])
    if pa.types.is_date(col.type):
        return np.asarray(pc.cast(col, pa.date32()).to_numpy(), dtype="datetime64[s]"), True
    if pa.types.is_timestamp(col.type):
        times = col.to_numpy()
        return (utc_to_beijing(times) if col.type.tz is not None else times), False
    encoded = pc.dictionary_encode(pc.cast(col, pa.string())).combine_chunks()
    uniques = pd.Series(encoded.dictionary.to_pylist(), dtype="object")
    parsed, _ = parse_time_strings(uniques)
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    values = np.asarray(parsed.to_numpy("datetime64[ns]"))
    null = np.isnan(indices) if indices.dtype.kind == "f" else np.zeros(len(indices), bool)
    idx = np.where(null, 0, indices).astype(np.int64)
    times = values[idx] if len(values) else np.zeros(len(idx), "datetime64[ns]")
    bad = null | np.isnat(times)
    if bad.any():
        i = int(np.argmax(bad))
        text = None if null[i] else str(uniques.iloc[idx[i]])
        raise FeedError([critical("bad_time", f"时间 {text!r} 无法识别（应为 2021-03-01 08:00 这类年-月-日格式）",
                                  f"time {text!r} is not a year-first date-time such as 2021-03-01 08:00",
                                  sheet=name, row=first_row + i, column=header, value=text)])
    return times, False


def _ymd_columns(raw: pa.Table, mapping: dict[str, str], name: str, first_row: int) -> np.ndarray:
    parts = {k: parse_numbers(raw.column(mapping[k]), name, mapping[k], first_row) for k in ("year", "month", "day")}
    key = np.where(np.isnan(parts["year"]) | np.isnan(parts["month"]) | np.isnan(parts["day"]), -1,
                   np.nan_to_num(parts["year"]) * 10000 + np.nan_to_num(parts["month"]) * 100
                   + np.nan_to_num(parts["day"])).astype(np.int64)
    codes, uniques = pd.factorize(key)
    dates = pd.to_datetime(pd.Series(uniques).astype(str), format="%Y%m%d", errors="coerce")
    times = np.asarray(dates.to_numpy("datetime64[s]"))[codes]
    bad = np.isnat(times)
    if bad.any():
        i = int(np.argmax(bad))
        value = "-".join(str(parts[k][i]) for k in ("year", "month", "day"))
        raise FeedError([critical("bad_time", f"日期 {value} 无效", f"date {value} is not a calendar date",
                                   sheet=name, row=first_row + i, column=mapping["day"], value=value)])
    return times


def value_column(col: pa.ChunkedArray, name: str, header: str, first_row: int) -> pa.ChunkedArray:
    """A pollutant column as Arrow floats: float32/float64 passed through untouched (no copy), integers and
    decimals cast to float64, text parsed (see `parse_numbers`)."""
    if pa.types.is_floating(col.type):
        return col
    if pa.types.is_integer(col.type) or pa.types.is_null(col.type) or pa.types.is_decimal(col.type):
        return pc.cast(col, pa.float64())
    return pa.chunked_array([pa.array(parse_numbers(col, name, header, first_row), type=pa.float64())])


def parse_numbers(col: pa.ChunkedArray, name: str, header: str, first_row: int) -> np.ndarray:
    """A column as floats with NaN for missing; text that is not a number is an error, not a gap.

    float32 columns stay float32 (what the source holds, half the memory); everything else becomes float64.
    """
    if pa.types.is_float32(col.type):
        return np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float32)
    if pa.types.is_floating(col.type):
        return np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)
    if pa.types.is_integer(col.type) or pa.types.is_null(col.type) or pa.types.is_decimal(col.type):
        return np.asarray(pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    text = pd.Series(pc.cast(col, pa.string()).to_numpy(zero_copy_only=False), dtype="object")
    values = pd.to_numeric(text.str.strip(), errors="coerce").to_numpy(np.float64)
    bad = np.isnan(values) & text.notna().to_numpy() & ~text.str.strip().isin(NULL_TOKENS).to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise FeedError([critical("bad_number", f"{header} 列的值 {text.iloc[i]!r} 不是数字",
                                   f"{header}: {text.iloc[i]!r} is not a number", sheet=name, row=first_row + i,
                                   column=header, value=str(text.iloc[i]))])
    return values


def co_unit_of(units: dict[str, str | None], mapping: dict[str, str], name: str, fallback: CoUnit | None,
             explicit: CoUnit | None) -> tuple[CoUnit, list[Issue]]:
    """The CO unit a file declares (header, else `explicit`/`fallback`), with critical issues when it cannot."""
    issues = [critical("unsupported_unit", f"{mapping[f]} 的单位 {u} 不支持（应为 µg/m³）",
                        f"{mapping[f]}: unit {u} is not supported (expected µg/m³)", sheet=name, column=mapping[f])
              for f, u in units.items() if f != "co" and u is not None and u != "ug/m3"]
    header = units.get("co")
    if header is not None and header not in ("mg/m3", "ug/m3"):
        issues.append(critical("unsupported_unit", f"CO 单位 {header} 不支持（应为 mg/m³ 或 µg/m³）",
                                f"CO unit {header} is not supported (mg/m3 or ug/m3)", sheet=name,
                                column=mapping["co"]))
        return "mg/m3", issues
    if header is not None and explicit is not None and header != explicit:
        issues.append(critical("co_unit_conflict", f"表头声明 CO 单位为 {header}，但参数为 {explicit}",
                                f"the header declares CO in {header} but {explicit} was given", sheet=name,
                                column=mapping["co"]))
    unit: CoUnit | None = "mg/m3" if header == "mg/m3" else "ug/m3" if header == "ug/m3" else fallback
    if unit is None:
        issues.append(critical(
            "co_unit_undeclared", "未声明 CO 单位：请在表头写 CO(mg/m3) 或 CO(ug/m3)，"
            "或在站点名录中设置 co_unit",
            "the CO unit is not declared: write CO(mg/m3) or CO(ug/m3) in the header, pass co_unit, or set "
            "co_unit in the station registry", sheet=name, column=mapping["co"]))
        return "mg/m3", issues
    return unit, issues


def critical(code: str, zh: str, en: str, **where: object) -> Issue:
    return Issue(Severity.CRITICAL, code, zh, en, **where)  # type: ignore[arg-type]
