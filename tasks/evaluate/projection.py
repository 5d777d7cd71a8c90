"""Year-end projections with a rough interval (the ESCAP "anticipated progress" idea on a monthly clock)."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from decimal import Decimal

from tasks.evaluate.config import Thresholds


@dataclass(frozen=True)
class Projection:
    """Projected year-end value with a rough interval (low ≤ point ≤ high), in the target's canonical unit."""

    point: Decimal
    low: Decimal
    high: Decimal


def project_cumulative(ytd: Decimal, share: Decimal, increments: list[Decimal], months_left: int,
                       thresholds: Thresholds) -> Projection | None:
    """Year-end total of a cumulative target if the rest of the year goes like the schedule so far.

    point = ytd / share, where share is the expected fraction of the year done by now (linear m/12 or last
    year's seasonal share). The interval: with ≥ `min_increments` monthly increments, ± z·sd·√(months left);
    otherwise ± a relative half-width that shrinks to 0 at year end. The low end never falls below the ytd
    value already reached (a cumulative count does not go back). None when share is 0 (nothing expected yet).
    """
    if share <= 0:
        return None
    point = ytd / share
    if months_left <= 0:
        return Projection(point, point, point)
    if len(increments) >= thresholds.min_increments:
        sd = statistics.stdev(float(i) for i in increments)
        half = Decimal(repr(thresholds.projection_z * sd * math.sqrt(months_left)))
    else:
        half = abs(point) * Decimal(repr(thresholds.projection_rel_halfwidth)) * (1 - share)
    return Projection(point, max(point - half, ytd), point + half)


def project_level(ytd_value: Decimal, monthly: list[Decimal], months_left: int,
                  thresholds: Thresholds) -> Projection:
    """Year-end value of a level target (rate, ratio): the year-to-date statistic, with a rough interval.

    The year-end statistic is taken as the mean of twelve months: the unreported months add uncertainty
    z·sd·√(months left)/12 when the month-to-month spread can be estimated, else a relative half-width.
    """
    if months_left <= 0:
        return Projection(ytd_value, ytd_value, ytd_value)
    if len(monthly) >= thresholds.min_increments:
        sd = statistics.stdev(float(v) for v in monthly)
        half = Decimal(repr(thresholds.projection_z * sd * math.sqrt(months_left) / 12))
    else:
        half = abs(ytd_value) * Decimal(repr(thresholds.projection_rel_halfwidth)) * Decimal(months_left) / 12
    return Projection(ytd_value, ytd_value - half, ytd_value + half)
