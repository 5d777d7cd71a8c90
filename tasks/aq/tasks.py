"""Prefect task for an air-quality feed drop: one task per file, the derivation vectorised inside it."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.aq.derive import run_derivation
from tasks.aq.registry import CoUnit, StationRegistry
from tasks.contracts import NORMALIZED_COLUMNS, Drop, Severity, Verdict


def air_quality_verdict(drop: Drop, registry: StationRegistry, as_of: dt.date, co_unit: CoUnit | None = None,
                        places: int = 1) -> Verdict:
    """Read, check and derive a station-feed drop; its rows are the observations for the air targets.

    Any critical issue (unknown station, conflicting duplicates, undeclared or implausible CO unit, readings
    after `as_of`) quarantines the drop with no rows; each observation's note names the drop's sha256.
    """
    result = run_derivation(drop.path, registry, co_unit=co_unit, as_of=as_of)
    if any(i.severity == Severity.CRITICAL for i in result.issues):
        return Verdict(result.outcome, pd.DataFrame(columns=list(NORMALIZED_COLUMNS)), result.issues)
    rows = result.observations(drop_sha256=drop.sha256, source=drop.relative_name, places=places)
    return Verdict(result.outcome, rows, result.issues)


@task(name="derive-air-quality", cache_policy=NO_CACHE)
def derive_air_quality(drop: Drop, registry: StationRegistry, as_of: dt.date,
                       co_unit: CoUnit | None = None) -> Verdict:
    """Prefect wrapper of `air_quality_verdict`."""
    return air_quality_verdict(drop, registry, as_of, co_unit)
