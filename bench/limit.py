"""The limit baseline: the fastest honest pipeline with the same libraries, written for the benchmark only.

It knows the drop's layout in advance (title row, then the header; no header detection), reads with the pyarrow
CSV reader (python-calamine for XLSX, pyarrow for Parquet), splits `1.39万人` into number and unit with one
vectorized regex and joins the unit factors (float64, not exact decimals), and checks what minsheng's quality
layer checks that matters here — nulls, known targets / counties / periods, per-target bounds through a lookup
join with the thresholds, duplicate keys — with pyarrow.compute, never a Python loop over rows. A clean drop is
written to Parquet and bulk-loaded (SQLite: executemany in one transaction; PostgreSQL: COPY); a bad one is
copied to quarantine with a JSON list of its failing rows. It skips the rest of minsheng's duties: names, aliases
and full-width text, periods in other spellings, exact decimals, the target layer, supersession, receipts.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy.engine import make_url

from bench.catalog import MONTHS, ReferenceTables, catalog_for_rows, reference_tables
from bench.common import Case, RunResult, Stopwatch
from bench.datagen import HEADERS

COLUMNS = ("target_id", "target_name", "county", "period", "value_text", "unit", "note")
NUMBER = r"^(?P<number>[+-]?\d+(?:\.\d+)?)(?P<unit>.*)$"
MILESTONE = {"完成": 1.0, "未完成": 0.0}
OUT = ("target_id", "county_code", "period", "value", "unit", "source_row")


def read(path: Path) -> pa.Table:
    """The drop as a string table with English column names (layout known: title row, header row)."""
    if path.suffix == ".parquet":
        table = pq.read_table(path)
    elif path.suffix == ".xlsx":
        from python_calamine import CalamineWorkbook

        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=False)[2:]
        width = len(HEADERS)
        cells = [[str(r[i]) if i < len(r) and r[i] != "" else None for r in rows] for i in range(width)]
        table = pa.table({h: pa.array(c, pa.string()) for h, c in zip(HEADERS, cells, strict=True)})
    else:
        table = pacsv.read_csv(path, read_options=pacsv.ReadOptions(skip_rows=1),
                               convert_options=pacsv.ConvertOptions(
                                   column_types=dict.fromkeys(HEADERS, pa.string()), strings_can_be_null=True))
    return table.rename_columns(list(COLUMNS))


def _lookup(values: pa.ChunkedArray, keys: pa.Array) -> pa.Array:
    """Position of each value in `keys` (null where absent): a hash join against a small dimension."""
    return pc.index_in(values, value_set=keys)


def normalize(table: pa.Table, ref: ReferenceTables) -> pa.Table:
    """Canonical columns: county code, value in the target's canonical unit (float64), source row."""
    county_at = _lookup(table["county"], ref.counties["county"])
    parts = pc.extract_regex(pc.fill_null(table["value_text"], ""), NUMBER)
    number = pc.cast(pc.struct_field(parts, "number"), pa.float64())
    in_value = pc.struct_field(parts, "unit")
    written = pc.if_else(pc.equal(pc.fill_null(in_value, ""), ""), table["unit"], in_value)
    factor = pc.take(ref.units["factor"], _lookup(written, ref.units["unit"]))
    factor = pc.if_else(pc.is_null(written), 1.0, factor)
    word = pc.take(pa.array(list(MILESTONE.values())), _lookup(table["value_text"], pa.array(list(MILESTONE))))
    value = pc.coalesce(pc.multiply(number, factor), word)
    return pa.table({
        "target_id": table["target_id"],
        "county_code": pc.take(ref.counties["county_code"], county_at),
        "period": table["period"],
        "value": value,
        "unit": written,
        "source_row": pa.array(np.arange(3, table.num_rows + 3, dtype=np.int64)),
    })


