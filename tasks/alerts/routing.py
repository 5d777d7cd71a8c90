"""Who hears about an alert, through which Apprise URLs, and what the message says.

Routing by class: data quality → data team; delivery lag → the department, escalated to the supervision
office; progress lag and target misses → the supervision office (the message names the lead department);
anomalies → the department and the data team. Settings.alert_urls maps a recipient to Apprise URLs
(dingtalk://, wecombot://, feishu://, mailto://, json://…); the key "*" receives everything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from expectations.models import Catalog
from tasks.alerts.model import ActionKind, AlertAction, AlertClass

EVERYONE = "*"
PREFIX = {ActionKind.OPEN: "【预警】", ActionKind.ESCALATE: "【升级】", ActionKind.RESOLVE: "【已解决】",
          ActionKind.UPDATE: "【更新】"}
CLASS_ZH = {AlertClass.DATA_QUALITY: "数据质量", AlertClass.DELIVERY_LAG: "数据逾期未报",
            AlertClass.PROGRESS_LAG: "进度滞后", AlertClass.TARGET_MISS: "未达目标",
            AlertClass.ANOMALY: "数据异常"}
SEVERITY_ZH = {"critical": "严重", "warning": "警告", "info": "提示"}


def recipients_for(alert_class: str, department: str | None, escalation_level: int,
                   catalog: Catalog) -> tuple[str, ...]:
    """Recipients of an alert of `alert_class` at `escalation_level` (0 = first notice)."""
    office, team = catalog.calendar.supervision_office, catalog.calendar.data_team
    dept = (department,) if department else ()
    if alert_class == AlertClass.DATA_QUALITY:
        return (team,)
    if alert_class == AlertClass.DELIVERY_LAG:
        return (*dept, office) if escalation_level >= 1 else dept or (office,)
    if alert_class in (AlertClass.PROGRESS_LAG, AlertClass.TARGET_MISS):
        return (office,)
    if alert_class == AlertClass.ANOMALY:
        return (*dept, team)
    raise ValueError(f"unknown alert class {alert_class!r}; expected one of {[c.value for c in AlertClass]}")


def urls_for(recipients: Sequence[str],
             alert_urls: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """Apprise URL → the recipients it serves (each URL once, in configuration order; "*" serves all)."""
    out: dict[str, list[str]] = {}
    for recipient in recipients:
        for url in [*alert_urls.get(recipient, ()), *alert_urls.get(EVERYONE, ())]:
            served = out.setdefault(url, [])
            if recipient not in served:
                served.append(recipient)
    return {url: tuple(who) for url, who in out.items()}


def unrouted(recipients: Sequence[str], alert_urls: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """Recipients with no URL at all (no own entry and no "*")."""
    if alert_urls.get(EVERYONE):
        return ()
    return tuple(r for r in recipients if not alert_urls.get(r))


def render(action: AlertAction) -> tuple[str, str]:
    """Title and body of the message for an action, in Chinese with the numbers that matter.

    Resolved notices start with 【已解决】; escalations with 【升级】 and say who now receives them.
    """
    alert = action.alert
    title = f"{PREFIX[ActionKind(action.action)]}{alert.title_zh}"
    kind_zh = CLASS_ZH.get(AlertClass(alert.alert_class), alert.alert_class)
    lines = []
    if action.action == ActionKind.RESOLVE:
        lines.append("以下预警的原因已消除，预警关闭：")
    elif action.action == ActionKind.ESCALATE:
        names = alert.payload.get("recipients_zh") or list(alert.recipients)
        lines.append(f"预警已升级（第{alert.escalation_level}级），现通知：{'、'.join(names)}。")
    lines.append(alert.message_zh)
    meta = f"类别：{kind_zh}；级别：{SEVERITY_ZH.get(alert.severity, alert.severity)}"
    if alert.period:
        meta += f"；期别：{alert.period}"
    lines.append(f"{meta}；编号：{alert.fingerprint[:10]}")
    return title, "\n".join(lines)
