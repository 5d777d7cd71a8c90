"""initial schema and BI views

Revision ID: 0001
Revises: 
Create Date: 2021-02-20

Tables of the star schema, then the BI views of warehouse/sql/0001_views.sql.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from warehouse.views import view_names, view_statements

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
VIEWS_SQL = "0001_views.sql"

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('dim_county',
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('name_zh', sa.Text(), nullable=False),
    sa.Column('name_en', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.Column('former_names', sa.JSON(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('in_catalog', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('county_code', name=op.f('pk_dim_county'))
    )
    op.create_table('dim_department',
    sa.Column('department', sa.String(length=64), nullable=False),
    sa.Column('name_zh', sa.Text(), nullable=False),
    sa.Column('name_en', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.Column('due_workday', sa.Integer(), nullable=True),
    sa.Column('in_catalog', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('department', name=op.f('pk_dim_department'))
    )
    op.create_table('dim_period',
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('label_zh', sa.String(length=16), nullable=False),
    sa.Column('in_plan', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('period', name=op.f('pk_dim_period'))
    )
    op.create_table('drop_ledger',
    sa.Column('load_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('department', sa.String(length=64), nullable=False),
    sa.Column('relative_name', sa.Text(), nullable=False),
    sa.Column('mtime', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('reason_codes', sa.JSON(), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('rows_loaded', sa.Integer(), nullable=False),
    sa.Column('rows_unchanged', sa.Integer(), nullable=False),
    sa.Column('rows_superseded', sa.Integer(), nullable=False),
    sa.Column('critical_count', sa.Integer(), nullable=False),
    sa.Column('warning_count', sa.Integer(), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('claimed', 'loaded', 'quarantined', 'ignored', 'duplicate')", name=op.f('ck_drop_ledger_status')),
    sa.PrimaryKeyConstraint('load_id', name=op.f('pk_drop_ledger')),
    sa.UniqueConstraint('sha256', name=op.f('uq_drop_ledger_sha256'))
    )
    op.create_index(op.f('ix_drop_ledger_department'), 'drop_ledger', ['department'], unique=False)
    op.create_table('fact_alert',
    sa.Column('alert_id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('fingerprint', sa.String(length=300), nullable=False),
    sa.Column('alert_class', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('target_id', sa.String(length=120), nullable=True),
    sa.Column('department', sa.String(length=64), nullable=True),
    sa.Column('county_code', sa.String(length=6), nullable=True),
    sa.Column('period', sa.String(length=7), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('message_zh', sa.Text(), nullable=False),
    sa.Column('message_en', sa.Text(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('last_notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("severity IN ('critical', 'warning', 'info')", name=op.f('ck_fact_alert_severity')),
    sa.PrimaryKeyConstraint('alert_id', name=op.f('pk_fact_alert'))
    )
    op.create_index('ux_fact_alert_open_fingerprint', 'fact_alert', ['fingerprint'], unique=True, sqlite_where=sa.text('resolved_at IS NULL'), postgresql_where=sa.text('resolved_at IS NULL'))
    op.create_table('dim_target',
    sa.Column('target_id', sa.String(length=120), nullable=False),
    sa.Column('name_zh', sa.Text(), nullable=False),
    sa.Column('name_en', sa.Text(), nullable=False),
    sa.Column('program', sa.String(length=64), nullable=False),
    sa.Column('program_name_zh', sa.Text(), nullable=False),
    sa.Column('program_name_en', sa.Text(), nullable=False),
    sa.Column('ref', sa.String(length=64), nullable=False),
    sa.Column('lead_department', sa.String(length=64), nullable=False),
    sa.Column('lead_departments', sa.JSON(), nullable=False),
    sa.Column('responsible_units', sa.JSON(), nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=False),
    sa.Column('unit_written', sa.String(length=32), nullable=False),
    sa.Column('comparator', sa.String(length=16), nullable=False),
    sa.Column('target_value', sa.Numeric(precision=30, scale=10), nullable=True),
    sa.Column('target_value_text', sa.String(length=64), nullable=True),
    sa.Column('tolerance_text', sa.String(length=64), nullable=True),
    sa.Column('direction', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('counties', sa.JSON(), nullable=False),
    sa.Column('county_values', sa.JSON(), nullable=False),
    sa.Column('additive', sa.Boolean(), nullable=False),
    sa.Column('frequency', sa.String(length=16), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('bounds_min_text', sa.String(length=64), nullable=True),
    sa.Column('bounds_max_text', sa.String(length=64), nullable=True),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.Column('in_catalog', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['lead_department'], ['dim_department.department'], name=op.f('fk_dim_target_lead_department_dim_department')),
    sa.PrimaryKeyConstraint('target_id', name=op.f('pk_dim_target'))
    )
    op.create_index(op.f('ix_dim_target_lead_department'), 'dim_target', ['lead_department'], unique=False)
    op.create_table('drop_sighting',
    sa.Column('sighting_id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('department', sa.String(length=64), nullable=False),
    sa.Column('relative_name', sa.Text(), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('times_seen', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['sha256'], ['drop_ledger.sha256'], name=op.f('fk_drop_sighting_sha256_drop_ledger')),
    sa.PrimaryKeyConstraint('sighting_id', name=op.f('pk_drop_sighting')),
    sa.UniqueConstraint('sha256', 'department', 'relative_name', name=op.f('uq_drop_sighting_sha256_department_relative_name'))
    )
    op.create_table('fact_check',
    sa.Column('check_id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('load_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('rule', sa.String(length=64), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('sheet', sa.Text(), nullable=True),
    sa.Column('row_number', sa.Integer(), nullable=True),
    sa.Column('column_name', sa.Text(), nullable=True),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('message_zh', sa.Text(), nullable=False),
    sa.Column('message_en', sa.Text(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("severity IN ('critical', 'warning', 'info')", name=op.f('ck_fact_check_severity')),
    sa.ForeignKeyConstraint(['load_id'], ['drop_ledger.load_id'], name=op.f('fk_fact_check_load_id_drop_ledger')),
    sa.PrimaryKeyConstraint('check_id', name=op.f('pk_fact_check'))
    )
    op.create_index(op.f('ix_fact_check_load_id'), 'fact_check', ['load_id'], unique=False)
    op.create_table('fact_observation',
    sa.Column('observation_id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('target_id', sa.String(length=120), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('value', sa.Numeric(precision=30, scale=10), nullable=False),
    sa.Column('value_text', sa.String(length=64), nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=False),
    sa.Column('basis', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('source_sha256', sa.String(length=64), nullable=False),
    sa.Column('source_sheet', sa.Text(), nullable=False),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.Column('load_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('superseded_by', BIG_ID, nullable=True),
    sa.CheckConstraint("basis IN ('ytd', 'month')", name=op.f('ck_fact_observation_basis')),
    sa.CheckConstraint("status IN ('provisional', 'final', 'revised')", name=op.f('ck_fact_observation_status')),
    sa.PrimaryKeyConstraint('observation_id', name=op.f('pk_fact_observation'))
    )
    op.create_index(op.f('ix_fact_observation_load_id'), 'fact_observation', ['load_id'], unique=False)
    op.create_index('ux_fact_observation_current', 'fact_observation', ['target_id', 'county_code', 'period'], unique=True, sqlite_where=sa.text('superseded_at IS NULL'), postgresql_where=sa.text('superseded_at IS NULL'))
    op.create_table('fact_target_status',
    sa.Column('status_id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('target_id', sa.String(length=120), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('value', sa.Numeric(precision=30, scale=10), nullable=True),
    sa.Column('target', sa.Numeric(precision=30, scale=10), nullable=True),
    sa.Column('completion_pct', sa.Numeric(precision=30, scale=10), nullable=True),
    sa.Column('expected_pct', sa.Numeric(precision=30, scale=10), nullable=True),
    sa.Column('gap_points', sa.Numeric(precision=30, scale=10), nullable=True),
    sa.Column('light', sa.String(length=8), nullable=False),
    sa.Column('projection', sa.Numeric(precision=30, scale=10), nullable=True),
    sa.Column('projection_low', sa.Numeric(precision=30, scale=10), nullable=True),
    sa.Column('projection_high', sa.Numeric(precision=30, scale=10), nullable=True),
    sa.Column('will_meet', sa.Boolean(), nullable=True),
    sa.Column('method', sa.String(length=64), nullable=False),
    sa.Column('detail_zh', sa.Text(), nullable=True),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("light IN ('green', 'yellow', 'red', 'grey')", name=op.f('ck_fact_target_status_light')),
    sa.ForeignKeyConstraint(['county_code'], ['dim_county.county_code'], name=op.f('fk_fact_target_status_county_code_dim_county')),
    sa.ForeignKeyConstraint(['target_id'], ['dim_target.target_id'], name=op.f('fk_fact_target_status_target_id_dim_target')),
    sa.PrimaryKeyConstraint('status_id', name=op.f('pk_fact_target_status')),
    sa.UniqueConstraint('target_id', 'county_code', 'as_of', 'period', 'method', name=op.f('uq_fact_target_status_target_id_county_code_as_of_period_method'))
    )
    for statement in view_statements(VIEWS_SQL):
        op.execute(statement)


def downgrade() -> None:
    for name in reversed(view_names(VIEWS_SQL)):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    for table in ("fact_target_status", "fact_observation", "fact_check", "drop_sighting", "dim_target",
                  "fact_alert", "drop_ledger", "dim_period", "dim_department", "dim_county"):
        op.drop_table(table)
