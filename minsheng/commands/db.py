"""`minsheng db …` and `minsheng curated …`: create/upgrade the warehouse, sync its dimensions, rebuild Parquet.

The warehouse URL comes from MINSHENG_WAREHOUSE_URL (default: a SQLite file in the data folder); `--url`
overrides it for one command.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy.engine import make_url

from expectations.loader import CatalogError, load_catalog
from minsheng.cli import app
from minsheng.settings import get_settings
from warehouse.curated import curated_is_stale, rebuild_curated
from warehouse.db import current_revision, make_engine, upgrade
from warehouse.dims import sync_dimensions

db_app = typer.Typer(name="db", no_args_is_help=True, help="Create or upgrade the warehouse and load its dimensions.")
curated_app = typer.Typer(name="curated", no_args_is_help=True, help="The curated Parquet copies for BI tools.")
app.add_typer(db_app, name="db")
app.add_typer(curated_app, name="curated")

console = Console(soft_wrap=True, highlight=False)

URL_OPTION = typer.Option(None, "--url", help="SQLAlchemy URL of the warehouse (default: from settings)")


def _url(url: str | None) -> str:
    return url or get_settings().resolved_warehouse_url


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@db_app.command("upgrade")
def upgrade_command(url: str | None = URL_OPTION) -> None:
    """Create the schema in an empty database, or upgrade an existing one to the newest revision."""
    target = _url(url)
    engine = make_engine(target)
    try:
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
    finally:
        engine.dispose()
    change = "already at" if before == after else f"upgraded {before or 'empty database'} →"
    console.print(f"warehouse {_shown(target)}: {change} revision {after}")


@db_app.command("sync")
def sync_command(url: str | None = URL_OPTION,
                 catalog_dir: Path | None = typer.Option(None, "--catalog-dir", help="catalog to load")) -> None:
    """Load targets, departments, counties and periods from the catalog into the dimension tables."""
    target = _url(url)
    try:
        catalog = load_catalog(catalog_dir or get_settings().catalog_dir)
    except CatalogError as error:
        console.print(f"[red]目录有误 / the catalog is invalid:[/red]\n{error}")
        raise typer.Exit(1) from error
    engine = make_engine(target)
    try:
        upgrade(engine)
        counts = sync_dimensions(engine, catalog)
    finally:
        engine.dispose()
    for table, changes in counts.items():
        console.print(f"{table}: " + ", ".join(f"{k} {v}" for k, v in changes.items()))


@curated_app.command("rebuild")
def rebuild_command(url: str | None = URL_OPTION,
                    curated_dir: Path | None = typer.Option(None, "--curated-dir", help="where the Parquet goes")
                    ) -> None:
    """Rewrite every curated Parquet partition (and the manifest) from the warehouse."""
    target = _url(url)
    directory = curated_dir or get_settings().curated_dir
    engine = make_engine(target)
    try:
        written = rebuild_curated(engine, directory)
    finally:
        engine.dispose()
    console.print(f"curated Parquet rebuilt under {directory}: " +
                  ", ".join(f"{table} {n} partition(s)" for table, n in written.items()))


@curated_app.command("status")
def status_command(url: str | None = URL_OPTION,
                   curated_dir: Path | None = typer.Option(None, "--curated-dir", help="the Parquet folder")
                   ) -> None:
    """Say whether the curated Parquet matches the warehouse (exit code 1 when it is stale)."""
    engine = make_engine(_url(url))
    directory = curated_dir or get_settings().curated_dir
    try:
        stale = curated_is_stale(engine, directory)
    finally:
        engine.dispose()
    console.print(f"curated Parquet under {directory}: " + ("stale — run `minsheng curated rebuild`" if stale
                                                            else "up to date"))
    if stale:
        raise typer.Exit(1)
