"""Shared fixtures.

Warehouse backends (G16: the same assertions on both): `warehouse_url` is an empty database — a SQLite file in
the test's temp dir, or a freshly created PostgreSQL database (dropped afterwards) on the server at
MINSHENG_TEST_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test). `engine` is that database
migrated to head with the dimensions synced from the real catalog. Without a reachable server the postgresql
cases skip, unless MINSHENG_REQUIRE_SERVICES=1 (CI), where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

PG_URL = os.environ.get("MINSHENG_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@cache
def _postgres_unavailable() -> str | None:
    admin = create_engine(PG_URL, connect_args={"connect_timeout": 3})
    try:
        with admin.connect():
            return None
    except Exception as error:  # any failure to connect means: no server for these tests
        return f"{type(error).__name__}: {str(error).splitlines()[0]}"
    finally:
        admin.dispose()


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty, uniquely named database on the test server; dropped on exit (even if still in use)."""
    reason = _postgres_unavailable()
    if reason is not None:
        message = f"PostgreSQL at {make_url(PG_URL).render_as_string(hide_password=True)} unreachable: {reason}"
        if os.environ.get("MINSHENG_REQUIRE_SERVICES") == "1":
            pytest.fail(message + " (MINSHENG_REQUIRE_SERVICES=1)")
        pytest.skip(message)
    name = f"minsheng_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def warehouse_url(request: Any, tmp_path: Path) -> Iterator[str]:
    """URL of an empty warehouse database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
        return
    with fresh_postgres_database() as url:
        yield url


@cache
def _catalog() -> Any:
    from expectations.loader import load_catalog

    return load_catalog()


@pytest.fixture
def engine(warehouse_url: str) -> Iterator[Engine]:
    """The warehouse at `warehouse_url`, migrated to head, dimensions synced from the catalog."""
    from warehouse.db import make_engine, upgrade
    from warehouse.dims import sync_dimensions

    eng = make_engine(warehouse_url)
    upgrade(eng)
    sync_dimensions(eng, _catalog())
    yield eng
    eng.dispose()
