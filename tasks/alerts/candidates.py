"""alert_candidates: the alerts one tick's status, anomalies and lag frames call for."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from expectations.models import Catalog, Target
from tasks.alerts.model import AlertCandidate, AlertClass, fingerprint
from tasks.alerts.routing import recipients_for
from tasks.evaluate.config import LIGHT_ZH, RED, YELLOW
from tasks.evaluate.numbers import county_label, department_label, fmt_num, period_zh

# Findings that are errors in the numbers (the data team fixes them with the department); the other kinds
# are suspicious but possible values the department should confirm.
DATA_QUALITY_KINDS = {"ytd_decrease", "unit_slip", "parts_sum"}
# A value that is probably wrong (a unit slip, a year-to-date total that fell) is not judged against its
# target: the supervision office hears about the miss once the department has confirmed or fixed the number.
DOUBTFUL_KINDS = {"unit_slip", "ytd_decrease"}
# Findings about a lasting state of a series rather than one month's value: one alert per series, whose
# period and numbers follow the latest month (a county that differs from its peers all year is one question).
PER_SERIES_KINDS = {"peer_outlier"}
SCHEDULED = {"linear", "seasonal", "budget"}
STATE_METHODS = {"level", "increase", "milestone"}


def alert_candidates(status: pd.DataFrame | None, anomalies: pd.DataFrame | None, lag: pd.DataFrame | None,
                     catalog: Catalog, as_of: dt.date) -> list[AlertCandidate]:
    """Candidates from the status frame (progress lag, target misses), the anomaly frame (data quality and
    anomalies of severity warning or critical; info findings stay in reports) and the delivery-lag frame.

    Progress lag and target misses describe a state, so their fingerprint uses the plan year instead of
    the month: the alert stays one alert while the target stays behind (updated monthly, escalated from
    yellow to red, resolved when back on schedule). A cumulative or budget target whose year is over
    (expected 100%) and not met becomes a target miss at escalation level 2 under the same fingerprint.
    The allowance row (method budget) of a days-budget target (Target.days_budget, the good-air-days ratio)
    raises `budget_burn` (class progress_lag) per county while the allowance is used faster than time
    passes (yellow, or red at level 1), one per county per plan year; its level row says whether the
    ratio itself is missed.
    A status whose latest value is in doubt (DOUBTFUL_KINDS found for that month) raises no progress or
    target alert. Anomalies and delivery lag are per period, except PER_SERIES_KINDS (one alert per
    target × county for the plan year) and flat lines (identified by the first month of the run).
    """
    out: list[AlertCandidate] = []
    doubtful: set[tuple[str, str, str]] = set()
    if anomalies is not None and not anomalies.empty:
        wrong = anomalies[anomalies["kind"].isin(DOUBTFUL_KINDS)]
        doubtful = set(zip(wrong["target_id"], wrong["county_code"], wrong["period"], strict=True))
    if status is not None and not status.empty:
        judged = [r for r in status.itertuples(index=False)
                  if (r.target_id, r.county_code, r.period) not in doubtful]
        out += [c for c in (_from_status(r, catalog, as_of) for r in judged) if c]
    if anomalies is not None and not anomalies.empty:
        serious = anomalies[anomalies["severity"].isin(["warning", "critical"])]
        out += [_from_anomaly(r, catalog) for r in serious.itertuples(index=False)]
    if lag is not None and not lag.empty:
        out += [_from_lag(r, catalog, as_of) for r in lag.itertuples(index=False)]
    return out


def _names(recipients: tuple[str, ...], catalog: Catalog) -> list[str]:
    return [department_label(catalog, r) for r in recipients]


def _build(alert_class: AlertClass, kind: str, severity: str, target_id: str | None, department: str | None,
           county_code: str | None, period: str | None, key_period: str | None, level: int, title: str,
           zh: str, en: str, payload: dict[str, Any], catalog: Catalog, key_kind: str | None = None) -> AlertCandidate:
    recipients = recipients_for(alert_class, department, level, catalog)
    subject = target_id if target_id else f"department:{department}"
    payload = {**payload, "recipients_zh": _names(recipients, catalog)}
    fp = fingerprint(key_kind or kind, subject, county_code, key_period)
    return AlertCandidate(fp, alert_class.value, kind, severity, target_id, department, county_code, period,
                          recipients, level, title, zh, en, payload)


def _text(value: Any) -> str | None:
    """Decimal and other numbers as exact strings for the JSON payload."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return str(value)


