"""Engines and migrations: one place that knows how to connect to SQLite or PostgreSQL safely."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from alembic.config import Config

WAREHOUSE_DIR = Path(__file__).resolve().parent
ALEMBIC_INI = WAREHOUSE_DIR / "alembic.ini"
MIGRATIONS_DIR = WAREHOUSE_DIR / "migrations"

# Execution option naming the kind of BEGIN a SQLite connection emits: DEFERRED for readers, IMMEDIATE for a
# writer that must hold the write lock from its first statement (the load claims a drop, then reads the current
# values it compares against — both must happen under the same lock).
SQLITE_BEGIN = "minsheng_sqlite_begin"


def make_engine(url: str, *, busy_timeout_ms: int = 30_000, echo: bool = False) -> Engine:
    """An engine for the warehouse at `url` (sqlite:///path or postgresql+psycopg://...).

    SQLite: WAL journal (readers never block the writer), foreign keys on, synchronous=FULL, a busy timeout,
    and SQLAlchemy emits BEGIN itself so reads, DDL and savepoints are truly transactional.
    PostgreSQL: `lock_timeout` = the same timeout, so a blocked load fails with a transient error (and is
    retried) instead of hanging forever; pre-ping drops dead pooled connections.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ValueError("the warehouse needs a SQLite *file* (sqlite:///path/warehouse.sqlite), not :memory:")
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, json_serializer=_json, connect_args={"timeout": busy_timeout_ms / 1000})
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    if parsed.get_backend_name() == "postgresql":
        given = parsed.query.get("options")  # keep options the URL already carries (e.g. a search_path)
        given = " ".join(given) if isinstance(given, tuple) else given
        options = " ".join(filter(None, [given, f"-c lock_timeout={int(busy_timeout_ms)}"]))
        return create_engine(url, echo=echo, pool_pre_ping=True, json_serializer=_json,
                             connect_args={"options": options})
    raise ValueError(f"unsupported warehouse URL {parsed.render_as_string(hide_password=True)!r}: "
                     "use sqlite:///<file> or postgresql+psycopg://<user>@<host>/<db>")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # 楚雄 stays readable in the database, not \u695a\u96c4


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see the begin hook)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        if mode not in {"DEFERRED", "IMMEDIATE", "EXCLUSIVE"}:
            raise ValueError(f"bad {SQLITE_BEGIN} execution option {mode!r}")
        conn.exec_driver_sql(f"BEGIN {mode}")


def write_connection(engine: Engine) -> Connection:
    """A connection whose transactions take the SQLite write lock at BEGIN (a no-op option on PostgreSQL)."""
    return engine.connect().execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration for our migrations, independent of the current working directory."""
    from alembic.config import Config  # imported here: loaders and readers never pay for alembic

    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine_or_url: Engine | str, revision: str = "head") -> None:
    """Create or upgrade the warehouse schema (tables, indexes, BI views) to `revision`."""
    from alembic import command

    engine = make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    try:
        with write_connection(engine) as conn:
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
    finally:
        if isinstance(engine_or_url, str):
            engine.dispose()


def current_revision(engine: Engine) -> str | None:
    """The schema revision stamped in the database, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def table_names(engine: Engine) -> list[str]:
    """Names of the tables in the database (views excluded)."""
    return sorted(inspect(engine).get_table_names())
