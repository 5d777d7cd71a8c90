"""Shared fixtures.

Warehouse backends (G16: the same assertions on both), parametrized by `backend` (sqlite, postgresql):
`warehouse_url` is an empty database — a SQLite file in the test's temp dir, or a freshly created PostgreSQL
database (dropped afterwards) on the server at MINSHENG_TEST_PG_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test). `engine` is another fresh database, migrated to head with
the dimensions synced from the real catalog (copied from a template built once per session); its URL is
`engine.url`. Without a reachable server the postgresql cases skip, unless MINSHENG_REQUIRE_SERVICES=1 (CI),
where they fail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from expectations.loader import load_catalog
from expectations.models import Catalog

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


def _require_postgres() -> None:
    reason = _postgres_unavailable()
    if reason is not None:
        message = f"PostgreSQL at {make_url(PG_URL).render_as_string(hide_password=True)} unreachable: {reason}"
        if os.environ.get("MINSHENG_REQUIRE_SERVICES") == "1":
            pytest.fail(message + " (MINSHENG_REQUIRE_SERVICES=1)")
        pytest.skip(message)


@contextmanager
def fresh_postgres_database(template: str | None = None) -> Iterator[str]:
    """A new uniquely named database on the test server (a copy of `template` if given); dropped on exit."""
    _require_postgres()
    name = f"minsheng_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@cache
def _catalog() -> Any:
    from expectations.loader import load_catalog

    return load_catalog()


def _prepare(url: str) -> None:
    from warehouse.db import make_engine, upgrade
    from warehouse.dims import sync_dimensions

    eng = make_engine(url)
    try:
        upgrade(eng)
        sync_dimensions(eng, _catalog())
    finally:
        eng.dispose()


class _Templates:
    """Migrated, synced warehouses built once per session and copied for each test (much faster than
    migrating every test's database)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._sqlite: Path | None = None
        self._postgres: ExitStack | None = None
        self._postgres_name: str | None = None

    def sqlite(self) -> Path:
        if self._sqlite is None:
            path = self.directory / "template.sqlite"
            _prepare(f"sqlite:///{path}")
            self._sqlite = path
        return self._sqlite

    def postgres(self) -> str:
        if self._postgres_name is None:
            stack = ExitStack()
            url = stack.enter_context(fresh_postgres_database())
            self._postgres = stack
            _prepare(url)
            self._postgres_name = make_url(url).database
        assert self._postgres_name is not None
        return self._postgres_name

    def close(self) -> None:
        if self._postgres is not None:
            self._postgres.close()


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The real catalog (immutable, so one per session); modules testing another catalog override it."""
    return load_catalog()


@pytest.fixture(scope="session")
def _warehouse_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Templates]:
    templates = _Templates(tmp_path_factory.mktemp("warehouse-templates"))
    yield templates
    templates.close()


@pytest.fixture(params=BACKENDS)
def backend(request: Any) -> str:
    """The warehouse backend of this test case: sqlite or postgresql."""
    return str(request.param)


@pytest.fixture
def warehouse_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """URL of an empty warehouse database on the case's backend."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
        return
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def engine(backend: str, tmp_path: Path, _warehouse_templates: _Templates) -> Iterator[Engine]:
    """A fresh warehouse on the case's backend, migrated to head, dimensions synced from the catalog."""
    from warehouse.db import make_engine

    if backend == "sqlite":
        path = tmp_path / "engine.sqlite"
        shutil.copyfile(_warehouse_templates.sqlite(), path)
        eng = make_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()
        return
    with fresh_postgres_database(template=_warehouse_templates.postgres()) as url:
        eng = make_engine(url)
        yield eng
        eng.dispose()
