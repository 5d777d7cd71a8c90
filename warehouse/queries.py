"""Read-side queries: current values, "what did we know on date D", and the ledger lookups discovery needs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Connection, Engine, Select, Table, or_, select

from warehouse.models import DropLedger, FactObservation

OBS: Table = FactObservation.__table__  # type: ignore[assignment]
LEDGER: Table = DropLedger.__table__  # type: ignore[assignment]
KEY = ["target_id", "county_code", "period"]
OBSERVATION_COLUMNS = ["observation_id", "target_id", "county_code", "period", "value", "value_text", "unit",
                       "basis", "status", "note", "source_sha256", "source_sheet", "source_row", "load_id",
                       "recorded_at", "superseded_at", "superseded_by"]
PLAN_TIMEZONE = "Asia/Shanghai"


def fetch_frame(conn: Connection, query: Select[tuple[object, ...]], columns: list[str]) -> pd.DataFrame:
    """Run `query` and build a DataFrame column by column (pandas probing SQLAlchemy Row objects one by one
    is ten times slower)."""
    data = list(zip(*conn.execute(query).fetchall(), strict=True)) or [()] * len(columns)
    return pd.DataFrame({name: pd.Series(list(values), dtype=object) for name, values in zip(columns, data,
                                                                                            strict=True)})


def _frame(conn: Connection, query: Select[tuple[object, ...]], columns: list[str]) -> pd.DataFrame:
    frame = fetch_frame(conn, query, columns)
    # Exact values come from value_text; `value` may be REAL-backed on SQLite. (Built as an object column:
    # pandas would otherwise infer an Arrow decimal type of the sample's scale.)
    frame["value"] = pd.Series([Decimal(v) for v in frame["value_text"].tolist()], index=frame.index, dtype=object)
    for name in ("target_id", "county_code", "period", "value_text", "unit", "basis", "status", "note",
                 "source_sha256", "source_sheet"):
        frame[name] = frame[name].astype("string")
    frame["source_row"] = frame["source_row"].astype("Int64")
    for column in ("observation_id", "load_id"):
        frame[column] = frame[column].astype("int64")
    frame["superseded_by"] = frame["superseded_by"].astype("Int64")
    return frame


def current_series_query(keys_frame: pd.DataFrame, columns: list[str]) -> Select[tuple[object, ...]]:
    """SELECT `columns` of the current observations of the targets, counties and years in `keys_frame`
    (a superset of the frame's series; callers narrow it to exact (target_id, county_code) pairs)."""
    years = sorted({str(p)[:4] for p in keys_frame["period"].dropna().unique()})
    return select(*(OBS.c[name] for name in columns)).where(
        OBS.c.superseded_at.is_(None),
        OBS.c.target_id.in_(sorted(keys_frame["target_id"].dropna().unique())),
        OBS.c.county_code.in_(sorted(keys_frame["county_code"].dropna().unique())),
        or_(*(OBS.c.period.like(f"{year}-%") for year in years)),
    )


def current_values(conn: Connection, keys_frame: pd.DataFrame) -> pd.DataFrame:
    """Current warehouse observations of the series a frame touches, read on `conn` (inside its transaction).

    `keys_frame` needs columns target_id, county_code and period. The result holds every current observation
    (columns OBSERVATION_COLUMNS, `value` as exact Decimal) whose (target_id, county_code) pair appears in the
    frame and whose period lies in a year the frame reports — the whole year-to-date series, so a validator can
    compare cumulative values across months, not only for the very same keys.
    """
    empty = keys_frame.empty or keys_frame["period"].dropna().empty
    query = select(OBS).where(OBS.c.observation_id < 0) if empty \
        else current_series_query(keys_frame, OBSERVATION_COLUMNS)
    held = _frame(conn, query, OBSERVATION_COLUMNS)
    pairs = keys_frame[["target_id", "county_code"]].drop_duplicates().astype("string")
    held = held.merge(pairs, on=["target_id", "county_code"])
    return held.sort_values(KEY, ignore_index=True)


def as_of_cutoff(when: dt.date | dt.datetime, tz: str = PLAN_TIMEZONE) -> dt.datetime:
    """The instant "as of `when`" means: a date is the end of that day in the plan's timezone; a naive datetime
    is read in that timezone; an aware one is used as is."""
    if isinstance(when, dt.datetime):
        return when if when.tzinfo is not None else when.replace(tzinfo=ZoneInfo(tz))
    return dt.datetime.combine(when + dt.timedelta(days=1), dt.time(), tzinfo=ZoneInfo(tz))


def observations_as_of(engine: Engine, when: dt.date | dt.datetime, *, tz: str = PLAN_TIMEZONE) -> pd.DataFrame:
    """What the warehouse believed at `when`: per key, the observation recorded by then and not yet superseded.

    The SQL pattern (docs/bi.md): recorded_at < :cutoff AND (superseded_at IS NULL OR superseded_at >= :cutoff),
    where for a date D the cutoff is midnight after D in Asia/Shanghai (so loads on day D count).
    """
    cutoff = as_of_cutoff(when, tz)
    is_exclusive = not isinstance(when, dt.datetime)
    recorded = OBS.c.recorded_at < cutoff if is_exclusive else OBS.c.recorded_at <= cutoff
    still_current = or_(OBS.c.superseded_at.is_(None),
                        OBS.c.superseded_at >= cutoff if is_exclusive else OBS.c.superseded_at > cutoff)
    query = select(*(OBS.c[name] for name in OBSERVATION_COLUMNS)).where(recorded, still_current)
    with engine.connect() as conn:
        frame = _frame(conn, query.order_by(*(OBS.c[k] for k in KEY)), OBSERVATION_COLUMNS)
    return frame


def was_loaded(engine: Engine, sha256: str) -> str | None:
    """The ledger status of this content (loaded, quarantined, ignored, …), or None if never seen."""
    with engine.connect() as conn:
        return conn.execute(select(LEDGER.c.status).where(LEDGER.c.sha256 == sha256)).scalar_one_or_none()


def seen_hashes(engine: Engine) -> set[str]:
    """Every sha256 in the ledger (one indexed column; discovery skips these without reading the files)."""
    with engine.connect() as conn:
        return set(conn.execute(select(LEDGER.c.sha256)).scalars().all())
