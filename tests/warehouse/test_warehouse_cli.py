"""`minsheng db upgrade`, `minsheng db sync`, `minsheng curated rebuild|status` against both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from typer.testing import CliRunner

import minsheng.commands.db  # noqa: F401  (registers the commands on the app)
from minsheng.cli import app
from warehouse.db import make_engine
from warehouse.views import BI_VIEWS


def test_db_upgrade_sync_and_curated_rebuild(warehouse_url: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINSHENG_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("MINSHENG_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    first = runner.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert "upgraded empty database" in first.output and "0001" in first.output
    again = runner.invoke(app, ["db", "upgrade"])
    assert again.exit_code == 0 and "already at revision 0001" in again.output
    synced = runner.invoke(app, ["db", "sync"])
    assert synced.exit_code == 0, synced.output
    assert "dim_target: inserted" in synced.output
    engine = make_engine(warehouse_url)
    try:
        assert set(BI_VIEWS) <= set(inspect(engine).get_view_names())
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM dim_target")).scalar_one() > 100
    finally:
        engine.dispose()
    stale = runner.invoke(app, ["curated", "status"])
    assert stale.exit_code == 0, stale.output  # nothing loaded yet: nothing to publish
    rebuilt = runner.invoke(app, ["curated", "rebuild", "--curated-dir", str(tmp_path / "cur")])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert (tmp_path / "cur" / "_manifest.json").is_file()


def test_db_sync_reports_a_broken_catalog(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["db", "sync", "--url", f"sqlite:///{tmp_path / 'w.sqlite'}",
                                      "--catalog-dir", str(tmp_path / "nowhere")])
    assert result.exit_code == 1 and "catalog" in result.output
