"""The demo's tick raises exactly the alerts of the story the demo encodes, and a second tick raises nothing.

The story (minsheng.demo_drops.DemoManifest): one department stopped reporting for the last two months, one
target runs far behind its time-proportional schedule, a couple of level targets miss in one county, and one
file is quarantined — and corrected a few days later, so by the as-of date nothing about it is still open.
Everything else in the generated data is ordinary (rates wobbling around their targets, counts growing
roughly linearly), so anything more would be noise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.testing.utilities import prefect_test_harness
from sqlalchemy import text

from expectations.loader import DEFAULT_CATALOG_DIR, load_catalog
from minsheng.demo_drops import DemoManifest, cast_demo, seed_demo_drops

PREFECTURE = "532300"


@dataclass(frozen=True)
class DemoRun:
    manifest: DemoManifest
    first: Any  # TickSummary of the demo tick
    second: Any  # TickSummary of the same tick run again
    alerts: list[dict[str, Any]]  # fact_alert after the first tick
    alerts_again: list[dict[str, Any]]
    ledger: list[Any]
    url: str


def _alerts(url: str) -> list[dict[str, Any]]:
    from tasks.pipeline.context import cached_engine
    from warehouse.evaluation import alert_rows

    return sorted(alert_rows(cached_engine(url)), key=lambda r: r["alert_id"])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    from flows.tick import tick
    from tasks.pipeline.context import cached_engine

    data = tmp_path_factory.mktemp("demo") / "data"
    manifest = seed_demo_drops(data / "raw", load_catalog())
    no_heartbeats = temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})
    with pytest.MonkeyPatch.context() as env, prefect_test_harness(), no_heartbeats:
        env.setenv("MINSHENG_DATA_DIR", str(data))
        env.setenv("MINSHENG_STABLE_SECONDS", "0")
        for name in ("MINSHENG_WAREHOUSE_URL", "MINSHENG_CATALOG_DIR", "MINSHENG_ALERT_URLS"):
            env.delenv(name, raising=False)
        first = tick(manifest.as_of)
        alerts = _alerts(first.warehouse_url)
        second = tick(manifest.as_of)
        with cached_engine(first.warehouse_url).connect() as conn:
            ledger = list(conn.execute(text("SELECT relative_name, status FROM drop_ledger")).all())
        yield DemoRun(manifest, first, second, alerts, _alerts(first.warehouse_url), ledger, first.warehouse_url)


def _previous_months(as_of: dt.date, count: int) -> list[str]:
    out, year, month = [], as_of.year, as_of.month
    for _ in range(count):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        out.append(f"{year}-{month:02d}")
    return sorted(out)


def test_the_demo_raises_exactly_its_story(demo: DemoRun) -> None:
    manifest = demo.manifest
    misses = cast_demo(load_catalog()).story.misses  # target → (county, months) of the level misses
    assert set(misses) == set(manifest.missed_targets)
    late_months = _previous_months(manifest.as_of, 2)  # the late department's last two months
    # No budget_burn: the good-air-days allowance is evaluated too, but 南华县's two months at 96.8% (after
    # January–April at 97.8–98.4%) use about 4 of its 10 non-good days by June, at 49.6% of the year: on pace.
    expected = {
        ("progress_lag", "behind_schedule", manifest.behind_target, PREFECTURE, None),
        *{("target_miss", "target_miss", target, county, None) for target, (county, _) in misses.items()},
        *{("delivery_lag", "missing_delivery", manifest.late_department, None, p) for p in late_months},
    }
    opened = {(r["alert_class"], r["kind"], r["target_id"] or r["department"], r["county_code"],
               r["period"] if r["alert_class"] == "delivery_lag" else None) for r in demo.alerts}
    assert opened == expected
    assert len(demo.alerts) == len(expected) == len(demo.first.alerts.opened)
    assert all(r["resolved_at"] is None for r in demo.alerts)


def test_the_second_miss_in_a_row_is_escalated_the_first_is_not(demo: DemoRun) -> None:
    lags = {r["period"]: r for r in demo.alerts if r["kind"] == "missing_delivery"}
    first, second = (lags[p] for p in sorted(lags))
    assert (first["escalation_level"], second["escalation_level"]) == (0, 1)
    assert "已连续1个月" in first["message_zh"] and "已连续2个月" in second["message_zh"]
    assert "supervision_office" in second["payload"]["_recipients"]


def test_the_quarantined_file_is_settled_by_its_correction(demo: DemoRun) -> None:
    quarantined = [name for name, status in demo.ledger if status == "quarantined"]
    assert quarantined == [f.relative_path.split("/", 1)[1] for f in demo.manifest.quarantined]
    assert not [r for r in demo.alerts if r["kind"] == "quarantined_file"]  # its correction was dropped later


def test_a_second_tick_opens_escalates_and_resolves_nothing(demo: DemoRun) -> None:
    alerts = demo.second.alerts
    assert (alerts.opened, alerts.escalated, alerts.resolved, alerts.updated) == ([], [], [], 0)
    assert demo.alerts_again == demo.alerts
    assert demo.second.ingest.results == []


def test_the_demo_data_itself_holds_no_anomaly(demo: DemoRun) -> None:
    """The detectors ran over every series of the demo and found nothing: no jump in a flat rate, no
    structural county difference, no rate legitimately stable flagged as copied forward."""
    from tasks.anomalies import anomalies
    from tasks.pipeline.context import cached_catalog, cached_engine
    from warehouse.evaluation import known_observations

    history = known_observations(cached_engine(demo.url), demo.manifest.as_of)
    found = anomalies(history, cached_catalog(DEFAULT_CATALOG_DIR), demo.manifest.as_of)
    assert found.empty, found[["kind", "target_id", "county_code", "period"]].to_string()
    assert len(history) > 3000
