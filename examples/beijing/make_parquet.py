"""Make the compact Parquet copy of the UCI Beijing Multi-Site Air-Quality data (see README.md).

Keeps, for the twelve stations: `station`, `time` (the hour's start, Beijing time, from year/month/day/hour)
and the six pollutants as float32 (every value of the CSVs survives float32 → its nearest float32, which the
test suite checks against the originals), CO under the header `CO(ug/m3)` because the source gives µg/m³.
Rows are sorted by station and time; zstd compression.

    .venv/bin/python examples/beijing/make_parquet.py [SOURCE_DIR] [TARGET_PARQUET]

SOURCE_DIR defaults to /work/shared/data/beijing-air, TARGET_PARQUET to examples/beijing/beijing_aq.parquet.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

SOURCE = Path("/work/shared/data/beijing-air")
TARGET = Path(__file__).resolve().parent / "beijing_aq.parquet"
POLLUTANTS = {"PM2.5": "PM2.5", "PM10": "PM10", "SO2": "SO2", "NO2": "NO2", "CO": "CO(ug/m3)", "O3": "O3"}


def compact(source: Path = SOURCE) -> pa.Table:
    """The twelve station CSVs as one Arrow table with the columns above."""
    frames = [pd.read_csv(f, na_values=["NA"], keep_default_na=False)
              for f in sorted(source.glob("PRSA_Data_*.csv"))]
    raw = pd.concat(frames, ignore_index=True).sort_values(["station", "year", "month", "day", "hour"],
                                                            kind="stable", ignore_index=True)
    time = pd.to_datetime(raw[["year", "month", "day", "hour"]])
    table = pa.table({
        "station": pa.array(raw["station"].to_numpy(object), type=pa.string()).dictionary_encode(),
        "time": pa.array(time.to_numpy("datetime64[s]"), type=pa.timestamp("s")),
        **{new: pa.array(raw[old].to_numpy("float32", na_value=float("nan")), type=pa.float32(),
                         from_pandas=True) for old, new in POLLUTANTS.items()},
    })
    return table.replace_schema_metadata({
        "source": "UCI Machine Learning Repository: Beijing Multi-Site Air Quality (Song Xi Chen, 2017)",
        "licence": "CC BY 4.0",
        "time": "start of the hour, Beijing time (Asia/Shanghai), naive",
    })


def main(source: Path = SOURCE, target: Path = TARGET) -> None:
    table = compact(source)
    pq.write_table(table, target, compression="zstd", compression_level=19)
    print(f"{target}: {table.num_rows} rows, {target.stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main(*(Path(a) for a in sys.argv[1:3]))
