"""Air quality from monitoring-station feeds: daily AQI (HJ 633-2012) and the good-days ratio.

Public API (the integration contract):

- `load_registry(path) -> StationRegistry`: the station list beside the catalog (`stations.yaml`);
- `read_feed(source, co_unit=, registry=, hour_label=, granularity=) -> AqFeed` (raises FeedError);
- `check_feed(feed, registry, as_of=) -> (AqFeed, [Issue])`: quality checks;
- `derive(feed, registry) -> AqResult`, or `run_derivation(source, registry, ...) -> AqResult` for all three;
- `AqResult.summary()` (per area/year/month) and `AqResult.observations(drop_sha256, source)` (NORMALIZED_COLUMNS).
"""

from tasks.aq.derive import AqResult, compare_published, derive, run_derivation
from tasks.aq.feed import AqFeed, read_feed
from tasks.aq.parsing import FeedError
from tasks.aq.periods import GOOD_DAYS_TARGET, PM25_TARGET, summarize, to_observations, year_to_date
from tasks.aq.quality import check_feed
from tasks.aq.registry import RegistryError, Station, StationRegistry, load_registry

__all__ = [
    "GOOD_DAYS_TARGET", "PM25_TARGET", "AqFeed", "AqResult", "FeedError", "RegistryError", "Station",
    "StationRegistry", "check_feed", "compare_published", "derive", "load_registry", "read_feed",
    "run_derivation", "summarize", "to_observations", "year_to_date",
]