def validate(rows: pa.Table, ref: ReferenceTables, periods: pa.Array) -> dict[str, list[int]]:
    """Failing source rows per rule (all of them; empty dict when the drop is clean)."""
    target_at = _lookup(rows["target_id"], ref.targets["target_id"])
    low = pc.take(ref.targets["bound_min"], target_at)
    high = pc.take(ref.targets["bound_max"], target_at)
    value = rows["value"]
    checks = {
        "missing_key": pc.or_kleene(pc.is_null(rows["target_id"]), pc.is_null(rows["period"])),
        "unknown_target": pc.and_(pc.is_valid(rows["target_id"]), pc.is_null(target_at)),
        "unknown_county": pc.is_null(rows["county_code"]),
        "bad_period": pc.invert(pc.is_in(rows["period"], value_set=periods)),
        "missing_value": pc.is_null(value),
        "out_of_bounds": pc.or_(pc.fill_null(pc.less(value, low), False),
                                pc.fill_null(pc.greater(value, high), False)),
    }
    failed = {rule: pc.filter(rows["source_row"], pc.fill_null(mask, True)).to_pylist()
              for rule, mask in checks.items() if pc.any(pc.fill_null(mask, True)).as_py()}
    key = [pc.fill_null(pc.cast(_lookup(rows[c], pc.unique(rows[c])), pa.int64()), -1)
           for c in ("target_id", "county_code", "period")]
    packed = (key[0].to_numpy() * (len(ref.counties) + 1) + key[1].to_numpy()) * (MONTHS + 1) + key[2].to_numpy()
    _, first, counts = np.unique(packed, return_index=True, return_counts=True)
    if (counts > 1).any():
        seen = np.zeros(len(packed), dtype=bool)
        seen[first] = True
        failed["duplicate_key"] = rows["source_row"].to_numpy()[~seen].tolist()
    return failed


def load(rows: pa.Table, sha256: str, url: str, batch_rows: int = 100_000) -> int:
    """Bulk-load the rows and a ledger line in one transaction, a batch at a time (memory stays flat):
    SQLite executemany, PostgreSQL COPY."""
    parsed = make_url(url)
    create = ("CREATE TABLE limit_observation (target_id TEXT, county_code TEXT, period TEXT, value DOUBLE "
              "PRECISION, unit TEXT, source_row BIGINT, sha256 TEXT)")
    table = rows.select(list(OUT)).append_column("sha256", pa.array([sha256] * rows.num_rows, pa.string()))
    batches = table.to_batches(max_chunksize=batch_rows)
    if parsed.get_backend_name() == "sqlite":
        db = sqlite3.connect(str(parsed.database), isolation_level=None)
        try:
            db.execute("BEGIN")
            db.execute(create)
            db.execute("CREATE TABLE limit_ledger (sha256 TEXT PRIMARY KEY, rows INTEGER)")
            insert = f"INSERT INTO limit_observation VALUES ({', '.join('?' * 7)})"
            for batch in batches:
                db.executemany(insert, zip(*(c.to_pylist() for c in batch.columns), strict=True))
            db.execute("INSERT INTO limit_ledger VALUES (?, ?)", (sha256, rows.num_rows))
            db.execute("COMMIT")
        finally:
            db.close()
        return rows.num_rows
    import psycopg

    with psycopg.connect(parsed.set(drivername="postgresql").render_as_string(hide_password=False)) as conn:
        conn.execute(create)
        conn.execute("CREATE TABLE limit_ledger (sha256 TEXT PRIMARY KEY, rows INTEGER)")
        with conn.cursor().copy("COPY limit_observation FROM STDIN (FORMAT csv)") as copy:
            for batch in batches:
                buffer = io.BytesIO()
                pacsv.write_csv(batch, buffer, write_options=pacsv.WriteOptions(include_header=False))
                copy.write(buffer.getbuffer())
        conn.execute("INSERT INTO limit_ledger VALUES (%s, %s)", (sha256, rows.num_rows))
    return rows.num_rows


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def run(case: Case) -> RunResult:
    """The limit pipeline on one drop, into every warehouse of the case."""
    catalog = catalog_for_rows(case.rows)
    ref = reference_tables(catalog)
    periods = pa.array([f"{catalog.year}-{m:02d}" for m in range(1, MONTHS + 1)])
    result = RunResult(impl="limit")
    watch = Stopwatch(result.shared, result.memory_mb)
    with watch("read"):
        table = read(case.drop)
    with watch("normalize"):
        rows = normalize(table, ref)
        del table
    with watch("validate"):
        failed = validate(rows, ref, periods)
    result.outcome = "quarantine" if failed else "load"
    for backend, url in case.backends.items():
        times: dict[str, float] = {}
        stage = Stopwatch(times, result.memory_mb, f"@{backend}")
        out = case.workdir / f"limit_{backend}"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        with stage("discover"):
            found = [Path(e.path) for e in os.scandir(case.drop.parent) if e.name == case.drop.name]
            sha = sha256_of(found[0])
        if failed:
            with stage("receipt"):
                shutil.copyfile(case.drop, out / f"{sha}_{case.drop.name}")
                (out / f"{sha}.report.json").write_text(json.dumps({k: v[:200] for k, v in failed.items()}))
            result.rows_loaded[backend] = 0
        else:
            with stage("load"):
                result.rows_loaded[backend] = load(rows, sha, url)
            with stage("curated"):
                (out / "curated" / f"year={catalog.year}").mkdir(parents=True)
                pq.write_table(rows, out / "curated" / f"year={catalog.year}" / "part.parquet")
        result.per_backend[backend] = times
    return result
