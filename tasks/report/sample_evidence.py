"""The evidence side of the demo month: alerts, the drop ledger, checks and a lagging department.

The story: the department of the unreported target dropped a file that was quarantined (an unknown county and
a value that is not a number), so it is also late and its delivery-lag alert is escalated; another
department's file loaded with a warning; the red target has an open progress alert.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pandas as pd

from expectations.models import Catalog, Target


def _when(as_of: dt.date, days_before: int, hour: int) -> pd.Timestamp:
    return pd.Timestamp(as_of) - pd.Timedelta(days=days_before) + pd.Timedelta(hours=hour)


def _lagging(catalog: Catalog, reported: set[str]) -> tuple[str, list[str]]:
    """The department of the first unreported target (else the last lead department) and what it owes."""
    unreported = [t for t in catalog.targets if t.id not in reported]
    slug = unreported[0].lead_department if unreported else catalog.lead_department_slugs[-1]
    owed = [t.id for t in catalog.lead_targets(slug) if t.id not in reported]
    return slug, owed or [t.id for t in catalog.lead_targets(slug)]


def _ledger_row(dept: str, name: str, outcome: str, rows: int, seen: pd.Timestamp,
                sha: Callable[[str], str]) -> dict[str, Any]:
    digest = sha(f"{dept}/{name}")
    quarantined = outcome == "quarantine"
    return {"sha256": digest, "department": dept, "relative_name": name, "outcome": outcome,
            "first_seen": seen, "rows": rows, "receipt_path": f"../../raw/{dept}/_receipts/{name}.md",
            "quarantine_path": f"../../quarantine/{digest}_{name}" if quarantined else None,
            "file_path": None if quarantined else f"../../raw/{dept}/{name}"}


def _check(sha256: str, rule: str, severity: str, row: int | None, column: str | None, value: str | None,
           zh: str, en: str) -> dict[str, Any]:
    return {"sha256": sha256, "rule": rule, "severity": severity, "sheet": "填报", "row": row,
            "column": column, "value": value, "message_zh": zh, "message_en": en}


def evidence_frames(catalog: Catalog, as_of: dt.date, period: str, status: pd.DataFrame, red_target: Target,
                    sha: Callable[[str], str]) -> dict[str, pd.DataFrame]:
    """alerts, ledger, checks and lag frames for the demo month."""
    leads = catalog.lead_department_slugs
    lag_dept, owed = _lagging(catalog, set(status["target_id"]))
    ok_dept = leads[0]
    warn_dept = next((d for d in leads if d not in (ok_dept, lag_dept)), ok_dept)
    ledger = pd.DataFrame([
        _ledger_row(ok_dept, f"{period}月报.xlsx", "load", 33, _when(as_of, 6, 9), sha),
        _ledger_row(warn_dept, f"{period}进度表.xlsx", "load-with-warnings", 11, _when(as_of, 5, 15), sha),
        _ledger_row(lag_dept, f"{period}月报（初稿）.xlsx", "quarantine", 12, _when(as_of, 3, 10), sha),
    ])
    ok_sha, warn_sha, bad_sha = ledger["sha256"]
    checks = pd.DataFrame([
        _check(ok_sha, "skipped_total_row", "info", 14, None, "合计", "已跳过合计行", "skipped a total row"),
        _check(warn_sha, "target_missed", "warning", 4, "数值", None,
               "牟定县本月数值低于序时进度要求，已入库并提示", "Mouding is behind schedule: loaded, flagged"),
        _check(bad_sha, "header_found", "info", 2, None, None, "在第2行找到表头，已跳过标题行",
               "header found on row 2; the title row was skipped"),
        _check(bad_sha, "unknown_county", "critical", 5, "县市", "东华县",
               "县市“东华县”不在楚雄州县市名录中：请填写10县市名称或代码，全州数据填“全州”",
               "county 东华县 is unknown: write one of the 10 counties (name or code), or 全州"),
        _check(bad_sha, "bad_value", "critical", 7, "数值", "约5",
               "数值“约5”不是数字：请只填写数字（可带单位，如1.39万人）",
               "value 约5 is not a number: write a number, optionally with its unit (1.39万人)"),
    ])
    is_red = (status["target_id"] == red_target.id) & (status["county_code"] == catalog.prefecture_code)
    red_row = status[is_red]
    gap = red_row["gap_points"].iloc[0] if not red_row.empty else None
    gap_text = f"，低于序时进度{abs(gap)}个百分点" if gap is not None and not pd.isna(gap) else "，未达到目标"
    anomaly_target = next((t for t in catalog.targets if t.kind.value == "cumulative"), red_target)
    second_county = catalog.county_codes[1] if len(catalog.county_codes) > 1 else catalog.prefecture_code
    alerts = pd.DataFrame([
        _alert("A-1001", "progress_lag", "progress_lag", "warning", red_target.id,
               red_target.lead_department, catalog.prefecture_code, period, _when(as_of, 3, 11), None,
               f"{red_target.name_zh}{gap_text}，请牵头部门说明原因并提出整改措施"),
        _alert("A-1002", "anomaly", "jump", "warning", anomaly_target.id,
               anomaly_target.lead_department, second_county, period, _when(as_of, 4, 9), None,
               f"{anomaly_target.name_zh}本月增量为前三个月平均增量的4.8倍，请核实"),
        _alert("A-1003", "delivery_lag", "missing_delivery", "critical", None, lag_dept, None, period,
               _when(as_of, 2, 9), None, f"连续2个月未按时报送{period}月数据，已升级提醒"),
        _alert("A-1004", "data_quality", "quarantine", "critical", None, lag_dept, None, period,
               _when(as_of, 3, 10), None, f"文件“{period}月报（初稿）.xlsx”有2处严重问题，已隔离，未入库"),
        _alert("A-0990", "progress_lag", "progress_lag", "warning", anomaly_target.id,
               anomaly_target.lead_department, catalog.prefecture_code, period, _when(as_of, 40, 9),
               _when(as_of, 8, 9), "上月进度滞后，本月已恢复"),
    ])
    due = min(dt.date(as_of.year, as_of.month, 7), as_of - dt.timedelta(days=1))
    lag = pd.DataFrame([{"department": lag_dept, "period": period, "due_date": due,
                         "missing_targets": owed, "consecutive_misses": 2}])
    return {"alerts": alerts, "ledger": ledger, "checks": checks, "lag": lag}


def _alert(alert_id: str, klass: str, kind: str, severity: str, target_id: str | None, department: str,
           county: str | None, period: str, opened: pd.Timestamp, resolved: pd.Timestamp | None,
           message: str) -> dict[str, Any]:
    return {"id": alert_id, "class": klass, "kind": kind, "severity": severity, "target_id": target_id,
            "department": department, "county_code": county, "period": period, "opened_at": opened,
            "resolved_at": resolved, "message_zh": message}
