"""Fault injection (G1, G15): a load failing anywhere leaves the warehouse unchanged; transient errors are
retried, data errors are not."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, exc
from wh_helpers import (
    CHUXIONG,
    JOBS,
    LUFENG,
    PREFECTURE,
    SHUANGBAI,
    T0,
    UNEMPLOYMENT,
    checksum,
    current,
    frame,
    load_rows,
)

from warehouse.db import make_engine
from warehouse.faults import set_fault_hook
from warehouse.load import LoadOutcome
from warehouse.retry import is_transient_error, retry_transient

FIRST = frame([(JOBS, CHUXIONG, "2021-03", "100"), (JOBS, SHUANGBAI, "2021-03", "200"),
               (UNEMPLOYMENT, PREFECTURE, "2021-03", "4.2")])
# Three corrections and three new rows: every step of a load (supersede, insert, new period) has work to do.
SECOND = frame([(JOBS, CHUXIONG, "2021-03", "110"), (JOBS, SHUANGBAI, "2021-03", "210"),
                (UNEMPLOYMENT, PREFECTURE, "2021-03", "4.3"), (JOBS, LUFENG, "2021-03", "50"),
                (JOBS, CHUXIONG, "2021-04", "300"), (JOBS, CHUXIONG, "2022-01", "10")])
STAGES = ["begin", "claimed", "checked", "unchanged_removed", "superseded", "inserted", "checks_written",
          "before_commit"]


class InjectedFault(Exception):
    """Raised by the test hook; not a transient error, so never retried."""


@pytest.fixture
def faults() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every fault point passed, in order; the hook is removed after the test."""
    seen: list[tuple[str, dict[str, Any]]] = []
    set_fault_hook(lambda stage, info: seen.append((stage, info)))
    yield seen
    set_fault_hook(None)


def _fail_at(stage: str, after_rows: int | None = None) -> None:
    def hook(at: str, info: dict[str, Any]) -> None:
        if at == stage and (after_rows is None or info.get("rows", 0) >= after_rows):
            raise InjectedFault(f"{stage} after {after_rows} rows")

    set_fault_hook(hook)


def _second(engine: Engine, **kwargs: Any) -> Any:
    return load_rows(engine, SECOND, T0 + dt.timedelta(days=2), "second.csv", **kwargs)


def test_a_failure_anywhere_leaves_the_warehouse_unchanged(engine: Engine, faults: list[Any]) -> None:
    load_rows(engine, FIRST)
    before, view = checksum(engine), current(engine)
    try:
        for k in range(1, len(SECOND) + 1):  # raise after k staged rows, k = 1..n (SQLite's ioerr loop)
            _fail_at("staged", after_rows=k)
            with pytest.raises(InjectedFault):
                _second(engine, chunk_rows=1)
            assert checksum(engine) == before and current(engine) == view
        for stage in STAGES:
            _fail_at(stage)
            with pytest.raises(InjectedFault):
                _second(engine)
            assert checksum(engine) == before, stage
    finally:
        set_fault_hook(None)
    result = _second(engine, chunk_rows=2)
    assert (result.outcome, result.rows_loaded, result.rows_superseded) == (LoadOutcome.LOADED, 6, 3)
    assert current(engine)[(JOBS, CHUXIONG, "2021-03")] == "110"


def _hold_write_lock(engine: Engine) -> tuple[Any, Any]:
    """Take the warehouse's write lock from another connection; returns (release, connection)."""
    if engine.dialect.name == "sqlite":
        raw = sqlite3.connect(str(engine.url.database), isolation_level=None, check_same_thread=False)
        raw.execute("BEGIN IMMEDIATE")
        return raw.rollback, raw
    raw_pg = psycopg.connect(engine.url.set(drivername="postgresql").render_as_string(hide_password=False))
    raw_pg.execute("LOCK TABLE drop_ledger IN EXCLUSIVE MODE")
    return raw_pg.rollback, raw_pg


def test_a_transient_lock_is_retried_and_the_file_loads(engine: Engine, faults: list[Any]) -> None:
    impatient = make_engine(engine.url.render_as_string(hide_password=False), busy_timeout_ms=100)
    release, holder = _hold_write_lock(engine)
    timer = threading.Timer(0.6, release)
    timer.start()
    try:
        result = load_rows(impatient, FIRST, max_attempts=30)
    finally:
        timer.join()
        holder.close()
        impatient.dispose()
    assert result.outcome == LoadOutcome.LOADED and result.rows_loaded == 3
    assert result.attempts >= 2
    assert len(current(engine)) == 3


