"""A labelled year, replayed month by month through the real tick (G14 "done when").

Three departments of the real catalog report six of its targets in small long-format CSVs. Faults are injected
at known months; after each tick (as of the 10th of the next month) exactly the alerts the story calls for are
open, exactly those whose cause went away are resolved, each notice reaches a real HTTP receiver once, and
re-running the same tick changes and sends nothing.

The story (files are dropped on the 3rd of the month after their data unless said otherwise):
- culture_tourism is late: nothing for May and June until 2 August → May's lag opens on 10 June, June's on
  10 July already escalated (second miss in a row), both resolve on 10 August;
- ecology_env skips September and never sends it → opens on 10 November (September's data is due on
  13 October because of the National Day holiday, so the 10 October tick says nothing), stays open;
- hrss slips a unit in July (养老保险参保 181.56 under 人 where it meant 万人) → a data-quality alert, and no
  target-miss alert (the number is in doubt);
- hrss sends an August file whose year-to-date jobs fell (9500 after 18500) and that revises July's slip: the
  loader quarantines it whole (layer: load, reason cumulative_decrease; the anomaly layer never sees the
  value, and the July revision in it is not loaded either) → a quarantine alert and August's delivery lag;
  the corrected file (14 September) resolves all three on 10 October;
- ecology_env's 元谋县 reports PM2.5 far below its peers in May and June → one peer-outlier alert (not one a
  month), resolved when July is back in line;
- new urban jobs slows from May: yellow behind schedule on 10 August, red (escalated) on 10 November, and on
  10 January the year is over without the target: escalated to an annual target miss.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.testing.utilities import prefect_test_harness
from sqlalchemy import text

from expectations.loader import DEFAULT_CATALOG_DIR

TZ = ZoneInfo("Asia/Shanghai")
PREF = "532300"
JOBS, RATE = "employment.new_urban_jobs", "employment.urban_unemployment_rate"
PENSION, PM25 = "social_security.pension_insured", "ecology.pm25_concentration"
SHOWS, TOILETS = "culture.opera_to_countryside_shows", "culture.tourist_toilets"
PM25_BASE = {"532301": 26, "532322": 22, "532323": 24, "532324": 23, "532325": 21, "532326": 25, "532327": 20,
             "532328": 22, "532329": 27, "532331": 24}
OUTLIER = "532328"  # 元谋县
JOBS_YTD = [3400, 6800, 10200, 13500, 16000, 17500, 18500, 19500, 20000, 20500, 21000, 21500]
RATES = ["4.8", "4.7", "4.9", "4.8", "4.7", "4.8", "4.9", "4.8", "4.7", "4.8", "4.9", "4.8"]
TOILETS_YTD = [3, 6, 10, 13, 16, 19, 22, 25, 29, 32, 35, 38]
Row = tuple[str, str, str, str, str]  # 指标编码, 县市, 月份, 数值, 单位


def p(month: int) -> str:
    return f"2021-{month:02d}"


def rows_of(department: str, month: int) -> list[Row]:
    """The true rows a department reports for a month."""
    if department == "hrss":
        return [(JOBS, "全州", p(month), str(JOBS_YTD[month - 1]), "人"),
                (RATE, "全州", p(month), RATES[month - 1], "%"),
                (PENSION, "全州", p(month), str(1_811_000 + 1_187 * month), "人")]
    if department == "culture_tourism":
        return [(SHOWS, "全州", p(month), str(85 * month), "场"),
                (TOILETS, "全州", p(month), str(TOILETS_YTD[month - 1]), "个")]
    wiggle = [((month * 7 + i) % 5 - 2) * 0.4 for i in range(len(PM25_BASE))]
    values = {code: f"{base + w:.1f}" for (code, base), w in zip(PM25_BASE.items(), wiggle, strict=True)}
    if month in (5, 6):
        values[OUTLIER] = {5: "7.5", 6: "7.8"}[month]
    return [(PM25, code, p(month), v, "微克/立方米") for code, v in values.items()]


@dataclass(frozen=True)
class Drop:
    department: str
    name: str
    rows: list[Row]
    dropped: dt.datetime


def drops_before(as_of: dt.date) -> list[Drop]:
    """Every file the departments have dropped by `as_of` (the tick copies the new ones into the inbox)."""
    july_pension = rows_of("hrss", 7)[2:]  # the true July row, sent again as a revision
    out = []
    for month in range(1, 13):
        when = dt.datetime(2021 + (month == 12), month % 12 + 1, 3, 9, 30, tzinfo=TZ)
        hrss = rows_of("hrss", month)
        if month == 7:
            hrss = [*hrss[:2], (PENSION, "全州", p(7), "181.56", "人")]  # 万人 figures under the header 人
        if month == 8:
            hrss = [(JOBS, "全州", p(8), "9500", "人"), *hrss[1:], *july_pension]  # 19500 typed as 9500
        out.append(Drop("hrss", f"{p(month)}_hrss.csv", hrss, when))
        if month != 9:  # ecology_env skips September and never sends it
            out.append(Drop("ecology_env", f"{p(month)}_ecology.csv", rows_of("ecology_env", month), when))
        if month == 7:  # culture_tourism sends nothing for May and June, then all three months on 2 August
            late = [r for m in (5, 6, 7) for r in rows_of("culture_tourism", m)]
            out.append(Drop("culture_tourism", "2021-05至07_culture.csv", late, when.replace(day=2)))
        elif month not in (5, 6):
            out.append(Drop("culture_tourism", f"{p(month)}_culture.csv", rows_of("culture_tourism", month), when))
    correction = [*rows_of("hrss", 8), *july_pension]
    out.append(Drop("hrss", "2021-08_hrss_更正.csv", correction, dt.datetime(2021, 9, 14, 16, 0, tzinfo=TZ)))
    return [d for d in out if d.dropped.date() <= as_of]


@dataclass(frozen=True)
class A:
    """An alert as the test names it."""

    alert_class: str
    kind: str
    subject: str  # target id, or department slug
    county: str | None
    period: str | None
    level: int = 0


LAG, PROG, DQ, AN, MISS = "delivery_lag", "progress_lag", "data_quality", "anomaly", "target_miss"
CULTURE_MAY = A(LAG, "missing_delivery", "culture_tourism", None, p(5))
CULTURE_JUNE = A(LAG, "missing_delivery", "culture_tourism", None, p(6), 1)
OUTLIER_MAY = A(AN, "peer_outlier", PM25, OUTLIER, p(5))
SLIP = A(DQ, "unit_slip", PENSION, PREF, p(7))
QUARANTINE = A(DQ, "quarantined_file", "hrss", None, None)
HRSS_AUG = A(LAG, "missing_delivery", "hrss", None, p(8))
ECO_SEPT = A(LAG, "missing_delivery", "ecology_env", None, p(9))


def behind(month: int, level: int) -> A:
    return A(PROG, "behind_schedule", JOBS, PREF, p(month), level)


# as_of → (open after the tick, resolved by the tick); periods and levels are the alert's current state
STORY: dict[dt.date, tuple[set[A], set[A]]] = {
    dt.date(2021, 2, 10): (set(), set()),
    dt.date(2021, 3, 10): (set(), set()),
    dt.date(2021, 4, 10): (set(), set()),
    dt.date(2021, 5, 10): (set(), set()),
    dt.date(2021, 6, 10): ({CULTURE_MAY, OUTLIER_MAY}, set()),
    dt.date(2021, 7, 10): ({CULTURE_MAY, CULTURE_JUNE, A(AN, "peer_outlier", PM25, OUTLIER, p(6))}, set()),
    dt.date(2021, 8, 10): ({SLIP, behind(7, 0)},
                           {CULTURE_MAY, CULTURE_JUNE, A(AN, "peer_outlier", PM25, OUTLIER, p(6))}),
    dt.date(2021, 9, 10): ({behind(7, 0), SLIP, QUARANTINE, HRSS_AUG}, set()),
    dt.date(2021, 10, 10): ({behind(9, 0)}, {SLIP, QUARANTINE, HRSS_AUG}),
    dt.date(2021, 11, 10): ({behind(10, 1), ECO_SEPT}, set()),
    dt.date(2021, 12, 10): ({behind(11, 1), ECO_SEPT}, set()),
    dt.date(2022, 1, 10): ({A(MISS, "target_miss", JOBS, PREF, p(12), 2), ECO_SEPT}, set()),
}


class Receiver(BaseHTTPRequestHandler):
    """A webhook that keeps every JSON body it is sent (Apprise json:// posts title, message, type)."""

    received: list[dict[str, Any]] = []
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.lock:
            self.received.append({"path": self.path, **body})
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        del format, args


@dataclass
class TickRecord:
    as_of: dt.date
    summary: Any
    rerun: Any
    alerts: list[dict[str, Any]]  # fact_alert after the tick
    alerts_after_rerun: list[dict[str, Any]]
    notices: list[dict[str, Any]] = field(default_factory=list)
    notices_on_rerun: list[dict[str, Any]] = field(default_factory=list)


def scenario_catalog(directory: Path) -> Path:
    """The real catalog with only the six targets the scenario's departments report (a department is
    expected to deliver every target it leads, so the other ~180 would all be late)."""
    shutil.copytree(DEFAULT_CATALOG_DIR, directory, ignore=shutil.ignore_patterns("targets"))
    wanted = {JOBS, RATE, PENSION, PM25, SHOWS, TOILETS}
    chosen = [t for f in sorted((DEFAULT_CATALOG_DIR / "targets").glob("*.yaml"))
              for t in yaml.safe_load(f.read_text(encoding="utf-8"))["targets"] if t["id"] in wanted]
    assert {t["id"] for t in chosen} == wanted
    (directory / "targets").mkdir()
    (directory / "targets" / "scenario.yaml").write_text(
        yaml.safe_dump({"targets": chosen}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return directory


def write_drop(raw: Path, drop: Drop) -> None:
    path = raw / drop.department / drop.name
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["指标编码,县市,月份,数值,单位", *(",".join(r) for r in drop.rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    stamp = drop.dropped.timestamp()
    os.utime(path, (stamp, stamp))


def fact_alerts(url: str) -> list[dict[str, Any]]:
    from tasks.pipeline.context import cached_engine
    from warehouse.evaluation import alert_rows

    return sorted(alert_rows(cached_engine(url)), key=lambda r: r["alert_id"])


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[TickRecord]]:
    """Replay the year once: before each tick copy in the files dropped since the last one, tick, tick again."""
    from flows.tick import tick

    root = tmp_path_factory.mktemp("scenario")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"json://127.0.0.1:{server.server_address[1]}/hook"
    records: list[TickRecord] = []
    # heartbeats guard long-lived workers against crashes; here each flow would wait up to 1 s for the
    # heartbeat thread on exit
    no_heartbeats = temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})
    try:
        with pytest.MonkeyPatch.context() as env, prefect_test_harness(), no_heartbeats:
            env.setenv("MINSHENG_DATA_DIR", str(root / "data"))
            env.setenv("MINSHENG_CATALOG_DIR", str(scenario_catalog(root / "catalog")))
            env.setenv("MINSHENG_STABLE_SECONDS", "0")
            env.setenv("MINSHENG_ALERT_URLS", json.dumps({"*": [url]}))
            env.delenv("MINSHENG_WAREHOUSE_URL", raising=False)
            written: set[str] = set()
            for as_of in STORY:
                for drop in drops_before(as_of):
                    if drop.name not in written:
                        write_drop(root / "data" / "raw", drop)
                        written.add(drop.name)
                seen = len(Receiver.received)
                summary = tick(as_of)
                alerts = fact_alerts(summary.warehouse_url)
                heard = len(Receiver.received)
                rerun = tick(as_of)
                records.append(TickRecord(as_of, summary, rerun, alerts, fact_alerts(summary.warehouse_url),
                                          Receiver.received[seen:heard], Receiver.received[heard:]))
    finally:
        server.shutdown()
        server.server_close()
    yield records


def named(row: dict[str, Any]) -> A:
    return A(row["alert_class"], row["kind"], row["target_id"] or row["department"], row["county_code"],
             row["period"], row["escalation_level"])


@pytest.mark.parametrize("index", range(len(STORY)), ids=[str(d) for d in STORY])
def test_each_tick_leaves_exactly_the_story_open(year: list[TickRecord], index: int) -> None:
    record = year[index]
    expected_open, expected_resolved = STORY[record.as_of]
    open_now = {named(r) for r in record.alerts if r["resolved_at"] is None}
    assert open_now == expected_open
    stamp = dt.datetime.combine(record.as_of, dt.time(23, 59, 59), TZ)
    resolved_now = {named(r) for r in record.alerts if r["resolved_at"] == stamp}
    assert {(a.alert_class, a.kind, a.subject, a.county) for a in resolved_now} == \
        {(a.alert_class, a.kind, a.subject, a.county) for a in expected_resolved}
    assert len(record.alerts) == len({r["alert_id"] for r in record.alerts})


def test_rerunning_a_tick_changes_and_sends_nothing(year: list[TickRecord]) -> None:
    for record in year:
        alerts = record.rerun.alerts
        assert (alerts.opened, alerts.escalated, alerts.resolved, alerts.updated) == ([], [], [], 0), record.as_of
        assert record.alerts_after_rerun == record.alerts, record.as_of
        assert record.notices_on_rerun == [], record.as_of
        assert record.rerun.ingest.results == [], record.as_of


def test_the_cumulative_drop_is_the_loaders_to_quarantine(year: list[TickRecord]) -> None:
    """The year-to-date decrease never reaches the warehouse (G13: the loader compares with what it holds
    and quarantines the file whole), so the anomaly layer's ytd_decrease never fires; the department hears
    about it through the quarantine alert, whose message names the rule."""
    from tasks.pipeline.context import cached_engine

    url = year[-1].summary.warehouse_url
    with cached_engine(url).connect() as conn:
        ledger = conn.execute(text("SELECT relative_name, status, reason_codes FROM drop_ledger "
                                   "WHERE status != 'loaded'")).all()
        jobs_aug = conn.execute(text("SELECT value_text FROM fact_observation WHERE target_id = :t AND "
                                     "period = '2021-08'"), {"t": JOBS}).scalars().all()
    assert [(r.relative_name, r.status) for r in ledger] == [("2021-08_hrss.csv", "quarantined")]
    codes = ledger[0].reason_codes
    assert (json.loads(codes) if isinstance(codes, str) else codes) == ["cumulative_decrease"]
    assert jobs_aug == ["19500"]  # only the corrected value was ever stored
    kinds = {r["kind"] for r in year[-1].alerts}
    assert "ytd_decrease" not in kinds
    quarantine = next(r for r in year[-1].alerts if r["kind"] == "quarantined_file")
    assert "cumulative_decrease" in quarantine["message_zh"] and "2021-08_hrss.csv" in quarantine["message_zh"]


def test_each_notice_reaches_the_webhook_once_with_its_numbers(year: list[TickRecord]) -> None:
    for record in year:
        alerts = record.summary.alerts
        titles = [n["title"] for n in record.notices]
        assert all(n["path"] == "/hook" for n in record.notices)
        expected = ([f"【预警】{t}" for t in alerts.opened] + [f"【升级】{t}" for t in alerts.escalated]
                    + [f"【已解决】{t}" for t in alerts.resolved])
        assert sorted(titles) == sorted(expected), record.as_of
        assert alerts.notices_sent == len(record.notices) and alerts.notices_failed == 0
    by_tick = {r.as_of: r.notices for r in year}
    slip = next(n for n in by_tick[dt.date(2021, 8, 10)] if "数据质量问题" in n["title"])
    assert slip["title"] == "【预警】基本养老保险参保（楚雄州）2021年7月数据质量问题"
    assert "181.56人" in slip["message"] and "1/1万" in slip["message"] and slip["type"] == "warning"
    fixed = [n for n in by_tick[dt.date(2021, 10, 10)] if n["title"].startswith("【已解决】")]
    assert len(fixed) == 3 and all("原因已消除" in n["message"] and n["type"] == "success" for n in fixed)
    red = next(n for n in by_tick[dt.date(2021, 11, 10)] if n["title"].startswith("【升级】"))
    assert "落后32.1个百分点" in red["title"] and "20500人" in red["message"] and "40000人" in red["message"]
    june = next(n for n in by_tick[dt.date(2021, 7, 10)] if "2021年6月数据逾期" in n["title"])
    assert "州政府督查室" in june["message"] and "已连续2个月" in june["message"]
