"""send_notifications: the only function here that touches the network (through Apprise).

Every failure (bad URL, unreachable host, HTTP error, no route configured) comes back as a
NotificationResult with ok=False and the reason; nothing is raised, so a failing channel never stops a tick.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence

import apprise

from tasks.alerts.model import ActionKind, AlertAction, AlertActions, NotificationResult
from tasks.alerts.routing import render, unrouted, urls_for

log = logging.getLogger(__name__)

NOTIFY_TYPE = {"critical": apprise.NotifyType.FAILURE, "warning": apprise.NotifyType.WARNING,
               "info": apprise.NotifyType.INFO}


def send_notifications(actions: AlertActions | Iterable[AlertAction],
                       urls: Mapping[str, Sequence[str]]) -> list[NotificationResult]:
    """Send every notifying action (open, escalate, resolve) to the Apprise URLs of its recipients.

    `urls` is Settings.alert_urls (recipient → URLs, "*" = everyone). Each URL gets one message per
    action even when it serves several recipients. Update actions are never sent.
    """
    todo = actions.notifying if isinstance(actions, AlertActions) else [a for a in actions if a.notify]
    results: list[NotificationResult] = []
    for action in todo:
        title, body = render(action)
        kind = (apprise.NotifyType.SUCCESS if action.action == ActionKind.RESOLVE
                else NOTIFY_TYPE.get(action.alert.severity, apprise.NotifyType.INFO))
        missing = unrouted(action.alert.recipients, urls)
        if missing:
            why = f"未配置接收地址 / no Apprise URL configured for {list(missing)}"
            results.append(NotificationResult(action.fingerprint, action.action, "", missing, False, why))
        for url, recipients in urls_for(action.alert.recipients, urls).items():
            results.append(_send_one(action, url, recipients, title, body, kind))
    return results


def _send_one(action: AlertAction, url: str, recipients: tuple[str, ...], title: str, body: str,
              kind: apprise.NotifyType) -> NotificationResult:
    shown = _masked(url)
    try:
        plugin = apprise.Apprise.instantiate(url)
        if plugin is None:
            return NotificationResult(action.fingerprint, action.action, shown, recipients, False,
                                      "Apprise 无法识别该地址 / Apprise rejected the URL")
        shown = plugin.url(privacy=True)
        sender = apprise.Apprise()
        sender.add(plugin)
        result = sender.notify(body=body, title=title, notify_type=kind)
        if result:
            return NotificationResult(action.fingerprint, action.action, shown, recipients, True)
        reasons = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR", "CRITICAL")]
        return NotificationResult(action.fingerprint, action.action, shown, recipients, False,
                                  "; ".join(reasons) or "Apprise reported a failed delivery")
    except Exception as exc:  # a broken channel must never crash the tick
        log.warning("notification to %s failed: %s", shown, exc)
        return NotificationResult(action.fingerprint, action.action, shown, recipients, False,
                                  f"{type(exc).__name__}: {exc}")


def _masked(url: str) -> str:
    """The scheme and host only, for results about URLs Apprise could not parse (they may hold tokens)."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    return f"{scheme}://{host}/…" if rest else scheme
