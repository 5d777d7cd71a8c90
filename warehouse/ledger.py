"""The drop ledger inside a load transaction: claim by sha256, sightings, checks and the final mark."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tasks.contracts import Drop, Issue, Outcome, Severity, Verdict
from warehouse.models import DropLedger, DropSighting, FactCheck

LEDGER: Table = DropLedger.__table__  # type: ignore[assignment]
SIGHTING: Table = DropSighting.__table__  # type: ignore[assignment]
CHECK: Table = FactCheck.__table__  # type: ignore[assignment]


def _insert(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT, which both spell `.on_conflict_do_nothing()` / `.on_conflict_do_update()`."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def claim(conn: Connection, drop: Drop, at: dt.datetime) -> tuple[int | None, tuple[int, str] | None]:
    """Claim the drop's sha256: (new load_id, None), or (None, (load_id, status)) of the entry that holds it.

    INSERT … ON CONFLICT DO NOTHING: on PostgreSQL a concurrent claimer of the same bytes waits for the first
    transaction and then sees the conflict; on SQLite the caller already holds the write lock.
    """
    mtime = dt.datetime.fromtimestamp(drop.mtime, tz=dt.UTC) if drop.mtime else None
    stmt = _insert(conn, LEDGER).values(
        sha256=drop.sha256, size=drop.size, department=drop.department, relative_name=drop.relative_name,
        mtime=mtime, first_seen=at, last_seen=at, status="claimed", outcome=None, reason_codes=[], row_count=0,
        rows_loaded=0, rows_unchanged=0, rows_superseded=0, critical_count=0, warning_count=0,
    ).on_conflict_do_nothing(index_elements=["sha256"]).returning(LEDGER.c.load_id)
    load_id = conn.execute(stmt).scalar_one_or_none()
    if load_id is not None:
        return int(load_id), None
    row = conn.execute(select(LEDGER.c.load_id, LEDGER.c.status).where(LEDGER.c.sha256 == drop.sha256)).one()
    return None, (int(row.load_id), str(row.status))


def record_sighting(conn: Connection, drop: Drop, at: dt.datetime, outcome: str) -> None:
    """Remember the name this content was seen under (a second sighting of a name only bumps its counters)."""
    stmt = _insert(conn, SIGHTING).values(sha256=drop.sha256, department=drop.department,
                                          relative_name=drop.relative_name, first_seen=at, last_seen=at,
                                          times_seen=1, outcome=outcome)
    stmt = stmt.on_conflict_do_update(index_elements=["sha256", "department", "relative_name"],
                                      set_={"last_seen": stmt.excluded.last_seen,
                                            "times_seen": SIGHTING.c.times_seen + 1})
    conn.execute(stmt)


def record_duplicate(conn: Connection, drop: Drop, at: dt.datetime) -> None:
    """Known bytes seen again: move last_seen forward (never back) and record the sighting; nothing else."""
    conn.execute(update(LEDGER).where(LEDGER.c.sha256 == drop.sha256, LEDGER.c.last_seen < at)
                 .values(last_seen=at))
    record_sighting(conn, drop, at, "duplicate")


def write_checks(conn: Connection, load_id: int, sha256: str, issues: list[Issue], at: dt.datetime) -> int:
    """Store every issue of the drop in fact_check (executemany); returns the number written."""
    if not issues:
        return 0
    conn.execute(CHECK.insert(), [
        {"load_id": load_id, "sha256": sha256, "rule": i.code, "severity": Severity(i.severity).value,
         "sheet": i.sheet, "row_number": None if i.row is None else int(i.row), "column_name": i.column,
         "value": i.value, "message_zh": i.message_zh, "message_en": i.message_en, "recorded_at": at}
        for i in issues
    ])
    return len(issues)


def finish_ledger(conn: Connection, load_id: int, *, status: str, verdict: Verdict, issues: list[Issue],
                  counts: tuple[int, int, int], finished_at: dt.datetime) -> None:
    """Mark the claimed entry with its final status, outcome, reason codes and row counts."""
    critical = [i for i in issues if i.severity == Severity.CRITICAL]
    outcome = Outcome.QUARANTINE.value if status == "quarantined" else Outcome(verdict.outcome).value
    rows = verdict.rows
    conn.execute(update(LEDGER).where(LEDGER.c.load_id == load_id).values(
        status=status, outcome=outcome, reason_codes=sorted({i.code for i in critical}),
        row_count=0 if rows is None else len(rows), rows_loaded=counts[0], rows_unchanged=counts[1],
        rows_superseded=counts[2], critical_count=len(critical),
        warning_count=sum(1 for i in issues if i.severity == Severity.WARNING), finished_at=finished_at,
    ))
