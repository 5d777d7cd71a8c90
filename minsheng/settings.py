"""Where things are: paths, the warehouse URL, alert channels. Read from MINSHENG_* environment variables."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from expectations.loader import DEFAULT_CATALOG_DIR


class DataLayout:
    """Where things live under the data directory: inboxes, curated Parquet, quarantine, reports, state."""

    data_dir: Path

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def curated_dir(self) -> Path:
        return self.data_dir / "curated"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def state_dir(self) -> Path:
        return self.data_dir / ".minsheng"


class Settings(DataLayout, BaseSettings):
    """Runtime settings; every field can be set as MINSHENG_<FIELD> (e.g. MINSHENG_DATA_DIR)."""

    model_config = SettingsConfigDict(env_prefix="MINSHENG_", extra="ignore")

    data_dir: Path = Field(Path("data"), description="root of raw/, curated/, quarantine/, reports/")
    warehouse_url: str | None = Field(None, description="SQLAlchemy URL; default a SQLite file in data_dir")
    catalog_dir: Path = Field(DEFAULT_CATALOG_DIR, description="the target catalog (next year's plan = another)")
    stable_seconds: float = Field(10.0, description="a file must keep size and mtime this long before it is read")
    max_file_bytes: int = Field(200 * 1024 * 1024, description="larger drops are quarantined unread")
    max_rows: int = Field(10_000_000, description="rows per drop before it is quarantined")
    max_columns: int = Field(200, description="columns per sheet before it is quarantined")
    task_runner: str = Field("sequential", description="sequential | dask (prefect-dask DaskTaskRunner)")
    dask_address: str | None = Field(None, description="scheduler address; a local cluster when unset")
    dask_workers: int = Field(2, description="worker processes of the local Dask cluster")
    alert_urls: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Apprise URLs per recipient (a department slug, data_team or supervision_office), as JSON",
    )
    yellow_gap_points: float = Field(10.0, description="behind schedule by more than this → yellow")
    red_gap_points: float = Field(30.0, description="behind schedule by more than this → red")

    @cached_property
    def resolved_warehouse_url(self) -> str:
        if self.warehouse_url:
            return self.warehouse_url
        return f"sqlite:///{(self.data_dir / 'warehouse.sqlite').resolve()}"


def get_settings() -> Settings:
    """Fresh settings from the current environment (tests change the environment between cases)."""
    return Settings()
