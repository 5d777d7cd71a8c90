"""The warehouse schema: a star of dimensions (targets, departments, counties, periods) around fact tables.

Facts are append-mostly. An observation is never deleted or edited except to mark it superseded by a later
accepted submission for the same target × county × period (`superseded_at`, `superseded_by`); the current value of
a key is its one row with `superseded_at IS NULL` (a partial unique index guarantees there is at most one).
Exact values: `value_text` holds the canonical decimal string (authoritative, exact on every backend); `value`
is the same number as NUMERIC(30, 10) for views and BI (exact on PostgreSQL, REAL-backed on SQLite).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from warehouse.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Drop-ledger states. `claimed` exists only inside the load transaction (a crash rolls it back with everything
# else); the others are final for a given sha256.
LEDGER_STATUSES = ("claimed", "loaded", "quarantined", "ignored", "duplicate")
OBSERVATION_STATUSES = ("provisional", "final", "revised")
LIGHTS = ("green", "yellow", "red", "grey")
SEVERITIES = ("critical", "warning", "info")

BigId = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements only INTEGER PRIMARY KEY
Exact = Numeric(30, 10, asdecimal=True)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {dt.datetime: UTCDateTime(), Decimal: Exact}


class DimDepartment(Base):
    """A lead department or responsible unit; `department` is its slug and drop-folder name."""

    __tablename__ = "dim_department"

    department: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))
    aliases: Mapped[list[str]] = mapped_column(JSON)
    due_workday: Mapped[int | None] = mapped_column(Integer)
    in_catalog: Mapped[bool] = mapped_column(Boolean)


class DimCounty(Base):
    """A county-level unit, a development zone, or the prefecture itself, keyed by its 6-digit code."""

    __tablename__ = "dim_county"

    county_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name_zh: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))  # prefecture | county | zone
    aliases: Mapped[list[str]] = mapped_column(JSON)
    former_names: Mapped[list[str]] = mapped_column(JSON)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    in_catalog: Mapped[bool] = mapped_column(Boolean)


class DimPeriod(Base):
    """A reporting month, 'YYYY-MM'; `in_plan` marks the months the plan's calendar expects reports for."""

    __tablename__ = "dim_period"

    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    label_zh: Mapped[str] = mapped_column(String(16))  # 2021年3月
    in_plan: Mapped[bool] = mapped_column(Boolean)


class DimTarget(Base):
    """One measurable target of the plan, denormalized with its program for BI."""

    __tablename__ = "dim_target"

    target_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    name_zh: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    program: Mapped[str] = mapped_column(String(64))
    program_name_zh: Mapped[str] = mapped_column(Text)
    program_name_en: Mapped[str] = mapped_column(Text)
    ref: Mapped[str] = mapped_column(String(64))
    lead_department: Mapped[str] = mapped_column(ForeignKey("dim_department.department"), index=True)
    lead_departments: Mapped[list[str]] = mapped_column(JSON)
    responsible_units: Mapped[list[str]] = mapped_column(JSON)
    unit: Mapped[str] = mapped_column(String(32))
    unit_written: Mapped[str] = mapped_column(String(32))
    comparator: Mapped[str] = mapped_column(String(16))
    target_value: Mapped[Decimal | None] = mapped_column(Exact)
    target_value_text: Mapped[str | None] = mapped_column(String(64))
    tolerance_text: Mapped[str | None] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # cumulative | level | budget | milestone
    scope: Mapped[str] = mapped_column(String(16))
    counties: Mapped[list[str]] = mapped_column(JSON)
    county_values: Mapped[dict[str, str]] = mapped_column(JSON)  # county code → exact decimal string
    additive: Mapped[bool] = mapped_column(Boolean)
    frequency: Mapped[str] = mapped_column(String(16))
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    bounds_min_text: Mapped[str | None] = mapped_column(String(64))
    bounds_max_text: Mapped[str | None] = mapped_column(String(64))
    aliases: Mapped[list[str]] = mapped_column(JSON)
    in_catalog: Mapped[bool] = mapped_column(Boolean)


class DropLedger(Base):
    """Every drop file the pipeline decided about, one row per distinct content (sha256 of the bytes)."""

    __tablename__ = "drop_ledger"
    __table_args__ = (CheckConstraint(_in("status", LEDGER_STATUSES), name="status"),)

    load_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    department: Mapped[str] = mapped_column(String(64), index=True)
    relative_name: Mapped[str] = mapped_column(Text)
    mtime: Mapped[dt.datetime | None]
    first_seen: Mapped[dt.datetime]
    last_seen: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(32))  # the verdict: load | load-with-warnings | ...
    reason_codes: Mapped[list[str]] = mapped_column(JSON)  # distinct codes of the critical issues
    row_count: Mapped[int] = mapped_column(Integer)  # rows in the verdict
    rows_loaded: Mapped[int] = mapped_column(Integer)  # new observation rows written
    rows_unchanged: Mapped[int] = mapped_column(Integer)  # rows equal to the current value (not rewritten)
    rows_superseded: Mapped[int] = mapped_column(Integer)  # earlier current rows this drop superseded
    critical_count: Mapped[int] = mapped_column(Integer)
    warning_count: Mapped[int] = mapped_column(Integer)
    finished_at: Mapped[dt.datetime | None]


