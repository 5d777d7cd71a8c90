"""What every benchmarked pipeline shares: a case to run, stage timings, peak memory and throwaway databases."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import resource
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
AS_OF = dt.date(2022, 1, 20)  # after the plan year's last reporting deadline: every 2021 period is open
SHARED_STAGES = ("read", "normalize", "validate")  # the same work whatever the warehouse
BACKEND_STAGES = ("discover", "load", "receipt", "curated")


@dataclass(frozen=True)
class Case:
    """One pipeline run: a drop of `rows` rows at `drop`, loaded into each warehouse of `backends`.

    `backends` maps a backend name (sqlite, postgresql) to a SQLAlchemy URL of an empty database; `workdir` is a
    scratch folder the pipeline owns (its inbox, quarantine and curated files).
    """

    impl: str  # minsheng | limit | naive
    drop: Path
    rows: int
    workdir: Path
    backends: dict[str, str]
    department: str
    as_of: dt.date = AS_OF

    def to_json(self) -> dict[str, Any]:
        return {"impl": self.impl, "drop": str(self.drop), "rows": self.rows, "workdir": str(self.workdir),
                "backends": self.backends, "department": self.department, "as_of": self.as_of.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Case:
        return cls(impl=data["impl"], drop=Path(data["drop"]), rows=int(data["rows"]), workdir=Path(data["workdir"]),
                   backends=dict(data["backends"]), department=data["department"],
                   as_of=dt.date.fromisoformat(data["as_of"]))


@dataclass
class RunResult:
    """Seconds per stage: `shared` once for the drop, `per_backend[name]` for each warehouse loaded."""

    impl: str
    shared: dict[str, float] = field(default_factory=dict)
    per_backend: dict[str, dict[str, float]] = field(default_factory=dict)
    outcome: str = ""  # load / load-with-warnings / quarantine
    rows_loaded: dict[str, int] = field(default_factory=dict)
    peak_rss_mb: float = 0.0
    memory_mb: dict[str, float] = field(default_factory=dict)  # stage (stage@backend) → VmHWM when it ended
    notes: list[str] = field(default_factory=list)

    def total(self, backend: str) -> float:
        """End-to-end seconds for one warehouse: the shared stages plus that warehouse's own."""
        return sum(self.shared.values()) + sum(self.per_backend.get(backend, {}).values())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunResult:
        return cls(**data)


class Stopwatch:
    """Times named stages into a dict: `with watch("read"): ...`; repeated names add up.

    With `memory`, the process's peak resident memory when each stage ends goes there too, keyed by the stage
    and `suffix` (e.g. "load@sqlite"): the first stage whose value jumps is where the peak comes from.
    """

    def __init__(self, into: dict[str, float], memory: dict[str, float] | None = None, suffix: str = "") -> None:
        self.into = into
        self.memory = memory
        self.suffix = suffix

    @contextlib.contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.into[stage] = round(self.into.get(stage, 0.0) + time.perf_counter() - started, 4)
            if self.memory is not None:
                self.memory[stage + self.suffix] = peak_rss_mb()


def peak_rss_mb() -> float:
    """This process's peak resident memory so far: VmHWM of its own address space.

    Not ru_maxrss: on Linux a spawned child's ru_maxrss starts at its parent's high-water mark (exec keeps the
    larger of the two), so a child of a big parent would report the parent's peak as its own.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)  # kB
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux, bytes on macOS


def pg_admin_url() -> str:
    """The PostgreSQL server the bench creates its databases on (MINSHENG_BENCH_PG_URL overrides)."""
    return os.environ.get("MINSHENG_BENCH_PG_URL", DEFAULT_PG_URL)


def postgres_available(url: str | None = None) -> bool:
    """Whether the bench's PostgreSQL server answers."""
    engine = create_engine(url or pg_admin_url(), connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return True
    except Exception:  # any failure to connect means: measure SQLite only
        return False
    finally:
        engine.dispose()


@contextlib.contextmanager
def fresh_database(backend: str, workdir: Path, label: str) -> Iterator[str]:
    """An empty database for one run: a new SQLite file, or a new PostgreSQL database dropped on exit."""
    if backend == "sqlite":
        path = workdir / f"{label}.sqlite"
        for stale in workdir.glob(f"{label}.sqlite*"):
            stale.unlink()
        yield f"sqlite:///{path}"
        return
    admin_url = make_url(pg_admin_url())
    name = f"minsheng_bench_{label}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
