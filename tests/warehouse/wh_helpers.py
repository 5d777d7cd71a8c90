"""Inputs and probes for the warehouse tests: normalized frames, drops, verdicts, a warehouse checksum, and the
entry points that crash and concurrency tests run in other processes.

Run as a script (`python wh_helpers.py load <url> <frame.pkl> <sha256>`) it imports everything, reads the
pickled frame, waits for a line on stdin, then loads the frame and prints the outcome as JSON — so a test can
start it early and SIGKILL it at a chosen moment of the load itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Engine, text

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # when run as a script from a subprocess
    sys.path.insert(0, str(ROOT))

from expectations.loader import load_catalog  # noqa: E402
from tasks.contracts import NORMALIZED_COLUMNS, Drop, Issue, Outcome, Verdict  # noqa: E402
from warehouse.load import LoadResult, load_drop  # noqa: E402

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2021, 4, 8, 10, 0, tzinfo=SHANGHAI)
JOBS = "employment.new_urban_jobs"  # cumulative, person
UNEMPLOYMENT = "employment.urban_unemployment_rate"  # level, percent
MATERNAL = "health.maternal_mortality_rate"  # level
PREFECTURE, CHUXIONG, SHUANGBAI, LUFENG = "532300", "532301", "532322", "532331"

# Content of every table a load may touch, in primary-key order (the G1 "warehouse checksum").
CHECKSUM_TABLES = {"drop_ledger": "load_id", "drop_sighting": "sighting_id", "fact_observation": "observation_id",
                   "fact_check": "check_id", "dim_period": "period"}


@cache
def catalog() -> Any:
    return load_catalog()


def unit_of(target_id: str) -> str:
    return str(catalog().target(target_id).unit)


def frame(rows: list[tuple[str, str, str, str]], *, status: str = "provisional", basis: str = "ytd",
          sheet: str = "") -> pd.DataFrame:
    """A normalized frame from (target_id, county_code, period, value) tuples; values become Decimals."""
    records = [{"target_id": t, "county_code": c, "period": p, "value": Decimal(v), "unit": unit_of(t),
                "basis": basis, "status": status, "note": "", "source_sheet": sheet, "source_row": i + 2}
               for i, (t, c, p, v) in enumerate(rows)]
    return pd.DataFrame(records, columns=list(NORMALIZED_COLUMNS))


# A drop touching two years' partitions (2021 jobs in two counties, a 2020 prefecture rate): what curated tests
# publish first.
TWO_YEAR_ROWS = frame([(JOBS, CHUXIONG, "2021-03", "1200"), (JOBS, SHUANGBAI, "2021-03", "300.25"),
                       (UNEMPLOYMENT, PREFECTURE, "2020-12", "4.1")])


def content_of(rows: pd.DataFrame) -> bytes:
    """Stand-in file bytes for a frame (the same rows give the same sha256)."""
    return rows.astype(str).to_csv(index=False).encode("utf-8")


def make_drop(content: bytes, name: str = "progress.csv", department: str = "hrss") -> Drop:
    return Drop(path=Path("data/raw") / department / name, department=department,
                sha256=hashlib.sha256(content).hexdigest(), size=len(content), mtime=1617847200.0,
                relative_name=name)


def verdict(rows: pd.DataFrame, outcome: Outcome = Outcome.LOAD, issues: list[Issue] | None = None) -> Verdict:
    return Verdict(outcome, rows, list(issues or []))


def load_rows(engine: Engine, rows: pd.DataFrame, at: dt.datetime = T0, name: str = "progress.csv", *,
              outcome: Outcome = Outcome.LOAD, issues: list[Issue] | None = None, **options: Any) -> LoadResult:
    """Load a frame as one drop of its own bytes (`content_of`) recorded at `at`; `options` go to `load_drop`."""
    return load_drop(engine, make_drop(content_of(rows), name), verdict(rows, outcome, issues), recorded_at=at,
                     **options)


def checksum(engine: Engine) -> str:
    """sha256 over every row of the tables a load writes."""
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table, key in CHECKSUM_TABLES.items():
            for row in conn.execute(text(f"SELECT * FROM {table} ORDER BY {key}")):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def current(engine: Engine) -> dict[tuple[str, str, str], str]:
    """The current view as {(target, county, period): value_text}."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT target_id, county_code, period, value_text FROM v_observation_current"))
        return {(t, c, p): v for t, c, p, v in rows}


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def big_frame(n_rows: int) -> pd.DataFrame:
    """About `n_rows` rows over every catalog target × county-level unit × consecutive months from 2001."""
    targets = [(t.id, t.unit) for t in catalog().targets]
    counties = [c.code for c in catalog().counties if c.kind.value != "zone"]
    months = n_rows // (len(targets) * len(counties)) + 1
    periods = [f"{2001 + i // 12}-{i % 12 + 1:02d}" for i in range(months)]
    keys = pd.MultiIndex.from_product([[t for t, _ in targets], counties, periods],
                                      names=["target_id", "county_code", "period"]).to_frame(index=False)
    n = len(keys)
    units = dict(targets)
    return keys.assign(value=[Decimal(i) / 4 for i in range(n)], unit=keys["target_id"].map(units), basis="ytd",
                       status="provisional", note="", source_sheet="data", source_row=range(2, n + 2))


def load_pickled(url: str, frame_path: str, sha256: str) -> dict[str, Any]:
    """Load a pickled frame as one drop once stdin says go (the subprocess side of the crash test)."""
    from warehouse.db import make_engine

    rows = pd.read_pickle(frame_path)
    sys.stdin.readline()
    drop = Drop(Path(frame_path), "hrss", sha256, 1, 0.0, "big.csv")
    engine = make_engine(url)
    result = load_drop(engine, drop, Verdict(Outcome.LOAD, rows), recorded_at=T0)
    engine.dispose()
    return {"outcome": result.outcome.value, "rows_loaded": result.rows_loaded}


def concurrent_worker(url: str, barrier: Any, rounds: list[list[tuple[str, str, pd.DataFrame]]],
                      results: Any, worker: int) -> None:
    """Each round: wait at the barrier with the other workers, then try to load every file of the round."""
    from warehouse.db import make_engine

    engine = make_engine(url)
    try:
        for number, files in enumerate(rounds):
            barrier.wait(timeout=60)
            for sha256, name, rows in files:
                drop = Drop(Path(name), "hrss", sha256, 1, 0.0, name)
                result = load_drop(engine, drop, Verdict(Outcome.LOAD, rows),
                                   recorded_at=T0 + dt.timedelta(days=number), max_attempts=20)
                results.put((number, worker, sha256, result.outcome.value))
    except BaseException as error:  # report, so the test fails with the reason instead of a timeout
        results.put((-1, worker, "", f"{type(error).__name__}: {error}"))
        raise
    finally:
        engine.dispose()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "load":
        print(json.dumps(load_pickled(sys.argv[2], sys.argv[3], sys.argv[4])), flush=True)
    else:
        sys.exit("usage: wh_helpers.py load <url> <frame.pkl> <sha256>")
