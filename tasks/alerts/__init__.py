"""Alerts: candidates from status / anomalies / lag, their lifecycle, routing and Apprise notification."""

from tasks.alerts.candidates import alert_candidates
from tasks.alerts.lifecycle import apply_actions, plan_alert_actions
from tasks.alerts.model import (
    ActionKind,
    AlertAction,
    AlertActions,
    AlertCandidate,
    AlertClass,
    NotificationResult,
    OpenAlert,
    fingerprint,
)
from tasks.alerts.notify import send_notifications
from tasks.alerts.routing import recipients_for, render, urls_for

__all__ = [
    "ActionKind", "AlertAction", "AlertActions", "AlertCandidate", "AlertClass", "NotificationResult",
    "OpenAlert", "alert_candidates", "apply_actions", "fingerprint", "plan_alert_actions", "recipients_for",
    "render", "send_notifications", "urls_for",
]
