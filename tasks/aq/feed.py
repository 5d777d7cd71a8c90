"""Read station air-quality drops (CSV or Parquet, one file or a folder of them) into one canonical frame.

The canonical frame (`AqFeed.frame`) has one row per station and hour (or day, for daily feeds), in file order:

- `station` (category): the station id as written in the feed;
- `time` (datetime64 in the source's resolution, s/ms/us/ns): Beijing wall-clock time (Asia/Shanghai). Naive
  times are taken as Beijing time; times with an offset are converted. An hourly reading's time is the *start*
  of the hour it averages (00:00 = 00:00-01:00); feeds that label hours by their end (CNEMC's 01:00 … 24:00)
  are read with `hour_label="end"`;
- hourly feeds: `pm25 pm10 so2 no2 co o3` hourly concentrations; daily feeds: `pm25 pm10 so2 no2 co` 24-hour
  means, `o3_8h` daily maximum 8-hour mean and optionally `o3_1h` daily maximum 1-hour value. µg/m³, except CO
  in mg/m³ whatever the feed declared; float64 (float32 when the source stores float32), NaN where
  missing (`NA`, empty, gaps);
- `aqi` (float64), only when the feed has a published AQI column.

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
from tasks.aq.parsing import (
    HOUR_NS,
    NULL_TOKENS,
    FeedError,
    Granularity,
    HourLabel,
    co_unit_of,
    critical,
    parse_numbers,
    parse_times,
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


@dataclass(frozen=True)
class Grid:
    """Where each reading sits in a dense station × time array (computed once, shared by checks and derivation).

    `position` = station code × `n_slots` + slot of its time, a slot being an hour (hourly feeds) or a day,
    counted from 00:00 of the feed's first day (`first`, in slots since the epoch).
    """

    first: int
    n_slots: int
    step: int  # nanoseconds per slot
    position: np.ndarray
    off_grid: bool = False  # some time is not on a slot boundary (not on the hour / not at midnight)
    increasing: bool = False  # positions strictly increase: rows sorted by station and time, no repeats
    stations: int = 0  # number of station codes (the grid's first dimension)

    @property
    def complete(self) -> bool:
        """Rows are exactly the dense grid in order (every station-slot once, gaps as NaN rows, like the
        Beijing files): a column is then the station × slot array itself, no scatter needed."""
        return self.increasing and len(self.position) == self.stations * self.n_slots > 0


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
            self.cached_grid = _make_grid(self.frame, step)
        return self.cached_grid

    def locate(self, position: int) -> tuple[str | None, int | None]:
        """(file name, row number as a text editor shows it) of a frame index value."""
        for seg in self.segments:
            if seg.start <= position < seg.stop:
                return seg.name, seg.first_row + position - seg.start
        return None, None


def _make_grid(frame: pd.DataFrame, step: int) -> Grid:
    # Few and narrow buffers for 15 million rows: fresh allocations cost page faults, not just copies.
    ticks, per_tick = time_ticks(frame)
    ticks_per_slot = step // per_tick
    slot = np.empty(len(ticks), dtype=np.int64)
    np.remainder(ticks, ticks_per_slot, out=slot)
    off_grid = bool(slot.any())
    np.floor_divide(ticks, ticks_per_slot, out=slot)
    per_day = 24 * HOUR_NS // step
    first = (int(slot.min()) // per_day) * per_day if len(slot) else 0
    n_slots = ((int(slot.max()) - first) // per_day + 1) * per_day if len(slot) else 0
    slot -= first
    stations = len(frame["station"].cat.categories)
    narrow = stations * n_slots < 2**31
    position = frame["station"].cat.codes.to_numpy().astype(np.int32 if narrow else np.int64)
    position *= n_slots
    np.add(position, slot, out=position, casting="unsafe")  # fits: every position is below stations × n_slots
    increasing = bool(np.all(position[1:] > position[:-1]))
    return Grid(first, n_slots, step, position, off_grid, increasing, stations)


def time_ticks(frame: pd.DataFrame) -> tuple[np.ndarray, int]:
    """The frame's `time` column as int64 ticks of its own resolution, and nanoseconds per tick (no copy)."""
    times = frame["time"].to_numpy()
    unit, count = np.datetime_data(times.dtype)
    per_tick = {"D": 86_400 * 10**9, "h": HOUR_NS, "m": 60 * 10**9, "s": 10**9, "ms": 10**6, "us": 10**3,
                "ns": 1}[unit]
    return times.view(np.int64), per_tick * count


def time_ns(frame: pd.DataFrame) -> np.ndarray:
    """The frame's `time` column as int64 nanoseconds of Beijing wall-clock time (a copy unless already ns)."""
    return np.asarray(frame["time"].to_numpy(), dtype="datetime64[ns]").view(np.int64)


def feed_files(source: Path) -> list[Path]:
    """The readable data files of a drop: the file itself, or the folder's CSV/Parquet files (no hidden/lock)."""
    if source.is_file():
        return [source]
    return sorted(p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in FEED_SUFFIXES
                  and not p.name.startswith((".", "~$", ".~lock")))


@dataclass
class _Part:
    """One file's readings as arrays: station codes into `stations`, Beijing ns times, float values."""

    name: str
    first_row: int
    kind: Granularity
    co_unit: CoUnit
    codes: np.ndarray
    stations: list[str]
    times: np.ndarray
    values: dict[str, np.ndarray]


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
        v = parse_numbers(raw.column(mapping[f]), name, mapping[f], first_row)
        values[f] = v / 1000.0 if f == "co" and co == "ug/m3" else v
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
        codes[start:start + len(chunk)] = lookup.astype(codes.dtype)[indices.to_numpy()]  # faster than np.take
        start += len(chunk)
    if len(codes) and codes.min() < 0:
        raise FeedError([critical("missing_station", "站点为空", "the station is empty", sheet=name,
                                  row=first_row + int(np.argmax(codes < 0)), column=header)])
    return codes, list(stations)


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
        "time": parts[0].times if len(parts) == 1 else np.concatenate([p.times for p in parts]),
    }
    order = ["pm25", "pm10", "so2", "no2", "co", "o3", "o3_8h", "o3_1h", "aqi"]
    for f in [f for f in order if any(f in p.values for p in parts)]:
        pieces = [p.values[f] if f in p.values else np.full(len(p.times), np.nan) for p in parts]
        data[f] = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
    # copy=False keeps one block per column: consolidating 15 million rows would copy them all again.
    return pd.DataFrame(data, copy=False)
