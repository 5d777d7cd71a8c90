"""The evidence half of a report page: lagging departments, open alerts, quarantined files and their checks.

Links to drop files and receipts come from the data, relative to the report folder; `link` refuses anything
that is not a plain relative path (no scheme, no absolute path), so a file name can never become a script URL.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import quote, urlsplit

import pandas as pd

from expectations.models import Catalog
from tasks.report import fmt

SEVERITY_ORDER = {"critical": 0, "error": 0, "warning": 1, "info": 2}
SEVERITY_ZH = {"critical": "严重", "error": "严重", "warning": "警告", "info": "提示"}
OUTCOME_ZH = {
    "load": "已入库",
    "load-with-warnings": "已入库（有提示）",
    "quarantine": "已隔离",
    "ignore": "已忽略",
}
PROBLEM_OUTCOMES = ("quarantine", "load-with-warnings")
PLAN_TIMEZONE = "Asia/Shanghai"
CLASS_ZH = {
    "data_quality": "数据质量", "delivery_lag": "逾期未报", "progress_lag": "进度滞后",
    "target_miss": "未达目标", "anomaly": "数据异常",
}
KIND_ZH = {"progress": "进度滞后", "missing": "逾期未报", "delivery": "逾期未报", "anomaly": "数据异常",
           "quarantine": "文件隔离", "target": "未达目标", "budget": "余量告急", "milestone": "节点逾期"}


def alert_label(alert_class: Any, kind: Any) -> str:
    """A Chinese name for an alert: from its class (progress_lag → 进度滞后), else its kind's first word."""
    klass, text = fmt.text(alert_class), fmt.text(kind)
    return CLASS_ZH.get(klass) or KIND_ZH.get(text.split("_")[0], text)


def link(path: Any, prefix: str = "") -> str | None:
    """A safe relative href for a path given in the data, or None when there is none or it is not relative."""
    if fmt.is_missing(path) or not str(path).strip():
        return None
    text = str(path).strip().replace("\\", "/")
    parts = urlsplit(text)
    if parts.scheme or parts.netloc or text.startswith("/") or re.match(r"^[A-Za-z]:", text):
        return None
    return quote(prefix + text, safe="/")


def drop_anchor(sha256: Any) -> str:
    """The id of a drop's section on the checks page."""
    return "drop-" + re.sub(r"[^0-9a-f]", "", str(sha256).lower())[:16]


def local_times(values: pd.Series) -> pd.Series:
    """Timestamps as naive plan-local times: aware ones converted to Asia/Shanghai, naive ones taken as local."""
    def one(value: Any) -> Any:
        if fmt.is_missing(value):
            return pd.NaT
        stamp = pd.Timestamp(value)
        return stamp.tz_convert(PLAN_TIMEZONE).tz_localize(None) if stamp.tzinfo is not None else stamp

    return pd.to_datetime(values.astype(object).map(one), errors="coerce")