def test_a_lock_held_too_long_gives_up_after_max_attempts(engine: Engine) -> None:
    impatient = make_engine(engine.url.render_as_string(hide_password=False), busy_timeout_ms=50)
    release, holder = _hold_write_lock(engine)
    try:
        with pytest.raises(exc.OperationalError) as raised:
            load_rows(impatient, FIRST, max_attempts=2)
        assert is_transient_error(raised.value)
    finally:
        release()
        holder.close()
        impatient.dispose()
    assert current(engine) == {}


def test_a_data_error_is_raised_at_once_without_retry(engine: Engine, faults: list[Any]) -> None:
    before = checksum(engine)
    rows = FIRST.assign(value=[1.5, Decimal("2"), Decimal("3")])  # a float: the reader's bug, not the data's
    with pytest.raises(TypeError, match="Decimal"):
        load_rows(engine, rows)
    assert [stage for stage, _ in faults].count("begin") == 1
    assert checksum(engine) == before


def test_naive_timestamps_are_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        load_rows(engine, FIRST, dt.datetime(2021, 4, 8))


def _wrapped(original: BaseException, kind: type[exc.DBAPIError] = exc.OperationalError) -> exc.DBAPIError:
    return kind("INSERT …", {}, original)


@pytest.mark.parametrize(("error", "transient"), [
    (_wrapped(sqlite3.OperationalError("database is locked")), True),
    (_wrapped(sqlite3.OperationalError("database table is locked")), True),
    (_wrapped(sqlite3.OperationalError("no such table: fact_observation")), False),
    (_wrapped(sqlite3.IntegrityError("UNIQUE constraint failed"), exc.IntegrityError), False),
    (_wrapped(psycopg.errors.LockNotAvailable("lock timeout")), True),
    (_wrapped(psycopg.errors.SerializationFailure("could not serialize")), True),
    (_wrapped(psycopg.errors.DeadlockDetected("deadlock")), True),
    (_wrapped(psycopg.OperationalError("server closed the connection unexpectedly")), True),
    (_wrapped(psycopg.errors.UniqueViolation("duplicate key"), exc.IntegrityError), False),
    (ValueError("bad value"), False),
    (TypeError("float"), False),
], ids=lambda v: type(getattr(v, "orig", v)).__name__ + ":" + str(getattr(v, "orig", v))[:24]
    if isinstance(v, BaseException) else str(v))
def test_transient_errors_are_told_from_terminal_ones(error: BaseException, transient: bool) -> None:
    assert is_transient_error(error) is transient


def test_retry_backs_off_exponentially_and_gives_up() -> None:
    delays: list[float] = []
    calls = []

    def always_locked() -> None:
        calls.append(1)
        raise _wrapped(sqlite3.OperationalError("database is locked"))

    with pytest.raises(exc.OperationalError):
        retry_transient(always_locked, max_attempts=4, base_delay=0.1, max_delay=0.3, sleep=delays.append)
    assert len(calls) == 4 and len(delays) == 3
    assert 0.05 <= delays[0] <= 0.1 and 0.1 <= delays[1] <= 0.2 and 0.15 <= delays[2] <= 0.3


def test_retry_returns_the_first_success_and_never_retries_terminal_errors() -> None:
    outcomes: Iterator[BaseException | str] = iter([_wrapped(sqlite3.OperationalError("database is locked")),
                                                     "done"])

    def flaky() -> str:
        item = next(outcomes)
        if isinstance(item, BaseException):
            raise item
        return item

    assert retry_transient(flaky, sleep=lambda _: None) == "done"
    calls = []

    def broken() -> None:
        calls.append(1)
        raise ValueError("data")

    with pytest.raises(ValueError):
        retry_transient(broken, sleep=lambda _: None)
    assert calls == [1]


def test_engines_refuse_memory_databases_and_unknown_backends() -> None:
    with pytest.raises(ValueError, match="file"):
        make_engine("sqlite://")
    with pytest.raises(ValueError, match="unsupported"):
        make_engine("mysql://x@localhost/db")
