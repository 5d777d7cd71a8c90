"""Retry transient database errors with exponential backoff; never retry data errors.

Transient: SQLite "database is locked"/"busy", PostgreSQL lock timeouts, serialization failures, deadlocks and
dropped connections — the same work can succeed a moment later. Terminal: integrity violations, bad values,
programming errors — retrying would only repeat them (dlt's `retry_load`, Kafka Connect's retry-then-tolerate).
"""

from __future__ import annotations

import logging
import random
import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import exc as sa_exc

log = logging.getLogger(__name__)

T = TypeVar("T")

_SQLITE_TRANSIENT = ("database is locked", "database table is locked", "database is busy", "disk i/o error")
# PostgreSQL SQLSTATEs worth retrying: serialization_failure, deadlock_detected, lock_not_available,
# and the connection-exception class 08xxx; admin_shutdown / crash_shutdown / cannot_connect_now (57P0x).
_PG_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "57P01", "57P02", "57P03"}


def is_transient_error(error: BaseException) -> bool:
    """True when `error` is a database hiccup that the same work may survive on another attempt."""
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        if isinstance(error, sa_exc.IntegrityError | sa_exc.DataError | sa_exc.ProgrammingError):
            return False
        original = error.orig
        sqlstate = getattr(original, "sqlstate", None)
        if isinstance(sqlstate, str):
            return sqlstate in _PG_TRANSIENT_SQLSTATES or sqlstate.startswith("08")
        if isinstance(original, sqlite3.Error):
            message = str(original).lower()
            return isinstance(error, sa_exc.OperationalError) and any(f in message for f in _SQLITE_TRANSIENT)
        # psycopg reports a lost or refused connection as OperationalError without a SQLSTATE.
        return isinstance(error, sa_exc.OperationalError)
    return isinstance(error, ConnectionError | TimeoutError)


def retry_transient(
    work: Callable[[], T],
    *,
    max_attempts: int = 5,
    base_delay: float = 0.05,
    max_delay: float = 2.0,
    is_transient: Callable[[BaseException], bool] = is_transient_error,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[int, BaseException], None] | None = None,
) -> T:
    """Run `work()`; on a transient error wait base_delay·2^(n−1) (with jitter, capped) and try again.

    Gives up after `max_attempts` attempts in total and re-raises the last error; a terminal error is
    re-raised at once. `on_retry(attempt, error)` is told about every retry (for logs and tests).
    """
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
    attempt = 1
    while True:
        try:
            return work()
        except Exception as error:
            if attempt >= max_attempts or not is_transient(error):
                raise
            delay = min(max_delay, base_delay * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
            log.warning("transient database error (attempt %d of %d), retrying in %.2fs: %s",
                        attempt, max_attempts, delay, error)
            if on_retry is not None:
                on_retry(attempt, error)
            sleep(delay)
            attempt += 1
