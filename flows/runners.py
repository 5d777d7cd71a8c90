"""The task runner for per-file work, chosen by MINSHENG_TASK_RUNNER (sequential | dask)."""

from __future__ import annotations

from typing import Any

from prefect.task_runners import ThreadPoolTaskRunner

from minsheng.settings import get_settings


def per_file_task_runner() -> Any:
    """A DaskTaskRunner on a cluster (MINSHENG_DASK_ADDRESS) or a local one; otherwise one file at a time, in
    discovery order, so a correction dropped after its original also loads after it."""
    settings = get_settings()
    if settings.task_runner != "dask":
        return ThreadPoolTaskRunner(max_workers=1)
    from prefect_dask import DaskTaskRunner

    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": settings.dask_workers, "threads_per_worker": 1,
                                          "processes": True, "dashboard_address": None})