def _from_status(r: Any, catalog: Catalog, as_of: dt.date) -> AlertCandidate | None:
    target = catalog.target(r.target_id)
    dept = target.lead_department
    where = county_label(catalog, r.county_code)
    lead = f"牵头部门：{department_label(catalog, dept)}。"
    payload = {"as_of": as_of.isoformat(), "light": r.light, "method": r.method, "value": _text(r.value),
               "target_value": _text(r.target_value), "completion_pct": _text(r.completion_pct),
               "expected_pct": _text(r.expected_pct), "gap_points": _text(r.gap_points),
               "projection": _text(r.projection), "will_meet": r.will_meet}
    year = str(catalog.year)
    period = r.period if isinstance(r.period, str) else None
    if r.method == "budget" and target.days_budget:
        return _budget_burn(r, target, where, lead, payload, catalog)
    year_over = r.expected_pct is not None and r.expected_pct >= 100
    if r.method in SCHEDULED and year_over and r.will_meet is False:
        title = f"{target.name_zh}（{where}）全年目标未完成"
        en = f"{target.name_en} ({r.county_code}) missed its annual target; lead department {dept}."
        # same identity as the progress-lag alert it grows out of: one alert escalated, not one resolved
        # and another opened
        return _build(AlertClass.TARGET_MISS, "target_miss", "critical", target.id, dept, r.county_code, period,
                      year, 2, title, r.detail_zh + lead, en, payload, catalog, key_kind="behind_schedule")
    if r.method in SCHEDULED and r.light in (YELLOW, RED):
        level = 1 if r.light == RED else 0
        gap = f"，落后{fmt_num(r.gap_points, 1)}个百分点" if r.gap_points is not None else ""
        title = f"{target.name_zh}（{where}）进度滞后{gap}（{LIGHT_ZH[r.light]}）"
        en = (f"{target.name_en} ({r.county_code}) is behind its time-proportional schedule ({r.light}); "
              f"lead department {dept}.")
        return _build(AlertClass.PROGRESS_LAG, "behind_schedule", "critical" if level else "warning",
                      target.id, dept, r.county_code, period, year, level, title, r.detail_zh + lead, en,
                      payload, catalog)
    if r.method in STATE_METHODS and (r.light == RED or (r.light == YELLOW and r.method == "level")):
        level = 1 if r.light == RED else 0
        kind = "milestone_overdue" if r.method == "milestone" else "target_miss"
        what = "逾期未完成" if kind == "milestone_overdue" else "未达目标"
        title = f"{target.name_zh}（{where}）{what}（{LIGHT_ZH[r.light]}）"
        en = (f"{target.name_en} ({r.county_code}): {kind.replace('_', ' ')} ({r.light}); "
              f"lead department {dept}.")
        return _build(AlertClass.TARGET_MISS, kind, "critical" if level else "warning", target.id, dept,
                      r.county_code, period, year, level, title, r.detail_zh + lead, en, payload, catalog)
    return None


def _budget_burn(r: Any, target: Target, where: str, lead: str, payload: dict[str, Any],
                 catalog: Catalog) -> AlertCandidate | None:
    """The allowance of non-good days used faster than time: warning when yellow, critical (level 1) when red."""
    if r.light not in (YELLOW, RED):
        return None
    level = 1 if r.light == RED else 0
    dept = target.lead_department
    title = f"{target.name_zh}（{where}）非优良天数额度消耗过快（{LIGHT_ZH[r.light]}）"
    en = (f"{target.name_en} ({r.county_code}): the allowance of non-good days is used faster than time passes "
          f"({_text(r.value)} of {_text(r.target_value)} days used, {_text(r.completion_pct)}% vs "
          f"{_text(r.expected_pct)}% of the year; {r.light}); lead department {dept}.")
    period = r.period if isinstance(r.period, str) else None
    return _build(AlertClass.PROGRESS_LAG, "budget_burn", "critical" if level else "warning", target.id, dept,
                  r.county_code, period, str(catalog.year), level, title, r.detail_zh + lead, en, payload, catalog)


def _from_anomaly(r: Any, catalog: Catalog) -> AlertCandidate:
    target = catalog.target(r.target_id)
    dept = target.lead_department
    cls = AlertClass.DATA_QUALITY if r.kind in DATA_QUALITY_KINDS else AlertClass.ANOMALY
    word = "数据质量问题" if cls == AlertClass.DATA_QUALITY else "数据异常"
    title = f"{target.name_zh}（{county_label(catalog, r.county_code)}）{period_zh(r.period)}{word}"
    zh = f"{r.message_zh}牵头部门：{department_label(catalog, dept)}。"
    payload = {"evidence": dict(r.evidence) if isinstance(r.evidence, dict) else r.evidence}
    key_period = str(catalog.year) if r.kind in PER_SERIES_KINDS else r.period
    return _build(cls, r.kind, r.severity, target.id, dept, r.county_code, r.period, key_period, 0, title, zh,
                  r.message_en, payload, catalog)


def _from_lag(r: Any, catalog: Catalog, as_of: dt.date) -> AlertCandidate:
    dept = department_label(catalog, r.department)
    level = 1 if r.escalated else 0
    missing = list(r.missing_targets)
    names = "、".join(catalog.target(t).name_zh for t in missing[:5]) + ("等" if len(missing) > 5 else "")
    due = r.due_date.isoformat() if hasattr(r.due_date, "isoformat") else str(r.due_date)
    title = f"{dept}{period_zh(r.period)}数据逾期{r.days_overdue}天未报（缺{len(missing)}项）"
    zh = (f"{dept}应于{due}前报送{period_zh(r.period)}的{len(r.expected_targets)}项指标数据，截至"
          f"{as_of.isoformat()}仍缺{len(missing)}项：{names}。已连续{r.consecutive_misses}个月未按时报送"
          + ("，已提请州政府督查室督办。" if r.escalated else "，请尽快报送。"))
    en = (f"{r.department}: {len(missing)} of {len(r.expected_targets)} targets for {r.period} not received "
          f"by {due} ({r.days_overdue} days overdue, {r.consecutive_misses} consecutive misses).")
    payload = {"due_date": due, "days_overdue": int(r.days_overdue), "missing_targets": missing,
               "expected_targets": list(r.expected_targets), "consecutive_misses": int(r.consecutive_misses)}
    return _build(AlertClass.DELIVERY_LAG, "missing_delivery", "critical" if level else "warning", None,
                  r.department, None, r.period, r.period, level, title, zh, en, payload, catalog)
