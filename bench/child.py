"""Run one pipeline on one drop in a fresh process, so its peak memory is its own and imports are not shared.

    python -m bench.child '<case as JSON>' [--profile out.prof]

prints the RunResult as JSON on its last stdout line. With --profile the run is wrapped in cProfile and the stats
are written to the given file (for `bench.profile`).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Case, RunResult, peak_rss_mb

REPO = Path(__file__).resolve().parent.parent


def _quiet_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


class MemoryGuardError(RuntimeError):
    """A child passed the memory guard and was stopped before it could starve the shared machine."""

    def __init__(self, impl: str, rss_mb: float, limit_mb: float) -> None:
        super().__init__(f"{impl}: stopped at {rss_mb:.0f} MB resident, above the bench's guard of {limit_mb:.0f} MB")
        self.rss_mb = rss_mb


def run_child(case: Case, profile: Path | None = None, timeout: float = 3600,
              memory_limit_mb: float | None = None) -> RunResult:
    """Run `case` in a new interpreter and return its result (peak RSS included).

    With `memory_limit_mb` the child's resident memory is watched and the child is killed above it
    (MemoryGuardError): other people's work runs on the same machine.
    """
    import psutil

    command = [sys.executable, "-m", "bench.child", json.dumps(case.to_json())]
    if profile is not None:
        command += ["--profile", str(profile)]
    # Output goes to files, not pipes: a chatty child (GX progress bars) would block on a full pipe while we poll.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(command, stdout=out, stderr=err, text=True, cwd=REPO, env=_quiet_environment())
        watched = psutil.Process(proc.pid)
        started, highest = time.monotonic(), 0.0
        while proc.poll() is None:
            with contextlib.suppress(psutil.Error):
                highest = max(highest, watched.memory_info().rss / 2**20)
            stop: Exception | None = None
            if memory_limit_mb is not None and highest > memory_limit_mb:
                stop = MemoryGuardError(case.impl, highest, memory_limit_mb)
            elif time.monotonic() - started > timeout:
                stop = TimeoutError(f"bench child {case.impl} on {case.drop.name} ran longer than {timeout:.0f} s")
            if stop is not None:
                proc.kill()
                proc.wait()
                raise stop
            time.sleep(0.25)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise RuntimeError(f"bench child {case.impl} on {case.drop.name} failed ({proc.returncode}):\n{stderr[-4000:]}")
    return RunResult.from_json(json.loads(stdout.strip().splitlines()[-1]))


def _warm_imports(impl: str) -> None:
    # Library imports (GX alone takes seconds) are paid once per worker process, not per drop: keep them out of
    # every pipeline's stage timings alike. minsheng's process-wide GX context is created here for the same reason.
    import pandas  # noqa: F401
    import pyarrow.dataset  # noqa: F401
    import sqlalchemy  # noqa: F401

    if impl != "limit":  # the limit never imports GX
        import great_expectations  # noqa: F401
    if impl == "minsheng":
        from expectations.gx_runtime import gx_context

        gx_context()


def _run(case: Case) -> RunResult:
    _warm_imports(case.impl)
    if case.impl == "minsheng":
        from bench import minsheng_run as impl
    elif case.impl == "limit":
        from bench import limit as impl  # type: ignore[no-redef]
    elif case.impl == "naive":
        from bench import naive as impl  # type: ignore[no-redef]
    else:
        raise ValueError(f"unknown pipeline {case.impl!r}: minsheng, limit or naive")
    return impl.run(case)


def main(argv: list[str]) -> dict[str, Any]:
    case = Case.from_json(json.loads(argv[0]))
    load = [round(x, 2) for x in os.getloadavg()]  # the shared machine's noise behind this run's seconds
    if len(argv) >= 3 and argv[1] == "--profile":
        import cProfile

        profiler = cProfile.Profile()
        result = profiler.runcall(_run, case)
        profiler.dump_stats(argv[2])
    else:
        result = _run(case)
    result.peak_rss_mb = peak_rss_mb()
    result.notes.append(f"load average at start: {load}")
    return result.to_json()


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
