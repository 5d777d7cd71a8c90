"""End to end: a filled template and a broken one go through reader and loader; the report reads the warehouse."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import Engine, insert

from expectations.models import Catalog
from tasks.contracts import Drop, Verdict, outcome_for
from tasks.normalize import read_drop
from tasks.read import ReadLimits
from tasks.report import render_report
from tasks.report.data import report_data_from_warehouse
from tasks.report.sample_catalog import demo_catalog
from tasks.template import write_template
from warehouse.db import make_engine, upgrade
from warehouse.dims import sync_dimensions
from warehouse.load import load_drop
from warehouse.models import FactAlert, FactTargetStatus

CST = ZoneInfo("Asia/Shanghai")
AS_OF = dt.date(2021, 7, 10)


def _drop_template(catalog: Catalog, root: Path, slug: str, blank_row: int | None) -> Path:
    path = write_template(catalog, slug, root / "raw" / slug / "2021-06月报.xlsx", "2021-06")
    book = openpyxl.load_workbook(path)
    ws = book["填报"]
    for row in range(2, ws.max_row + 1):
        ws.cell(row, 5).value = 0.52 if ws.cell(row, 6).value == "万人" else 4.8
    if blank_row is not None:
        ws.cell(blank_row, 5).value = None
    book.save(path)
    return path


def _load(engine: Engine, catalog: Catalog, path: Path, slug: str, at: dt.datetime) -> None:
    frame, issues = read_drop(path, catalog, ReadLimits(), AS_OF)
    data = path.read_bytes()
    drop = Drop(path=path, department=slug, sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                mtime=path.stat().st_mtime, relative_name=path.name)
    load_drop(engine, drop, Verdict(outcome_for(issues), frame, issues), recorded_at=at)


def _status(target_id: str, as_of: dt.date, period: str, value: str, completion: str, stored_gap: str,
            light: str) -> dict[str, object]:
    return {"target_id": target_id, "county_code": "532300", "as_of": as_of, "period": period,
            "value": Decimal(value), "target": Decimal(13900), "completion_pct": Decimal(completion),
            "expected_pct": Decimal(50), "gap_points": Decimal(stored_gap), "light": light, "projection": None,
            "projection_low": None, "projection_high": None, "will_meet": False, "method": "linear",
            "computed_at": dt.datetime.combine(as_of, dt.time(8), tzinfo=CST)}


def _alert(fingerprint: str, opened: dt.datetime, resolved: dt.datetime | None, message: str) -> dict[str, object]:
    return {"fingerprint": fingerprint, "alert_class": "progress_lag", "kind": "progress_lag",
            "severity": "warning", "target_id": "income.urban_reemployment", "department": "hrss",
            "county_code": "532300", "period": "2021-06", "opened_at": opened, "updated_at": opened,
            "resolved_at": resolved, "escalation_level": 0, "message_zh": message, "message_en": message,
            "payload": {}, "last_notified_at": None}


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[tuple[Engine, Catalog, Path]]:
    catalog = demo_catalog()
    engine = make_engine(f"sqlite:///{tmp_path / 'warehouse.sqlite'}")
    upgrade(engine)
    sync_dimensions(engine, catalog)
    _load(engine, catalog, _drop_template(catalog, tmp_path, "hrss", None), "hrss",
          dt.datetime(2021, 7, 5, 10, tzinfo=CST))
    _load(engine, catalog, _drop_template(catalog, tmp_path, "health", 2), "health",
          dt.datetime(2021, 7, 6, 10, tzinfo=CST))
    with engine.begin() as conn:
        conn.execute(insert(FactTargetStatus), [
            _status("income.urban_reemployment", dt.date(2021, 6, 7), "2021-05", "4000", "28.8", "12.9", "yellow"),
            _status("income.urban_reemployment", dt.date(2021, 7, 5), "2021-06", "5200", "37.4", "12.6", "yellow"),
            _status("income.urban_reemployment", dt.date(2021, 7, 20), "2021-06", "9000", "64.7", "-14.7", "green"),
        ])
        conn.execute(insert(FactAlert), [
            _alert("open", dt.datetime(2021, 7, 5, 11, tzinfo=CST), None, "再就业进度落后序时12.6个百分点"),
            _alert("closed", dt.datetime(2021, 6, 7, 9, tzinfo=CST), dt.datetime(2021, 7, 1, 9, tzinfo=CST),
                   "上月的提醒，已解决"),
            _alert("later", dt.datetime(2021, 7, 12, 9, tzinfo=CST), None, "报告日之后才发出的提醒"),
        ])
    yield engine, catalog, tmp_path
    engine.dispose()


def test_report_reads_what_the_warehouse_knew_on_the_day(warehouse: tuple[Engine, Catalog, Path]) -> None:
    engine, catalog, root = warehouse
    out = root / "reports" / AS_OF.isoformat()
    data = report_data_from_warehouse(engine, catalog, AS_OF, data_dir=root, report_dir=out)
    status = data.status.set_index("target_id").loc["income.urban_reemployment"]
    assert status["as_of"] == dt.date(2021, 7, 5) and status["value"] == Decimal(5200)
    assert status["gap_points"] == Decimal("-12.6")  # completion − expected, whatever the stored sign
    rows = data.history[data.history["target_id"] == "income.urban_reemployment"]
    assert len(rows) == 10 and set(rows["value"]) == {Decimal(5200)}  # 0.52万人 per county
    assert data.alerts["message_zh"].tolist() == ["再就业进度落后序时12.6个百分点"]
    ledger = data.ledger.set_index("department")
    assert ledger.loc["hrss", "outcome"] == "load" and ledger.loc["health", "outcome"] == "quarantine"
    assert ledger.loc["hrss", "receipt_path"] == "../../raw/hrss/_receipts/2021-06月报.xlsx.md"
    assert str(ledger.loc["health", "quarantine_path"]).startswith("../../quarantine/")
    assert ("missing_value", 2) in set(zip(data.checks["rule"], data.checks["row"], strict=True))
    health_lag = data.lag[(data.lag["department"] == "health") & (data.lag["period"] == "2021-06")]
    assert len(health_lag) == 1 and set(health_lag["missing_targets"].iloc[0]) == {
        t.id for t in catalog.lead_targets("health")}
    html = render_report(data, catalog, out).read_text(encoding="utf-8")
    assert '<tr id="t-income.urban_reemployment" class="target yellow">' in html
    assert "再就业进度落后序时12.6个百分点" in html and "报告日之后才发出的提醒" not in html
    assert "2021-06月报.xlsx" in html and 'href="../../quarantine/' in html


def test_publish_report_task_writes_the_month_s_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tasks.pipeline.context import run_context
    from tasks.report.publish import publish_report_task

    monkeypatch.setenv("MINSHENG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MINSHENG_WAREHOUSE_URL", f"sqlite:///{tmp_path / 'warehouse.sqlite'}")
    ctx = run_context(AS_OF)
    upgrade(ctx.engine)
    sync_dimensions(ctx.engine, ctx.catalog)
    _load(ctx.engine, ctx.catalog, _drop_template(ctx.catalog, tmp_path, "hrss", None), "hrss",
          dt.datetime(2021, 7, 5, 10, tzinfo=CST))
    index = publish_report_task.fn(ctx)
    assert index == tmp_path.resolve() / "reports" / "2021-07-10" / "index.html"
    checks = (index.parent / "checks.html").read_text(encoding="utf-8")
    assert "2021-06月报.xlsx" in checks and 'href="../../raw/hrss/_receipts/' in checks
    assert "共收到文件 1 个" in index.read_text(encoding="utf-8")
    assert (index.parent / "departments" / "hrss.html").is_file()
    alone = publish_report_task.fn(ctx, department="hrss")
    assert alone.parent.name == "hrss" and "州人力资源和社会保障局" in alone.read_text(encoding="utf-8")