def open_alerts(alerts: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Alerts open at the end of the report date (plan time): opened by then, not resolved by then."""
    end = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    opened, resolved = local_times(alerts["opened_at"]), local_times(alerts["resolved_at"])
    is_open = (opened.isna() | (opened < end)) & (resolved.isna() | (resolved >= end))
    chosen = alerts[is_open.to_numpy()]
    rank = chosen["severity"].astype(str).str.lower().map(SEVERITY_ORDER).fillna(9)
    return chosen.assign(_rank=rank).sort_values(["_rank", "opened_at"], kind="stable").drop(columns="_rank")


def alert_rows(alerts: pd.DataFrame, catalog: Catalog) -> list[dict[str, Any]]:
    """Open alerts as display rows."""
    return [{
        "id": fmt.text(r["id"]),
        "severity": str(r["severity"]).lower(),
        "severity_zh": SEVERITY_ZH.get(str(r["severity"]).lower(), fmt.text(r["severity"])),
        "class": fmt.text(r["class"]),
        "kind": fmt.text(r["kind"]),
        "label": alert_label(r["class"], r["kind"]),
        "target": fmt.target_name(r["target_id"], catalog),
        "department": fmt.department_name(r["department"], catalog),
        "county": fmt.county_name(r["county_code"], catalog),
        "period": fmt.text(r["period"]),
        "opened_at": fmt.date_text(r["opened_at"]),
        "message": fmt.text(r["message_zh"]),
    } for r in alerts.to_dict("records")]


def _target_list(value: Any, catalog: Catalog) -> str:
    if isinstance(value, list | tuple):
        items = [str(v) for v in value]
    elif fmt.is_missing(value):
        return fmt.DASH
    else:
        items = [s.strip() for s in re.split(r"[,，;；、]", str(value)) if s.strip()]
    return "、".join(fmt.target_name(t, catalog) for t in items) or fmt.DASH


def lag_rows(lag: pd.DataFrame, catalog: Catalog) -> list[dict[str, Any]]:
    """One row per overdue department: its latest missing period, longest run of misses first."""
    misses = pd.to_numeric(lag["consecutive_misses"], errors="coerce").fillna(0).astype(int)
    latest = lag.assign(_misses=misses, _period=lag["period"].astype(str)).sort_values("_period")
    latest = latest.drop_duplicates("department", keep="last")
    ordered = latest.sort_values(["_misses", "department"], ascending=[False, True])
    return [{
        "department": fmt.department_name(r["department"], catalog),
        "slug": fmt.text(r["department"]),
        "period": fmt.text(r["period"]),
        "due_date": fmt.date_text(r["due_date"]),
        "missing": _target_list(r["missing_targets"], catalog),
        "misses": int(r["_misses"]),
    } for r in ordered.to_dict("records")]


def _check_summary(checks: pd.DataFrame) -> pd.DataFrame:
    severity = checks["severity"].astype(str).str.lower()
    return pd.DataFrame({
        "sha256": checks["sha256"],
        "critical": severity.isin(["critical", "error"]).astype(int),
        "warning": severity.eq("warning").astype(int),
    }).groupby("sha256").sum()


def drop_rows(ledger: pd.DataFrame, checks: pd.DataFrame, prefix: str, catalog: Catalog,
              only_problems: bool) -> list[dict[str, Any]]:
    """Drops (newest first) with outcome, check counts and evidence links; optionally only problem ones."""
    chosen = ledger[ledger["outcome"].astype(str).isin(PROBLEM_OUTCOMES)] if only_problems else ledger
    summary = _check_summary(checks)
    messages = checks.assign(_rank=checks["severity"].astype(str).str.lower().map(SEVERITY_ORDER).fillna(9))
    messages = messages.sort_values(["sha256", "_rank"], kind="stable").groupby("sha256")["message_zh"]
    firsts = messages.apply(lambda s: [fmt.text(m) for m in s.head(3)]).to_dict() if not checks.empty else {}
    rows = []
    for r in chosen.sort_values("first_seen", ascending=False, na_position="last").to_dict("records"):
        sha = str(r["sha256"])
        counts = summary.loc[sha] if sha in summary.index else {"critical": 0, "warning": 0}
        outcome = fmt.text(r["outcome"])
        rows.append({
            "sha": sha[:12],
            "anchor": drop_anchor(sha),
            "name": fmt.text(r["relative_name"]),
            "department": fmt.department_name(r["department"], catalog),
            "outcome": outcome,
            "outcome_zh": OUTCOME_ZH.get(outcome, outcome),
            "first_seen": fmt.date_text(r["first_seen"]),
            "rows": fmt.number(r["rows"], 0),
            "critical": int(counts["critical"]),
            "warning": int(counts["warning"]),
            "messages": firsts.get(sha, []),
            "receipt": link(r["receipt_path"], prefix),
            "quarantined": link(r["quarantine_path"], prefix),
            "file": link(r.get("file_path"), prefix),
        })
    return rows


def check_rows(checks: pd.DataFrame, sha256: str) -> list[dict[str, Any]]:
    """Every check recorded for one drop, most severe first, located by sheet, row and column."""
    mine = checks[checks["sha256"].astype(str).eq(sha256)]
    rank = mine["severity"].astype(str).str.lower().map(SEVERITY_ORDER).fillna(9)
    row_number = pd.to_numeric(mine["row"], errors="coerce")
    ordered = mine.assign(_rank=rank, _row=row_number).sort_values(["_rank", "_row"], na_position="first")
    return [{
        "rule": fmt.text(r["rule"]),
        "severity": str(r["severity"]).lower(),
        "severity_zh": SEVERITY_ZH.get(str(r["severity"]).lower(), fmt.text(r["severity"])),
        "sheet": fmt.text(r["sheet"]) if not fmt.is_missing(r["sheet"]) and str(r["sheet"]) else fmt.DASH,
        "row": fmt.number(r["row"], 0),
        "column": fmt.text(r["column"]),
        "value": fmt.text(r["value"]),
        "message_zh": fmt.text(r["message_zh"]),
        "message_en": fmt.text(r["message_en"]),
    } for r in ordered.to_dict("records")]
