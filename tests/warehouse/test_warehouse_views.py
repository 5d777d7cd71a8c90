"""The BI contract: the views answer the same on both backends, and every example in docs/bi.md runs."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, text
from wh_helpers import CHUXIONG, JOBS, LUFENG, PREFECTURE, SHUANGBAI, T0, UNEMPLOYMENT, catalog, frame, load_rows

from warehouse.models import FactAlert, FactTargetStatus
from warehouse.views import BI_VIEWS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "bi.md"
AT = dt.datetime(2021, 7, 10, 2, tzinfo=dt.UTC)


def _status(target: str, county: str, as_of: dt.date, period: str, light: str, completion: str | None,
            expected: str | None, value: str = "1") -> dict[str, Any]:
    def dec(v: str | None) -> Decimal | None:
        return None if v is None else Decimal(v)

    gap = None if completion is None or expected is None else Decimal(expected) - Decimal(completion)
    return {"target_id": target, "county_code": county, "as_of": as_of, "period": period, "value": Decimal(value),
            "target": Decimal("100"), "completion_pct": dec(completion), "expected_pct": dec(expected),
            "gap_points": gap, "light": light, "projection": None, "projection_low": None, "projection_high": None,
            "will_meet": None if completion is None else Decimal(completion) >= Decimal(expected or "0"),
            "method": "linear", "computed_at": AT}


@pytest.fixture
def evaluated(engine: Engine) -> Engine:
    """A warehouse with statuses (two evaluation dates) and alerts (one resolved)."""
    june, july = dt.date(2021, 6, 10), dt.date(2021, 7, 10)
    rows = [
        _status(JOBS, PREFECTURE, june, "2021-05", "green", "40", "41.7"),
        _status(JOBS, PREFECTURE, july, "2021-06", "red", "20", "50", value="4000"),
        _status(JOBS, CHUXIONG, july, "2021-06", "green", "60", "50", value="1000"),
        _status(JOBS, LUFENG, july, "2021-06", "yellow", "50", "50", value="3000"),
        _status(UNEMPLOYMENT, PREFECTURE, july, "2021-06", "green", None, None, value="4.2"),
    ]
    with engine.begin() as conn:
        conn.execute(insert(FactTargetStatus), rows)
        alert = {"alert_class": "progress_lag", "kind": "behind_schedule", "severity": "critical",
                 "target_id": JOBS, "department": "hrss", "county_code": PREFECTURE, "period": "2021-06",
                 "opened_at": AT, "updated_at": AT, "resolved_at": None, "escalation_level": 1,
                 "message_zh": "城镇新增就业落后序时进度", "message_en": "new urban jobs behind schedule",
                 "payload": {"gap_points": "30"}}
        conn.execute(insert(FactAlert), [
            {**alert, "fingerprint": "f-open"},
            {**alert, "fingerprint": "f-old", "resolved_at": AT + dt.timedelta(days=1)},
        ])
    return engine


def _rows(engine: Engine, sql: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql)))


def test_target_progress_takes_the_latest_status_with_labels(evaluated: Engine) -> None:
    rows = {(r.target_id, r.county_code): r for r in _rows(evaluated, "SELECT * FROM v_target_progress")}
    assert len(rows) == 4
    jobs = rows[(JOBS, PREFECTURE)]
    assert (jobs.period, jobs.light, jobs.light_zh, jobs.schedule, jobs.schedule_zh) == (
        "2021-06", "red", "红", "behind", "欠序时")
    assert jobs.department == catalog().target(JOBS).lead_department and jobs.county_name_zh == "楚雄州"
    assert jobs.target_name_zh == catalog().target(JOBS).name_zh and jobs.department_name_zh
    assert Decimal(str(jobs.gap_points)) == 30
    assert (rows[(JOBS, CHUXIONG)].schedule_zh, rows[(JOBS, LUFENG)].schedule_zh) == ("超序时", "达序时")
    assert rows[(UNEMPLOYMENT, PREFECTURE)].schedule is None


def test_department_scorecard_counts_every_catalog_target(evaluated: Engine) -> None:
    lead = catalog().target(JOBS).lead_department
    card = _rows(evaluated, f"SELECT * FROM v_department_scorecard WHERE department = '{lead}'")[0]
    led = [t for t in catalog().targets if t.lead_department == lead]
    assert card.targets_total == len(led)
    assert (card.red_count, card.behind_count, card.ahead_count, card.on_schedule_count) == (1, 1, 0, 0)
    assert card.green_count == 1 and card.grey_count == len(led) - 2  # unemployment green, the rest no data
    assert card.green_count + card.yellow_count + card.red_count + card.grey_count == card.targets_total


def test_county_breakdown_compares_counties_with_the_prefecture(evaluated: Engine) -> None:
    sql = f"SELECT * FROM v_county_breakdown WHERE target_id = '{JOBS}'"
    rows = {r.county_code: r for r in _rows(evaluated, sql)}
    assert set(rows) == {CHUXIONG, LUFENG}
    assert Decimal(str(rows[CHUXIONG].prefecture_value)) == 4000
    additive = catalog().target(JOBS).additive
    share = rows[CHUXIONG].share_of_prefecture_pct
    assert (Decimal(str(share)) == 25) if additive else share is None


def test_open_alerts_show_only_unresolved_alerts_with_names(evaluated: Engine) -> None:
    rows = _rows(evaluated, "SELECT * FROM v_open_alerts")
    assert [r.fingerprint for r in rows] == ["f-open"]
    assert rows[0].severity_zh == "严重" and rows[0].county_name_zh == "楚雄州" and rows[0].department_name_zh


def test_observation_views_split_current_and_history(engine: Engine) -> None:
    first = frame([(JOBS, SHUANGBAI, "2021-03", "10")])
    second = frame([(JOBS, SHUANGBAI, "2021-03", "12")])
    load_rows(engine, first, name="a.csv")
    load_rows(engine, second, T0 + dt.timedelta(1), "b.csv")
    history = _rows(engine, "SELECT value_text, is_current, source_file FROM v_observation_history "
                            "ORDER BY observation_id")
    assert [tuple(r) for r in history] == [("10", 0, "a.csv"), ("12", 1, "b.csv")]
    assert [r.value_text for r in _rows(engine, "SELECT value_text FROM v_observation_current")] == ["12"]


def _doc_queries() -> list[str]:
    blocks = re.findall(r"```sql\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    return [b.strip().rstrip(";") for b in blocks if not re.search(r":[A-Za-z_]\w*", b)]


def test_docs_describe_every_view_and_their_examples_run(evaluated: Engine) -> None:
    doc = DOCS.read_text(encoding="utf-8")
    for view in BI_VIEWS:
        assert f"### `{view}`" in doc, view
        with evaluated.connect() as conn:
            columns = conn.execute(text(f"SELECT * FROM {view} WHERE 1 = 0")).keys()
        for column in columns:
            assert f"| `{column}` |" in doc.split(f"### `{view}`")[1].split("\n### ")[0], (view, column)
    queries = _doc_queries()
    assert len(queries) >= 4
    behind = None
    for sql in queries:
        rows = _rows(evaluated, sql)
        if "schedule = 'behind'" in sql:
            behind = rows
    assert behind is not None and [r.target_id for r in behind] == [JOBS]
