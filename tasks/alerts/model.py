"""Alerts as data: candidates raised by one tick, alerts open in the warehouse, and the actions between."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class AlertClass(StrEnum):
    """Why an alert exists; routing follows the class."""

    DATA_QUALITY = "data_quality"  # impossible or inconsistent numbers → data team
    DELIVERY_LAG = "delivery_lag"  # data not in by its due date → the department, then the supervision office
    PROGRESS_LAG = "progress_lag"  # behind the time-proportional schedule → supervision office
    TARGET_MISS = "target_miss"  # a level target missed, a milestone overdue → supervision office
    ANOMALY = "anomaly"  # a suspicious but possible value → the department and the data team


class ActionKind(StrEnum):
    OPEN = "open"
    UPDATE = "update"
    ESCALATE = "escalate"
    RESOLVE = "resolve"


def fingerprint(kind: str, subject: str | None, county_code: str | None, period: str | None) -> str:
    """Identity of an alert: sha1 of "kind|subject|county|period" (subject = target id, or
    "department:<slug>" for a delivery lag). The same cause on a later tick has the same fingerprint."""
    text = "|".join([kind, subject or "", county_code or "", period or ""])
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AlertCandidate:
    """An alert as one tick sees it. `alert_class` is the brief's "class" (a Python keyword).

    recipients are department slugs and/or the calendar's supervision_office / data_team slugs, already
    including escalation recipients for `escalation_level` (0 = first notice). title_zh / message_zh are
    what people read (numbers included); payload holds the numbers as JSON-safe values.
    """

    fingerprint: str
    alert_class: str
    kind: str
    severity: str
    target_id: str | None
    department: str | None
    county_code: str | None
    period: str | None
    recipients: tuple[str, ...]
    escalation_level: int
    title_zh: str
    message_zh: str
    message_en: str
    payload: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # rows read back from the warehouse carry lists; a tuple keeps equality and hashing simple
        object.__setattr__(self, "recipients", tuple(self.recipients))

    def state(self) -> tuple[Any, ...]:
        """What an update compares: everything a reader could see change."""
        return (self.alert_class, self.kind, self.severity, self.department, self.period, self.recipients,
                self.escalation_level, self.title_zh, self.message_zh, self.message_en, self.payload)

    def as_record(self) -> dict[str, Any]:
        """A flat dict with fact_alert's names (alert_class, …); recipients as a list."""
        record = asdict(self)
        record["recipients"] = list(self.recipients)
        return record


@dataclass(frozen=True)
class OpenAlert(AlertCandidate):
    """An alert open in the warehouse: the candidate state last stored, plus when it was opened/updated."""

    opened_on: dt.date | None = None
    updated_on: dt.date | None = None

    @classmethod
    def from_candidate(cls, candidate: AlertCandidate, opened_on: dt.date | None,
                       updated_on: dt.date) -> OpenAlert:
        fields = {k: v for k, v in candidate.__dict__.items() if k not in ("opened_on", "updated_on")}
        return cls(**fields, opened_on=opened_on, updated_on=updated_on)


@dataclass(frozen=True)
class AlertAction:
    """One thing to do about one alert. `alert` is the new state (open/update/escalate) or the last known
    state (resolve); `previous_level` is the stored escalation level before this tick."""

    action: str
    alert: AlertCandidate
    previous_level: int | None = None

    @property
    def fingerprint(self) -> str:
        return self.alert.fingerprint

    @property
    def notify(self) -> bool:
        """Open, escalate and resolve are told to people; an update is only stored."""
        return self.action != ActionKind.UPDATE


@dataclass(frozen=True)
class AlertActions:
    """The plan of one tick: what to open, update silently, escalate (notify again) and resolve."""

    open: list[AlertAction] = field(default_factory=list)
    update: list[AlertAction] = field(default_factory=list)
    escalate: list[AlertAction] = field(default_factory=list)
    resolve: list[AlertAction] = field(default_factory=list)

    @property
    def notifying(self) -> list[AlertAction]:
        """The actions that send a message, in a stable order."""
        return [*self.open, *self.escalate, *self.resolve]

    def all(self) -> list[AlertAction]:
        return [*self.open, *self.update, *self.escalate, *self.resolve]

    def __len__(self) -> int:
        return len(self.all())


@dataclass(frozen=True)
class NotificationResult:
    """The outcome of sending one action to one channel; failures are data, not exceptions.

    url is shown with secrets masked (Apprise privacy mode); it is "" when no URL is configured for the
    recipients (that is reported too, so a missing route is visible).
    """

    fingerprint: str
    action: str
    url: str
    recipients: tuple[str, ...]
    ok: bool
    error: str | None = None
