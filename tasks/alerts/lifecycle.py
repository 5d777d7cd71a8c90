"""The alert lifecycle of one tick: open new alerts, update open ones silently, escalate, resolve.

Pure: the warehouse holds the open alerts; `plan_alert_actions` says what changes and `apply_actions`
gives the state after the tick, so that planning again with the same candidates finds nothing to do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable

from tasks.alerts.model import ActionKind, AlertAction, AlertActions, AlertCandidate, OpenAlert

SEVERITY_RANK = {"critical": 2, "warning": 1, "info": 0}


def plan_alert_actions(open_alerts: Iterable[OpenAlert], candidates: Iterable[AlertCandidate],
                       as_of: dt.date, evaluated_classes: Collection[str] | None = None) -> AlertActions:
    """Compare the open alerts with this tick's candidates (matched by fingerprint).

    - a candidate with no open alert → open (notify its recipients);
    - escalation_level above the stored one → escalate (notify again, to the new recipients);
    - anything else that changed (numbers, message, a lower level) → update (stored, not sent);
    - an open alert with no candidate → resolve (a 【已解决】 notice to its recipients), but only for
      classes this tick evaluated (`evaluated_classes`, default all), so a partial tick resolves nothing
      it did not look at.
    Candidates sharing a fingerprint are merged, keeping the highest level, then the worst severity.
    `as_of` is the tick's date; it does not change the plan (kept for a uniform task signature).
    """
    del as_of
    current = {a.fingerprint: a for a in open_alerts}
    wanted = _dedupe(candidates)
    actions = AlertActions()
    for fp, cand in wanted.items():
        prev = current.get(fp)
        if prev is None:
            actions.open.append(AlertAction(ActionKind.OPEN.value, cand))
        elif cand.escalation_level > prev.escalation_level:
            actions.escalate.append(AlertAction(ActionKind.ESCALATE.value, cand, prev.escalation_level))
        elif cand.state() != prev.state():
            actions.update.append(AlertAction(ActionKind.UPDATE.value, cand, prev.escalation_level))
    for fp, prev in current.items():
        if fp not in wanted and (evaluated_classes is None or prev.alert_class in evaluated_classes):
            actions.resolve.append(AlertAction(ActionKind.RESOLVE.value, prev, prev.escalation_level))
    return actions


def apply_actions(open_alerts: Iterable[OpenAlert], actions: AlertActions, as_of: dt.date) -> list[OpenAlert]:
    """The open alerts after carrying out `actions` on `as_of` (what the warehouse will hold)."""
    state = {a.fingerprint: a for a in open_alerts}
    for action in [*actions.open, *actions.update, *actions.escalate]:
        prev = state.get(action.fingerprint)
        opened = prev.opened_on if prev is not None else as_of
        state[action.fingerprint] = OpenAlert.from_candidate(action.alert, opened, as_of)
    for action in actions.resolve:
        state.pop(action.fingerprint, None)
    return list(state.values())


def _dedupe(candidates: Iterable[AlertCandidate]) -> dict[str, AlertCandidate]:
    out: dict[str, AlertCandidate] = {}
    for cand in candidates:
        kept = out.get(cand.fingerprint)
        if kept is None or _rank(cand) > _rank(kept):
            out[cand.fingerprint] = cand
    return out


def _rank(cand: AlertCandidate) -> tuple[int, int]:
    return cand.escalation_level, SEVERITY_RANK.get(cand.severity, -1)
