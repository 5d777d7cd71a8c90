"""Describe the machine a bench ran on: absolute seconds mean nothing without it (and ratios little more)."""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
from importlib import metadata
from typing import Any

LIBRARIES = ("pandas", "pyarrow", "numpy", "great_expectations", "prefect", "prefect-dask", "dask", "distributed",
             "sqlalchemy", "psycopg", "openpyxl", "python-calamine")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _postgres_version(url: str | None) -> str | None:
    if url is None:
        return None
    from sqlalchemy import create_engine

    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            return str(conn.exec_driver_sql("SHOW server_version").scalar())
    except Exception:  # no server: the bench measured SQLite only
        return None
    finally:
        engine.dispose()


def load_average() -> list[float]:
    """1, 5 and 15-minute load averages: on a shared machine, the noise behind the figures."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def describe(pg_url: str | None = None) -> dict[str, Any]:
    """nproc, memory, CPU, OS, Python and library versions, SQLite and PostgreSQL versions, load average."""
    import psutil

    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    memory = psutil.virtual_memory()
    return {
        "nproc": os.cpu_count(), "cpu": _cpu_model(), "memory_gb": round(memory.total / 2**30, 1),
        "memory_available_gb": round(memory.available / 2**30, 1), "os": platform.platform(),
        "python": sys.version.split()[0], "libraries": versions, "sqlite": sqlite3.sqlite_version,
        "postgresql": _postgres_version(pg_url), "load_average": load_average(),
    }