class DropSighting(Base):
    """Each name under which some content was seen; a renamed re-drop of known bytes adds a sighting only."""

    __tablename__ = "drop_sighting"
    __table_args__ = (UniqueConstraint("sha256", "department", "relative_name"),)

    sighting_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("drop_ledger.sha256"))
    department: Mapped[str] = mapped_column(String(64))
    relative_name: Mapped[str] = mapped_column(Text)
    first_seen: Mapped[dt.datetime]
    last_seen: Mapped[dt.datetime]
    times_seen: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))  # the ledger status, or duplicate for a re-drop


class FactObservation(Base):
    """Every accepted value with its provenance; revisions supersede, never delete.

    No enforced foreign keys here: PostgreSQL checks each one with a per-row trigger (~10 µs a row, six of them
    doubled the time of a 200k-row load). The loader checks every reference inside the load transaction
    (targets and counties against the dimensions, periods added on demand, ledger ids from its own claim), and
    dimensions are never deleted. The views join on these columns as on foreign keys.
    """

    __tablename__ = "fact_observation"
    __table_args__ = (
        CheckConstraint(_in("status", OBSERVATION_STATUSES), name="status"),
        CheckConstraint("basis IN ('ytd', 'month')", name="basis"),
        Index(
            "ux_fact_observation_current",
            "target_id",
            "county_code",
            "period",
            unique=True,
            sqlite_where=text("superseded_at IS NULL"),
            postgresql_where=text("superseded_at IS NULL"),
        ),
    )

    observation_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    target_id: Mapped[str] = mapped_column(String(120))
    county_code: Mapped[str] = mapped_column(String(6))
    period: Mapped[str] = mapped_column(String(7))
    value: Mapped[Decimal] = mapped_column(Exact)
    value_text: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(32))
    basis: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str] = mapped_column(String(64))
    source_sheet: Mapped[str] = mapped_column(Text)
    source_row: Mapped[int | None] = mapped_column(Integer)
    load_id: Mapped[int] = mapped_column(Integer, index=True)
    recorded_at: Mapped[dt.datetime]
    superseded_at: Mapped[dt.datetime | None]
    superseded_by: Mapped[int | None] = mapped_column(BigId)


class FactCheck(Base):
    """One validation finding about a drop (from reading, validation or the loader's own checks)."""

    __tablename__ = "fact_check"
    __table_args__ = (CheckConstraint(_in("severity", SEVERITIES), name="severity"),)

    check_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    load_id: Mapped[int] = mapped_column(ForeignKey("drop_ledger.load_id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    sheet: Mapped[str | None] = mapped_column(Text)
    row_number: Mapped[int | None] = mapped_column(Integer)
    column_name: Mapped[str | None] = mapped_column(Text)
    value: Mapped[str | None] = mapped_column(Text)
    message_zh: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime]


class FactTargetStatus(Base):
    """Progress of a target in a county as known on `as_of`; one row per (target, county, as_of, period,
    method). A days-budget target (the good-air-days ratio) has two: its level row and its allowance row
    (method budget: value = non-good days used, target = days allowed; see docs/bi.md)."""

    __tablename__ = "fact_target_status"
    __table_args__ = (
        UniqueConstraint("target_id", "county_code", "as_of", "period", "method"),
        CheckConstraint(_in("light", LIGHTS), name="light"),
    )

    status_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    target_id: Mapped[str] = mapped_column(ForeignKey("dim_target.target_id"))
    county_code: Mapped[str] = mapped_column(ForeignKey("dim_county.county_code"))
    as_of: Mapped[dt.date] = mapped_column(Date)
    period: Mapped[str] = mapped_column(String(7))
    value: Mapped[Decimal | None] = mapped_column(Exact)
    target: Mapped[Decimal | None] = mapped_column(Exact)
    completion_pct: Mapped[Decimal | None] = mapped_column(Exact)
    expected_pct: Mapped[Decimal | None] = mapped_column(Exact)
    gap_points: Mapped[Decimal | None] = mapped_column(Exact)  # points behind schedule (> 0 behind, < 0 ahead)
    light: Mapped[str] = mapped_column(String(8))
    projection: Mapped[Decimal | None] = mapped_column(Exact)
    projection_low: Mapped[Decimal | None] = mapped_column(Exact)
    projection_high: Mapped[Decimal | None] = mapped_column(Exact)
    will_meet: Mapped[bool | None] = mapped_column(Boolean)
    method: Mapped[str] = mapped_column(String(64))
    detail_zh: Mapped[str | None] = mapped_column(Text)  # the status in one Chinese sentence, numbers included
    computed_at: Mapped[dt.datetime]


class FactAlert(Base):
    """An alert and its lifecycle; at most one open alert per fingerprint (kind, target, county, period)."""

    __tablename__ = "fact_alert"
    __table_args__ = (
        Index(
            "ux_fact_alert_open_fingerprint",
            "fingerprint",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
        CheckConstraint(_in("severity", SEVERITIES), name="severity"),
    )

    alert_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(300))
    alert_class: Mapped[str] = mapped_column(String(32))  # data_quality | delivery_lag | progress | anomaly
    kind: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[str | None] = mapped_column(String(120))
    department: Mapped[str | None] = mapped_column(String(64))
    county_code: Mapped[str | None] = mapped_column(String(6))
    period: Mapped[str | None] = mapped_column(String(7))
    opened_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    resolved_at: Mapped[dt.datetime | None]
    escalation_level: Mapped[int] = mapped_column(Integer)
    message_zh: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    last_notified_at: Mapped[dt.datetime | None]


metadata = Base.metadata
