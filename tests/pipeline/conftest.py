"""Fixtures for flow-level tests: one Prefect API for the session, and a fresh data directory per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL
from prefect.testing.utilities import prefect_test_harness


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """A temporary Prefect API (its own database) shared by the session's flow runs; yields its URL."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    with prefect_test_harness(server_startup_timeout=180):
        yield str(PREFECT_API_URL.value())


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_api: str) -> Path:
    """An empty minsheng data directory (SQLite warehouse inside), with no stability wait for test files."""
    root = tmp_path / "data"
    (root / "raw").mkdir(parents=True)
    monkeypatch.setenv("MINSHENG_DATA_DIR", str(root))
    monkeypatch.setenv("MINSHENG_STABLE_SECONDS", "0")
    monkeypatch.delenv("MINSHENG_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("MINSHENG_TASK_RUNNER", raising=False)
    return root
