"""Read station air-quality drops (CSV or Parquet, one file or a folder of them) into one canonical frame.

The canonical frame (`AqFeed.frame`) has one row per station and hour (or day, for daily feeds), in file order:

- `station` (category): the station id as written in the feed;
- `time` (timestamp in the source's resolution, s/ms/us/ns): Beijing wall-clock time (Asia/Shanghai). Naive
  times are taken as Beijing time; times with an offset are converted. An hourly reading's time is the *start*
  of the hour it averages (00:00 = 00:00-01:00); feeds that label hours by their end (CNEMC's 01:00 … 24:00)
  are read with `hour_label="end"`;
- hourly feeds: `pm25 pm10 so2 no2 co o3` hourly concentrations; daily feeds: `pm25 pm10 so2 no2 co` 24-hour
  means, `o3_8h` daily maximum 8-hour mean and optionally `o3_1h` daily maximum 1-hour value. µg/m³, except CO
  in mg/m³ whatever the feed declared; float32 or float64 as the source stores them, missing where the feed
  has `NA`, empty cells or gaps;
- `aqi`, only when the feed has a published AQI column.

`time` and the value columns are Arrow-backed (pandas ArrowDtype, the reader's buffers without a copy):
`frame[c].to_numpy()` gives numpy with NaN/NaT for missing; `tasks.aq.frame` reads them piece by piece.

The index is the row's position in the drop; `AqFeed.locate` turns it into file and row for messages.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tasks.aq.columns import map_columns
from tasks.aq.grid import Grid, make_grid
from tasks.aq.parsing import (
    HOUR_NS,
    NULL_TOKENS,
    FeedError,
    Granularity,
    HourLabel,
    co_unit_of,
    critical,
    parse_times,
    value_column,
)
from tasks.aq.registry import CoUnit, StationRegistry
from tasks.contracts import Issue

HOURLY_FIELDS: tuple[str, ...] = ("pm25", "pm10", "so2", "no2", "co", "o3")
DAILY_FIELDS: tuple[str, ...] = ("pm25", "pm10", "so2", "no2", "co", "o3_8h")
FEED_SUFFIXES = (".csv", ".parquet", ".pq")


@dataclass(frozen=True)
class Segment:
    """Rows `start`…`stop-1` of the feed came from file `name`; the first of them is row `first_row` there."""

    name: str
    start: int
    stop: int
    first_row: int


@dataclass
class AqFeed:
    """A station feed in canonical form (see the module docstring for the columns)."""

    frame: pd.DataFrame
    granularity: Granularity
    co_unit: CoUnit  # the unit the source declared; frame["co"] is always mg/m³
    segments: list[Segment] = field(default_factory=list)
    cached_grid: Grid | None = field(default=None, repr=False)

    def grid(self) -> Grid:
        """The reading positions of `Grid`, computed on first use."""
        if self.cached_grid is None:
            step = HOUR_NS if self.granularity == "hourly" else 24 * HOUR_NS
            self.cached_grid = make_grid(self.frame, step)
        return self.cached_grid

    def locate(self, position: int) -> tuple[str | None, int | None]:
        """(file name, row number as a text editor shows it) of a frame index value."""
        for seg in self.segments:
            if seg.start <= position < seg.stop:
                return seg.name, seg.first_row + position - seg.start
        return None, None


def feed_files(source: Path) -> list[Path]:
    """The readable data files of a drop: the file itself, or the folder's CSV/Parquet files (no hidden/lock)."""
    if source.is_file():
        return [source]
    return sorted(p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in FEED_SUFFIXES
                  and not p.name.startswith((".", "~$", ".~lock")))


@dataclass
class _Part:
    """One file's readings: station codes into `stations`, Beijing times and float values as Arrow columns."""

    name: str
    first_row: int
    kind: Granularity
    co_unit: CoUnit
    codes: np.ndarray
    stations: list[str]
    times: pa.ChunkedArray
    values: dict[str, pa.ChunkedArray]


