"""Alembic environment: runs migrations on the connection `warehouse.db.upgrade` hands over, or on a URL.

Migrations take the warehouse's write lock first (SQLite: BEGIN IMMEDIATE via the caller's connection;
PostgreSQL: a transaction-level advisory lock), so several workers starting at once upgrade one after another.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from warehouse.db import make_engine, write_connection
from warehouse.models import metadata

MIGRATION_LOCK = 7_305_252_021  # arbitrary constant shared by every minsheng process


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("no warehouse URL: use `minsheng db upgrade` or pass -x url=<sqlalchemy url>")
    engine = make_engine(url)
    try:
        with write_connection(engine) as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `minsheng db upgrade`")
run_migrations_online()
