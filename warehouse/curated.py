"""Curated Parquet for BI: data/curated/<table>/year=YYYY/part.parquet, always consistent with the database.

Files are published after the database commit, each written to a temp file in the same directory, fsynced and
renamed over the old one, so a reader sees the old or the new partition, never a truncated one (G5).
`_manifest.json` records the database signature (row count, max id, change markers) of every partition
written, and fact_observation's count:max_id when all its partitions were current; `curated_is_stale` compares
them with the database, and `rebuild_curated` rewrites everything.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection, Engine, Table, func, select

from warehouse.bulk import table_state
from warehouse.changes import ObservationChanges, apply_changes, partition_signature
from warehouse.curated_io import (
    OBSERVATION_SCHEMA,
    atomic_write,
    partition_path,
    read_observation_year,
    write_batches,
    write_frame_partition,
)
from warehouse.faults import fault_point
from warehouse.models import DropLedger, FactAlert, FactObservation, FactTargetStatus
from warehouse.queries import fetch_frame

try:
    import fcntl
except ImportError:  # Windows: publishing is then only safe from one process at a time
    fcntl = None  # type: ignore[assignment]

MANIFEST = "_manifest.json"
# Manifest key: "count:max_id" of fact_observation when every one of its partitions was last known current.
OBSERVATION_STATE = "fact_observation_state"
CURATED_TABLES = ("fact_observation", "fact_target_status", "fact_alert", "drop_ledger")
_MODELS: dict[str, Table] = {m.__tablename__: m.__table__ for m in  # type: ignore[misc]
                             (FactObservation, FactTargetStatus, FactAlert, DropLedger)}
# Large tables are partitioned by the year of their `period` and signed in SQL; small ones are read whole.
_BY_PERIOD = {"fact_observation": "observation_id", "fact_target_status": "status_id"}
_BY_TIME = {"fact_alert": ("alert_id", "opened_at"), "drop_ledger": ("load_id", "first_seen")}


def _read(conn: Connection, table: Table, where: Any = None) -> pd.DataFrame:
    query = select(table) if where is None else select(table).where(where)
    return fetch_frame(conn, query, [c.name for c in table.columns])


def _period_signatures(conn: Connection, name: str) -> dict[str, str]:
    table, key = _MODELS[name], _BY_PERIOD[name]
    year = func.substr(table.c.period, 1, 4)
    changed = func.count(table.c.superseded_at) if name == "fact_observation" else func.count(table.c[key])
    rows = conn.execute(select(year, func.count(), func.max(table.c[key]), changed).group_by(year)).all()
    return {str(y): f"{n}:{top}:{c}" for y, n, top, c in rows}


def _time_partitions(conn: Connection, name: str) -> dict[str, pd.DataFrame]:
    table, (key, stamp) = _MODELS[name], _BY_TIME[name]
    frame = _read(conn, table).sort_values(key, ignore_index=True)
    years = frame[stamp].map(lambda t: str(t.year)) if len(frame) else pd.Series([], dtype=object)
    return {str(y): part.reset_index(drop=True) for y, part in frame.groupby(years, sort=True)}


def _content_signature(frame: pd.DataFrame, key: str) -> str:
    digest = hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()[:16]
    return f"{len(frame)}:{frame[key].max()}:{digest}"


def database_signatures(conn: Connection, recorded: dict[str, str] | None = None,
                        state: str | None = None) -> dict[str, dict[str, str]]:
    """Per table and year, the signature of what the database holds now.

    `recorded` and `state`: fact_observation's signatures and state ("count:max_id") in the manifest. When that
    state is still the table's, nothing changed since every partition was current (rows are never deleted, and
    every supersession inserts a row), so `recorded` are its signatures: a count and an indexed max instead of
    grouping every row by year.
    """
    out = {name: _period_signatures(conn, name) for name in _BY_PERIOD if name != "fact_observation"}
    unchanged = recorded is not None and state is not None and state == "{}:{}".format(*table_state(conn))
    out["fact_observation"] = dict(recorded or {}) if unchanged else _period_signatures(conn, "fact_observation")
    for name, (key, _stamp) in _BY_TIME.items():
        out[name] = {y: _content_signature(p, key) for y, p in _time_partitions(conn, name).items()}
    return out


def _write_observation_year(conn: Connection, curated_dir: Path, year: str) -> None:
    """Rewrite one fact_observation partition from the database, batch by batch."""
    write_batches(partition_path(curated_dir, "fact_observation", year), OBSERVATION_SCHEMA,
                  read_observation_year(conn, year))
    fault_point("curated_partition", table="fact_observation", year=year)


def _read_payload(curated_dir: Path) -> tuple[dict[str, dict[str, str]], str | None]:
    """(signatures per table and year, fact_observation state) of the last publish."""
    try:
        data = json.loads((Path(curated_dir) / MANIFEST).read_text(encoding="utf-8"))
        tables = {t: dict(p) for t, p in data["tables"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}, None
    state = data.get(OBSERVATION_STATE)
    return tables, state if isinstance(state, str) else None


@contextlib.contextmanager
def _publish_lock(curated_dir: Path) -> Iterator[None]:
    Path(curated_dir).mkdir(parents=True, exist_ok=True)
    with open(Path(curated_dir) / ".publish.lock", "a+b") as handle:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield


@contextlib.contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """One consistent read snapshot (REPEATABLE READ on PostgreSQL; one read transaction on SQLite)."""
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        yield conn


def publish_curated(engine: Engine, curated_dir: Path, *, tables: Collection[str] = CURATED_TABLES,
                    observation_years: Collection[int] | None = None, full: bool = False,
                    changes: Sequence[ObservationChanges] = ()) -> dict[str, int]:
    """Bring curated partitions up to date with the database; returns partitions written per table.

    Only partitions whose database signature differs from the manifest (or whose file is missing) are
    rewritten, so a tick with nothing new costs a few aggregate queries. `observation_years` limits
    fact_observation to those years (what one load touched). `changes` (from `LoadResult.changes`, in any
    order) let fact_observation be updated from the previous files without re-reading the database, when the
    manifest and the database prove nothing else changed; otherwise the touched years are re-read. `full`
    rewrites every partition, deletes those the database no longer has and starts the manifest afresh (that
    is `rebuild_curated`).
    """
    unknown = set(tables) - set(CURATED_TABLES)
    if unknown:
        raise ValueError(f"not curated tables: {sorted(unknown)}; choose from {CURATED_TABLES}")
    curated_dir = Path(curated_dir)
    written: dict[str, int] = {}
    with _publish_lock(curated_dir), _snapshot(engine) as conn:
        manifest, state = ({}, None) if full else _read_payload(curated_dir)
        for name in tables:
            entry = manifest.setdefault(name, {})
            if name == "fact_observation":
                written[name], kept, state = _publish_observations(conn, curated_dir, entry, state, full=full,
                                                                   years=observation_years, changes=changes)
            else:
                written[name], kept = _publish_table(conn, curated_dir, name, entry, full=full)
            if kept is not None:  # the years the database has: the others' files and manifest entries go
                for gone in set(entry) - kept:
                    del entry[gone]
                _remove_missing(curated_dir, name, kept)
        fault_point("curated_manifest")
        payload: dict[str, Any] = {"version": 1, "tables": manifest}
        if state is not None:
            payload[OBSERVATION_STATE] = state
        atomic_write(curated_dir / MANIFEST,
                     lambda fh: fh.write(json.dumps(payload, indent=1, sort_keys=True).encode("utf-8")))
    return written


def _publish_observations(conn: Connection, curated_dir: Path, entry: dict[str, str], state: str | None, *,
                          full: bool, years: Collection[int] | None, changes: Sequence[ObservationChanges]
                          ) -> tuple[int, set[str] | None, str | None]:
    """fact_observation: from the loads' changes when provably right, else the outdated years re-read from the
    database. (partitions written, the years to keep — None when only some years were looked at —, new state)."""
    incremental = None if full or not changes else _publish_changes(conn, curated_dir, entry, state, changes)
    if incremental is not None:
        return incremental[0], None, incremental[1]
    signatures = _period_signatures(conn, "fact_observation")
    restricted = years is not None
    wanted = set(signatures) & {str(y) for y in years or ()} if restricted else set(signatures)
    due = sorted(y for y in wanted if full or _outdated(curated_dir, "fact_observation", y, entry, signatures))
    for year in due:
        _write_observation_year(conn, curated_dir, year)
        entry[year] = signatures[year]
    count, top = table_state(conn)
    kept = set(signatures) if full or not restricted else None
    return len(due), kept, None if restricted else f"{count}:{top}"


def _publish_table(conn: Connection, curated_dir: Path, name: str, entry: dict[str, str], *,
                   full: bool) -> tuple[int, set[str]]:
    """A table other than fact_observation: its outdated partitions rewritten; (written, the years it has)."""
    table = _MODELS[name]
    if name in _BY_PERIOD:
        signatures = _period_signatures(conn, name)
        due = [y for y in sorted(signatures) if full or _outdated(curated_dir, name, y, entry, signatures)]
        parts = {y: _read(conn, table, table.c.period.like(f"{y}-%")) for y in due}
    else:
        every = _time_partitions(conn, name)
        signatures = {y: _content_signature(p, _BY_TIME[name][0]) for y, p in every.items()}
        parts = {y: p for y, p in every.items() if full or _outdated(curated_dir, name, y, entry, signatures)}
    for year, frame in parts.items():
        write_frame_partition(curated_dir, table, year, frame)
        entry[year] = signatures[year]
    return len(parts), set(signatures)


def _publish_changes(conn: Connection, curated_dir: Path, entry: dict[str, str], state: str | None,
                     changes: Sequence[ObservationChanges]) -> tuple[int, str] | None:
    """Update the fact_observation partitions the changes touch from their previous files; (partitions written,
    new state), or None when that is not provably right (the caller then re-reads the database).

    Provably right: the changes form one unbroken chain (each starts from the state the previous one left), the
    database now holds exactly the chain's end state (no other writer — rows are never deleted, and every
    supersession comes with an inserted row), and the chain starts either from an empty table or from the state
    the manifest records as fully published, whose files are present and match their signatures.
    """
    chain = sorted(changes, key=lambda c: c.load_id)
    for before, after in zip(chain, chain[1:], strict=False):
        if (after.before_count, after.before_max_id) != (before.after_count, before.after_max_id):
            return None
    now = table_state(conn)
    if now != (chain[-1].after_count, chain[-1].after_max_id):
        return None
    fresh = chain[0].before_count == 0
    if not fresh:
        start = f"{chain[0].before_count}:{chain[0].before_max_id}"
        if state != start or not all(partition_path(curated_dir, "fact_observation", y).is_file() for y in entry):
            return None
    years = sorted(set().union(*(c.years() for c in chain)))
    previous: dict[str, pa.Table] = {}
    for year in years:
        if fresh or year not in entry:
            previous[year] = OBSERVATION_SCHEMA.empty_table()
            continue
        previous[year] = pq.read_table(partition_path(curated_dir, "fact_observation", year))
        if partition_signature(previous[year]) != entry[year]:
            return None
    for year in years:
        updated = apply_changes(previous.pop(year), year, chain)
        write_batches(partition_path(curated_dir, "fact_observation", year), OBSERVATION_SCHEMA, [updated])
        fault_point("curated_partition", table="fact_observation", year=year)
        entry[year] = partition_signature(updated)
    if fresh:  # the table held nothing before: partitions of any other year are leftovers
        for gone in set(entry) - set(years):
            del entry[gone]
        _remove_missing(curated_dir, "fact_observation", set(years))
    return len(years), f"{now[0]}:{now[1]}"


def _outdated(curated_dir: Path, name: str, year: str, entry: dict[str, str], signatures: dict[str, str]) -> bool:
    return entry.get(year) != signatures[year] or not partition_path(curated_dir, name, year).is_file()


def _remove_missing(curated_dir: Path, table: str, keep: set[str]) -> None:
    for path in (curated_dir / table).glob("year=*/part.parquet"):
        if path.parent.name.removeprefix("year=") not in keep:
            path.unlink()
            with contextlib.suppress(OSError):
                path.parent.rmdir()


def rebuild_curated(engine: Engine, curated_dir: Path) -> dict[str, int]:
    """Rewrite every curated partition and the manifest from the database (the reconciler)."""
    return publish_curated(engine, curated_dir, full=True)


def publish_after_loads(engine: Engine, curated_dir: Path,
                        changes: Sequence[ObservationChanges] = ()) -> bool:
    """Publish what the loads of a run changed (`changes`, their LoadResult.changes), then verify the files
    against the database and rebuild them whole if they still differ (a failed publish earlier, a missing file,
    a concurrent load). True when it had to rebuild."""
    publish_curated(engine, curated_dir, changes=changes)
    if curated_is_stale(engine, curated_dir):
        rebuild_curated(engine, curated_dir)
        return True
    return False


def curated_is_stale(engine: Engine, curated_dir: Path) -> bool:
    """True when the curated files do not match the database (missing, behind, or a publish failed)."""
    manifest, state = _read_payload(curated_dir)
    with _snapshot(engine) as conn:
        current = database_signatures(conn, manifest.get("fact_observation"), state)
    if any(manifest.get(name, {}) != current[name] for name in CURATED_TABLES):
        return True
    return any(not partition_path(curated_dir, name, year).is_file()
               for name in CURATED_TABLES for year in current[name])
