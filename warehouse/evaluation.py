"""Warehouse side of evaluation: the inputs it reads (observations as known on a date, who submitted what
when) and what it writes (target status history, the alert lifecycle)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Engine, Table, and_, case, delete, func, insert, select, update

from tasks.alerts.model import AlertActions, AlertCandidate, OpenAlert
from warehouse.models import DropLedger, FactAlert, FactObservation, FactTargetStatus
from warehouse.queries import as_of_cutoff, fetch_frame, observations_as_of

OBS: Table = FactObservation.__table__  # type: ignore[assignment]
LEDGER: Table = DropLedger.__table__  # type: ignore[assignment]
STATUS: Table = FactTargetStatus.__table__  # type: ignore[assignment]
ALERT: Table = FactAlert.__table__  # type: ignore[assignment]
STATUS_FIELDS = ("value", "target", "completion_pct", "expected_pct", "gap_points", "light", "projection",
                 "projection_low", "projection_high", "will_meet", "method", "detail_zh")


def _ledger(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return fetch_frame(conn, select(LEDGER.c.sha256, LEDGER.c.department, LEDGER.c.relative_name),
                           ["source_sha256", "department", "source_name"])


def known_observations(engine: Engine, as_of: dt.date) -> pd.DataFrame:
    """Observations as the warehouse knew them at the end of `as_of`, with the submitting department."""
    frame = observations_as_of(engine, as_of)
    return frame.merge(_ledger(engine), on="source_sha256", how="left")


def _delivered_at(table: Any) -> Any:
    """When a department delivered a file: its modification time when that is earlier than the tick that
    first saw it, else that tick. A live tick sees a file within minutes, so this matters for replays (which
    see every old file on the replay date) and for pipeline outages, which must not count against the
    department. A copy that keeps an old mtime would look on time: accepted, and the alternative blames
    departments for our downtime."""
    return case((and_(table.c.mtime.is_not(None), table.c.mtime < table.c.first_seen), table.c.mtime),
                else_=table.c.first_seen)


def submissions(engine: Engine, as_of: dt.date) -> pd.DataFrame:
    """When each department first delivered each target × period (any county), up to the end of `as_of`:
    the earliest delivery time (see _delivered_at) of the files its values came from."""
    query = (select(LEDGER.c.department, OBS.c.target_id, OBS.c.period, func.min(OBS.c.recorded_at),
                    func.min(LEDGER.c.mtime))
             .join(LEDGER, LEDGER.c.sha256 == OBS.c.source_sha256)
             .where(OBS.c.recorded_at < as_of_cutoff(as_of))
             .group_by(LEDGER.c.department, OBS.c.target_id, OBS.c.period))
    with engine.connect() as conn:
        frame = fetch_frame(conn, query, ["department", "target_id", "period", "recorded", "mtime"])
    recorded = pd.to_datetime(frame["recorded"], utc=True)
    mtime = pd.to_datetime(frame["mtime"], utc=True)
    frame["first_recorded_at"] = recorded.where(mtime.isna() | (recorded <= mtime), mtime)
    return frame.drop(columns=["recorded", "mtime"])


def previous_lights(engine: Engine, as_of: dt.date) -> pd.DataFrame:
    """The last light each target × county had on an earlier as-of date (a red that catches up shows yellow),
    with its method: a days-budget target keeps a level row and an allowance row (method budget), each
    remembered on its own."""
    latest = (select(STATUS.c.target_id, STATUS.c.county_code, func.max(STATUS.c.as_of).label("as_of"))
              .where(STATUS.c.as_of < as_of).group_by(STATUS.c.target_id, STATUS.c.county_code).subquery())
    query = (select(STATUS.c.target_id, STATUS.c.county_code, STATUS.c.light, STATUS.c.method)
             .join(latest, and_(STATUS.c.target_id == latest.c.target_id,
                                STATUS.c.county_code == latest.c.county_code, STATUS.c.as_of == latest.c.as_of))
             .order_by(STATUS.c.period, STATUS.c.status_id))
    with engine.connect() as conn:
        frame = fetch_frame(conn, query, ["target_id", "county_code", "light", "method"])
    lane = frame["method"].eq("budget")
    return frame.assign(_lane=lane).drop_duplicates(["target_id", "county_code", "_lane"], keep="last").drop(
        columns="_lane").reset_index(drop=True)


def _clean(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def write_target_status(engine: Engine, status: pd.DataFrame, as_of: dt.date, computed_at: dt.datetime) -> int:
    """Store one evaluation as the history rows of `as_of` (a re-run for the same date replaces its own rows;
    earlier dates are never touched)."""
    frame = status.rename(columns={"target_value": "target"})
    rows = [{"target_id": r["target_id"], "county_code": r["county_code"], "as_of": as_of, "period": r["period"],
             "computed_at": computed_at, **{f: _clean(r.get(f)) for f in STATUS_FIELDS}}
            for r in frame.to_dict("records")]
    with engine.begin() as conn:
        conn.execute(delete(STATUS).where(STATUS.c.as_of == as_of))
        if rows:
            conn.execute(insert(STATUS), rows)
    return len(rows)


def _candidate_fields(row: Any) -> dict[str, Any]:
    payload = dict(row.payload or {})
    return {"fingerprint": row.fingerprint, "alert_class": row.alert_class, "kind": row.kind,
            "severity": row.severity, "target_id": row.target_id, "department": row.department,
            "county_code": row.county_code, "period": row.period,
            "recipients": tuple(payload.pop("_recipients", ())), "escalation_level": row.escalation_level,
            "title_zh": payload.pop("_title_zh", ""), "message_zh": row.message_zh, "message_en": row.message_en,
            "payload": payload}


def open_alerts(engine: Engine) -> list[OpenAlert]:
    """Every alert not yet resolved, as the lifecycle planner sees it."""
    with engine.connect() as conn:
        rows = conn.execute(select(ALERT).where(ALERT.c.resolved_at.is_(None)).order_by(ALERT.c.alert_id)).all()
    return [OpenAlert(**_candidate_fields(r), opened_on=r.opened_at.date(), updated_on=r.updated_at.date())
            for r in rows]


def _stored(alert: AlertCandidate) -> dict[str, Any]:
    payload = {**alert.payload, "_recipients": list(alert.recipients), "_title_zh": alert.title_zh}
    return {"alert_class": alert.alert_class, "kind": alert.kind, "severity": alert.severity,
            "target_id": alert.target_id, "department": alert.department, "county_code": alert.county_code,
            "period": alert.period, "escalation_level": alert.escalation_level, "message_zh": alert.message_zh,
            "message_en": alert.message_en, "payload": payload}


def store_alert_actions(engine: Engine, actions: AlertActions, at: dt.datetime) -> None:
    """Apply one tick's plan in one transaction: insert opened alerts, rewrite updated and escalated ones,
    stamp resolved ones. Resolved alerts stay in the table (their history is the audit trail)."""
    is_open = ALERT.c.resolved_at.is_(None)
    with engine.begin() as conn:
        for action in actions.open:
            conn.execute(insert(ALERT).values(fingerprint=action.fingerprint, opened_at=at, updated_at=at,
                                              resolved_at=None, last_notified_at=None, **_stored(action.alert)))
        for action in [*actions.update, *actions.escalate]:
            conn.execute(update(ALERT).where(ALERT.c.fingerprint == action.fingerprint, is_open)
                         .values(updated_at=at, **_stored(action.alert)))
        for action in actions.resolve:
            conn.execute(update(ALERT).where(ALERT.c.fingerprint == action.fingerprint, is_open)
                         .values(updated_at=at, resolved_at=at))


def mark_notified(engine: Engine, fingerprints: Iterable[str], at: dt.datetime) -> None:
    """Stamp the alerts whose notice went out (the latest row of each fingerprint)."""
    wanted = sorted(set(fingerprints))
    if not wanted:
        return
    latest = select(func.max(ALERT.c.alert_id)).where(ALERT.c.fingerprint.in_(wanted)).group_by(ALERT.c.fingerprint)
    with engine.begin() as conn:
        conn.execute(update(ALERT).where(ALERT.c.alert_id.in_(latest)).values(last_notified_at=at))


def alert_rows(engine: Engine, *, only_open: bool = False) -> list[dict[str, Any]]:
    """Alerts for listing (newest first)."""
    query = select(ALERT).order_by(ALERT.c.opened_at.desc(), ALERT.c.alert_id.desc())
    if only_open:
        query = query.where(ALERT.c.resolved_at.is_(None))
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query).all()]


def unresolved_quarantines(engine: Engine, as_of: dt.date) -> pd.DataFrame:
    """Quarantined drops seen by the end of `as_of` with no loaded drop from the same department delivered
    after them (the correction that would settle them); delivery times as in _delivered_at, so a bad file
    and its correction seen by the same tick are still told apart."""
    cutoff = as_of_cutoff(as_of)
    seen = (select(LEDGER, _delivered_at(LEDGER).label("delivered_at"))
            .where(LEDGER.c.first_seen < cutoff).subquery())
    later = (select(seen.c.department, func.max(seen.c.delivered_at).label("last_loaded"))
             .where(seen.c.status == "loaded").group_by(seen.c.department).subquery())
    query = (select(seen.c.sha256, seen.c.department, seen.c.relative_name, seen.c.first_seen, seen.c.reason_codes,
                    seen.c.critical_count)
             .join(later, later.c.department == seen.c.department, isouter=True)
             .where(seen.c.status == "quarantined",
                    (later.c.last_loaded.is_(None)) | (later.c.last_loaded <= seen.c.delivered_at)))
    with engine.connect() as conn:
        return fetch_frame(conn, query, ["sha256", "department", "relative_name", "first_seen", "reason_codes",
                                         "critical_count"])