def read_feed(source: Path | str, *, co_unit: CoUnit | None = None, registry: StationRegistry | None = None,
              hour_label: HourLabel = "start", granularity: Granularity | None = None) -> AqFeed:
    """Read a drop into an `AqFeed`; raise FeedError (critical issues, file/row/column named) if impossible.

    The CO unit comes from the header (`CO(mg/m3)`), else `co_unit`, else the registry's `co_unit`; a feed
    that declares none is refused rather than guessed. `granularity` None detects it: an `hour` column or any
    time off midnight means hourly, dates only mean daily.
    """
    path = Path(source)
    files = feed_files(path) if path.exists() else []
    if not files:
        raise FeedError([critical("no_feed_files", f"{path} 中没有 CSV/Parquet 数据文件",
                                  f"no CSV/Parquet files found at {path}", sheet=str(path))])
    fallback = co_unit or (registry.co_unit if registry else None)
    parts: list[_Part] = []
    issues: list[Issue] = []
    for file in files:
        name = file.name if path.is_file() else str(file.relative_to(path))
        try:
            parts.append(_read_one(file, name, fallback, co_unit, hour_label, granularity))
        except FeedError as exc:
            issues.extend(exc.issues)
        except (pa.ArrowException, OSError) as exc:  # a truncated or corrupt Parquet file
            issues.append(critical("unreadable", f"文件无法读取：{exc}", f"cannot read the file: {exc}",
                                   sheet=name))
    if issues:
        raise FeedError(issues)
    if len({p.kind for p in parts}) > 1:
        raise FeedError([critical("mixed_granularity", "同一批数据中既有小时值又有日均值，请分开报送",
                                  "the drop mixes hourly and daily files; send them separately")])
    segments, start = [], 0
    for part in parts:
        segments.append(Segment(part.name, start, start + len(part.times), part.first_row))
        start += len(part.times)
    units = {p.co_unit for p in parts}
    return AqFeed(_to_frame(parts), parts[0].kind, units.pop() if len(units) == 1 else "mg/m3", segments)


def _read_one(file: Path, name: str, fallback: CoUnit | None, explicit: CoUnit | None, hour_label: HourLabel,
              granularity: Granularity | None) -> _Part:
    is_csv = file.suffix.lower() == ".csv"
    headers, encoding = _csv_headers(file, name) if is_csv else (pq.read_schema(file).names, "")
    mapping, units, clashes = map_columns(headers)
    issues = [critical("ambiguous_column", f"列 {', '.join(hs)} 都可理解为 {f}，请只保留一列",
                       f"columns {', '.join(hs)} all mean {f}; keep one", sheet=name, column=hs[0])
              for f, hs in clashes]
    if "station" not in mapping:
        issues.append(critical("missing_column", "缺少站点列（station / 站点编码）",
                               "no station column (station / station_id / 站点编码)", sheet=name))
    if "time" not in mapping and not {"year", "month", "day"} <= mapping.keys():
        issues.append(critical("missing_column", "缺少时间列（time / datetime，或 year/month/day/hour）",
                               "no time column (time / datetime, or year, month, day[, hour])", sheet=name))
    if issues:
        raise FeedError(issues)
    wanted = list(dict.fromkeys(mapping.values()))
    raw = _read_csv(file, name, wanted, encoding) if is_csv else pq.read_table(file, columns=wanted)
    first_row = 2 if is_csv else 1
    times, kind = parse_times(raw, mapping, name, first_row, hour_label, granularity)
    fields = HOURLY_FIELDS if kind == "hourly" else DAILY_FIELDS
    if kind == "daily" and "o3" in mapping and "o3_8h" not in mapping:
        raise FeedError([critical(
            "ambiguous_o3", f"日数据的臭氧列 {mapping['o3']} 未说明统计方式："
            "请命名为 O3_8h（日最大8小时）或 O3_1h",
            f"daily feed: O3 column {mapping['o3']!r} does not say which statistic it is; name it O3_8h "
            "(daily max 8-hour mean) or O3_1h (daily max 1-hour)", sheet=name, column=mapping["o3"])])
    missing = [f for f in fields if f not in mapping]
    if missing:
        raise FeedError([critical("missing_column", f"缺少污染物列：{', '.join(missing)}",
                                  f"missing pollutant columns: {', '.join(missing)}", sheet=name)])
    co, unit_issues = co_unit_of(units, mapping, name, fallback, explicit)
    if unit_issues:
        raise FeedError(unit_issues)
    codes, stations = _stations(raw.column(mapping["station"]), name, mapping["station"], first_row)
    values = {}
    extra = ("o3_1h", "aqi") if kind == "daily" else ("aqi",)
    for f in (*fields, *[e for e in extra if e in mapping]):
        v = value_column(raw.column(mapping[f]), name, mapping[f], first_row)
        values[f] = pc.divide(v, pa.scalar(1000, v.type)) if f == "co" and co == "ug/m3" else v
    return _Part(name, first_row, kind, co, codes, stations, times, values)


