"""Traffic-light thresholds and projection settings (configuration, not code: see Settings)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

GREEN, YELLOW, RED, GREY = "green", "yellow", "red", "grey"
LIGHTS: tuple[str, ...] = (GREEN, YELLOW, RED, GREY)
LIGHT_ZH = {GREEN: "绿灯", YELLOW: "黄灯", RED: "红灯", GREY: "灰灯"}


@dataclass(frozen=True)
class Thresholds:
    """How far behind the time-proportional schedule (序时进度) a target may fall, in percentage points.

    Behind by at most `yellow_gap_points` is green; by more than that yellow; by more than
    `red_gap_points` red (银川 practice: yellow 10–30 points behind, red beyond 30). Projection
    settings give the rough year-end interval: `projection_z` standard errors when monthly variability
    can be estimated (≥ `min_increments` months), otherwise ± `projection_rel_halfwidth` of the
    projection, shrinking as the year elapses.
    """

    yellow_gap_points: Decimal = Decimal(10)
    red_gap_points: Decimal = Decimal(30)
    projection_z: float = 1.645
    projection_rel_halfwidth: float = 0.15
    min_increments: int = 3

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.yellow_gap_points <= self.red_gap_points:
            raise ValueError(
                f"阈值应满足 0 ≤ 黄灯 ≤ 红灯 / thresholds need 0 ≤ yellow ({self.yellow_gap_points}) ≤ red "
                f"({self.red_gap_points}); fix MINSHENG_YELLOW_GAP_POINTS / MINSHENG_RED_GAP_POINTS")

    @classmethod
    def from_settings(cls, settings: Any) -> Thresholds:
        """Thresholds from minsheng.settings.Settings (yellow_gap_points, red_gap_points)."""
        return cls(yellow_gap_points=Decimal(str(settings.yellow_gap_points)),
                   red_gap_points=Decimal(str(settings.red_gap_points)))


def light_for_gap(gap_points: Decimal, thresholds: Thresholds) -> str:
    """Light for points behind schedule (positive = behind, negative = ahead, as in fact_target_status):
    more than yellow_gap_points behind → yellow, more than red_gap_points → red.

    The edges belong to the milder colour: exactly 10 points behind is still green, exactly 30 still yellow.
    """
    if gap_points > thresholds.red_gap_points:
        return RED
    if gap_points > thresholds.yellow_gap_points:
        return YELLOW
    return GREEN
