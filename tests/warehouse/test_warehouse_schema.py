"""Schema: migrations from empty, models = migrations, dimension sync, exact decimals — on both backends."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from wh_helpers import CHUXIONG, JOBS, PREFECTURE, UNEMPLOYMENT, catalog, frame, load_rows

from warehouse.db import alembic_config, current_revision, make_engine, upgrade
from warehouse.dims import decimal_text, sync_dimensions
from warehouse.load import LoadOutcome
from warehouse.models import metadata
from warehouse.queries import current_values
from warehouse.views import BI_VIEWS

TABLES = {"dim_county", "dim_department", "dim_period", "dim_target", "drop_ledger", "drop_sighting", "fact_alert",
          "fact_check", "fact_observation", "fact_target_status"}


def test_upgrade_from_empty_creates_schema_matching_the_models(warehouse_url: str) -> None:
    engine = make_engine(warehouse_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert current_revision(engine) == head
        assert set(inspect(engine).get_table_names()) >= TABLES
        assert set(BI_VIEWS) <= set(inspect(engine).get_view_names())
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
            assert diffs == []
            for view in BI_VIEWS:
                assert conn.execute(text(f"SELECT COUNT(*) FROM {view}")).scalar() == 0
        upgrade(engine)  # a second upgrade is a no-op
        assert current_revision(engine) == head
    finally:
        engine.dispose()


def test_upgrade_accepts_a_url_and_downgrade_removes_everything(warehouse_url: str) -> None:
    from alembic import command

    upgrade(warehouse_url)
    engine = make_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            config = alembic_config()
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
            conn.commit()
        assert not (TABLES & set(inspect(engine).get_table_names()))
        assert not set(BI_VIEWS) & set(inspect(engine).get_view_names())
    finally:
        engine.dispose()


def test_sync_dimensions_is_idempotent_and_retires_instead_of_deleting(engine: Engine) -> None:
    cat = catalog()
    second = sync_dimensions(engine, cat)  # the fixture already synced once
    assert all(counts == {"inserted": 0, "updated": 0, "retired": 0} for counts in second.values())
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM dim_target")).scalar() == len(cat.targets)
        county = conn.execute(text("SELECT name_zh, kind, aliases FROM dim_county WHERE county_code = :c"),
                              {"c": CHUXIONG}).one()
        aliases = json.loads(county.aliases) if isinstance(county.aliases, str) else county.aliases
        assert county.name_zh == "楚雄市" and county.kind == "county" and "楚雄" in aliases
        assert conn.execute(text("SELECT kind FROM dim_county WHERE county_code = :c"),
                            {"c": PREFECTURE}).scalar() == "prefecture"
        jobs = conn.execute(text("SELECT kind, unit, lead_department FROM dim_target WHERE target_id = :t"),
                            {"t": JOBS}).one()
        assert (jobs.kind, jobs.unit) == ("cumulative", "person")
    smaller = cat.model_copy(update={"targets": [t for t in cat.targets if t.id != UNEMPLOYMENT]})
    assert sync_dimensions(engine, smaller)["dim_target"] == {"inserted": 0, "updated": 0, "retired": 1}
    with engine.connect() as conn:
        row = conn.execute(text("SELECT in_catalog FROM dim_target WHERE target_id = :t"), {"t": UNEMPLOYMENT})
        assert not row.scalar()
    assert sync_dimensions(engine, cat)["dim_target"] == {"inserted": 0, "updated": 1, "retired": 0}


EXACT = ["0.1", "4.1", "97.2", "13900", "-0.0000000001", "0.0000001", "99999999999999.9", "12345678901234.5",
         "1E+3", "0.3000000001", "12345678901234567890.1234567891"]


def test_decimal_values_round_trip_exactly(engine: Engine) -> None:
    """value_text is exact for every value NUMERIC(30, 10) holds; the numeric `value` the views use is exact to
    15 significant digits on both backends (REAL on SQLite, NUMERIC on PostgreSQL)."""
    periods = [f"2021-{m:02d}" for m in range(1, 13)]
    rows = frame([(UNEMPLOYMENT, CHUXIONG, periods[i], v) for i, v in enumerate(EXACT)])
    result = load_rows(engine, rows)
    assert result.outcome == LoadOutcome.LOADED and result.rows_loaded == len(EXACT)
    with engine.connect() as conn:
        view = conn.execute(text("SELECT period, value_text, value FROM v_observation_current")).all()
        stored = {r.period: r.value_text for r in view}
        numeric = {r.period: r.value for r in view}
        held = current_values(conn, rows[["target_id", "county_code", "period"]])
    for period, written in zip(periods, EXACT, strict=False):
        assert stored[period] == decimal_text(Decimal(written))
        assert Decimal(stored[period]) == Decimal(written)
        if len(Decimal(written).normalize().as_tuple().digits) <= 15:
            assert Decimal(str(numeric[period])).normalize() == Decimal(written).normalize()
    assert dict(zip(held["period"], held["value"], strict=True)) == {
        p: Decimal(v) for p, v in zip(periods, EXACT, strict=False)}


@pytest.mark.parametrize(("value", "text_form"), [("1E+2", "100"), ("1.50", "1.5"), ("-0", "0"), ("0.000", "0"),
                                                  ("1.000E-7", "0.0000001")], ids=str)
def test_decimal_text_is_canonical(value: str, text_form: str) -> None:
    assert decimal_text(Decimal(value)) == text_form