def _stations(col: pa.ChunkedArray, name: str, header: str, first_row: int) -> tuple[np.ndarray, list[str]]:
    # Work on each chunk's dictionary of distinct ids, never on millions of strings: a chunk's codes are one
    # gather through a small lookup table from its dictionary to the drop's station list.
    encoded = col if pa.types.is_dictionary(col.type) else pc.dictionary_encode(col)
    stations: dict[str, int] = {}
    lookups: list[np.ndarray] = []
    previous: pa.Array | None = None
    for chunk in encoded.chunks:
        if previous is not None and chunk.dictionary.equals(previous):
            lookups.append(lookups[-1])  # Parquet row groups usually repeat the same dictionary
            continue
        previous = chunk.dictionary
        ids = pc.utf8_trim_whitespace(pc.cast(chunk.dictionary, pa.string())).to_pylist()
        found = [-1 if not sid else stations.setdefault(sid, len(stations)) for sid in ids]
        lookups.append(np.array([*found, -1], dtype=np.int32))  # the last slot is for null ids
    narrow = len(stations) < 32_000  # codes as narrow as pandas keeps category codes: no conversion later
    codes: np.ndarray = np.empty(len(encoded), dtype=np.int16 if narrow else np.int32)
    start = 0
    for chunk, lookup in zip(encoded.chunks, lookups, strict=True):
        indices = chunk.indices.fill_null(len(lookup) - 1) if chunk.null_count else chunk.indices
        target = codes[start:start + len(chunk)]
        if not chunk.null_count and _identity(lookup):
            target[:] = indices.to_numpy()  # the dictionary is the station list itself: a narrowing copy
        else:
            target[:] = lookup.astype(codes.dtype)[indices.to_numpy()]  # faster than np.take
        start += len(chunk)
    if len(codes) and codes.min() < 0:
        raise FeedError([critical("missing_station", "站点为空", "the station is empty", sheet=name,
                                  row=first_row + int(np.argmax(codes < 0)), column=header)])
    return codes, list(stations)


def _identity(lookup: np.ndarray) -> bool:
    """Whether a chunk's dictionary lookup maps every index to itself (its last slot is for nulls)."""
    return bool(np.array_equal(lookup[:-1], np.arange(len(lookup) - 1)))


def _csv_headers(file: Path, name: str) -> tuple[list[str], str]:
    """The header row and the file's encoding: UTF-8 (with or without BOM), else GB18030 (a superset of GBK)."""
    with file.open("rb") as fh:
        head = fh.readline()
    for encoding, arrow_name in (("utf-8-sig", "utf8"), ("gb18030", "gb18030")):
        try:
            return next(csv.reader([head.decode(encoding)]), []), arrow_name
        except UnicodeDecodeError:
            continue
    raise FeedError([critical("bad_encoding", "无法识别文件编码（应为 UTF-8 或 GBK/GB18030）",
                              "cannot decode the file (expected UTF-8 or GBK/GB18030)", sheet=name)])


def _read_csv(file: Path, name: str, columns: list[str], encoding: str) -> pa.Table:
    try:
        return pacsv.read_csv(file, read_options=pacsv.ReadOptions(encoding=encoding),
                              convert_options=pacsv.ConvertOptions(include_columns=columns,
                                                                   null_values=NULL_TOKENS,
                                                                   strings_can_be_null=True))
    except (pa.ArrowException, UnicodeDecodeError) as exc:
        raise FeedError([critical("unreadable", f"CSV 无法读取：{exc}", f"cannot read the CSV: {exc}",
                                  sheet=name)]) from exc


def _to_frame(parts: list[_Part]) -> pd.DataFrame:
    stations = list(dict.fromkeys(s for p in parts for s in p.stations))
    index = pd.Index(stations)
    codes = np.concatenate([index.get_indexer(p.stations).astype(np.int32)[p.codes] for p in parts]) \
        if len(parts) > 1 else parts[0].codes
    codes = codes.astype(np.int16, copy=False) if len(stations) < 32_000 else codes
    data: dict[str, object] = {
        "station": pd.Categorical.from_codes(codes, categories=stations),
        "time": _arrow([p.times for p in parts]),
    }
    order = ["pm25", "pm10", "so2", "no2", "co", "o3", "o3_8h", "o3_1h", "aqi"]
    for f in [f for f in order if any(f in p.values for p in parts)]:
        data[f] = _arrow([p.values[f] if f in p.values else pa.chunked_array([pa.nulls(len(p.codes), pa.float64())])
                          for p in parts])
    # copy=False keeps one block per column: consolidating 15 million rows would copy them all again.
    return pd.DataFrame(data, copy=False)


def _arrow(columns: list[pa.ChunkedArray]) -> pd.arrays.ArrowExtensionArray:
    # The files' chunks side by side (no copy); types are unified only when the files disagree.
    types = {c.type for c in columns}
    if len(types) > 1:
        target = pa.timestamp("ns") if all(pa.types.is_timestamp(t) for t in types) else pa.float64()
        columns = [pc.cast(c, target) for c in columns]
    return pd.arrays.ArrowExtensionArray(pa.chunked_array([ch for c in columns for ch in c.chunks],
                                                          type=columns[0].type))
