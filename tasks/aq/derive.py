"""From a feed drop to daily AQIs, period statistics and observations, in one call.

`run_derivation` reads, checks and derives; any critical issue stops it before derivation (the drop contract:
a file with a critical failure is quarantined whole). Where the feed publishes a daily AQI, the computed one is
compared with it and each disagreement is a warning naming the station and day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tasks.aq.areas import area_days
from tasks.aq.daily import score, station_days
from tasks.aq.feed import AqFeed, read_feed
from tasks.aq.parsing import FeedError, Granularity, HourLabel
from tasks.aq.periods import summarize, to_observations
from tasks.aq.quality import MAX_LISTED, check_feed
from tasks.aq.registry import CoUnit, StationRegistry
from tasks.contracts import Issue, Outcome, Severity, outcome_for


@dataclass
class AqResult:
    """Everything derived from one drop. Frames are empty when a critical issue stopped the derivation."""

    station_days: pd.DataFrame
    area_days: pd.DataFrame
    issues: list[Issue] = field(default_factory=list)
    feed: AqFeed | None = None

    @property
    def outcome(self) -> Outcome:
        return outcome_for(self.issues)

    def summary(self, places: int = 1) -> pd.DataFrame:
        """Per area, year and month (and whole year): see `tasks.aq.periods.summarize`."""
        return summarize(self.area_days, places)

    def observations(self, drop_sha256: str | None = None, source: str = "", places: int = 1) -> pd.DataFrame:
        """NORMALIZED_COLUMNS rows for the catalog's air targets: see `tasks.aq.periods.to_observations`."""
        return to_observations(self.area_days, drop_sha256, source, places)


def derive(feed: AqFeed, registry: StationRegistry, include_o3_1h: bool = True) -> AqResult:
    """Station-days and area-days of a checked feed, plus the published-AQI comparison issues."""
    days = score(station_days(feed), include_o3_1h=include_o3_1h)
    areas = area_days(days, registry, include_o3_1h=include_o3_1h)
    return AqResult(days, areas, compare_published(feed, days), feed)


def run_derivation(source: Path | str, registry: StationRegistry, *, co_unit: CoUnit | None = None,
                   hour_label: HourLabel = "start", granularity: Granularity | None = None,
                   as_of: dt.date | None = None, include_o3_1h: bool = True) -> AqResult:
    """Read, check and derive a drop (a file or a folder of files); never raises for bad data."""
    try:
        feed = read_feed(source, co_unit=co_unit, registry=registry, hour_label=hour_label,
                         granularity=granularity)
    except FeedError as exc:
        return AqResult(pd.DataFrame(), pd.DataFrame(), exc.issues)
    checked, issues = check_feed(feed, registry, as_of=as_of)
    if any(i.severity == Severity.CRITICAL for i in issues):
        return AqResult(pd.DataFrame(), pd.DataFrame(), issues, checked)
    result = derive(checked, registry, include_o3_1h=include_o3_1h)
    result.issues = issues + result.issues
    return result


def compare_published(feed: AqFeed, scored_days: pd.DataFrame) -> list[Issue]:
    """Warnings where a published daily AQI differs from the computed one (station and day named).

    Hourly feeds' AQI columns are real-time hourly indices (HJ 633 §5.2, other rules): not compared, said so.
    """
    if "aqi" not in feed.frame.columns or feed.frame["aqi"].isna().all():
        return []
    if feed.granularity == "hourly":
        return [Issue(Severity.INFO, "published_aqi_not_compared",
                      "小时数据中的 AQI 为实时报指数，与日 AQI 规则不同，未作比对",
                      "the hourly feed's AQI column is the real-time index, computed by other rules than the "
                      "daily AQI; it was not compared", column="aqi")]
    published = feed.frame["aqi"].to_numpy()
    computed = scored_days["aqi"].to_numpy()
    differ = ~np.isnan(published) & (np.isnan(computed) | (published != computed))
    issues = []
    positions = np.flatnonzero(differ)
    for pos in positions[:MAX_LISTED]:
        sid = str(scored_days["station"].iloc[pos])
        day = pd.Timestamp(scored_days["date"].iloc[pos]).date()
        mine = "无（当日数据无效）" if np.isnan(computed[pos]) else f"{computed[pos]:.0f}"
        mine_en = "none (the day is not valid)" if np.isnan(computed[pos]) else f"{computed[pos]:.0f}"
        sheet, row = feed.locate(int(feed.frame.index[pos]))
        issues.append(Issue(Severity.WARNING, "aqi_mismatch",
                            f"站点 {sid} {day} 报送 AQI {published[pos]:.0f}，按 HJ 633-2012 计算为 {mine}",
                            f"station {sid} on {day}: published AQI {published[pos]:.0f}, computed per HJ 633-2012 "
                            f"{mine_en}", sheet=sheet, row=row, column="aqi", value=f"{published[pos]:g}"))
    if len(positions) > MAX_LISTED:
        issues.append(Issue(Severity.WARNING, "aqi_mismatch", f"另有 {len(positions) - MAX_LISTED} 个站日 AQI 不一致",
                            f"{len(positions) - MAX_LISTED} more station-days disagree with the published AQI"))
    return issues
