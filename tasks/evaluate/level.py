"""Level targets (rates, ratios, concentrations) and directional targets (较上年提高)."""

from __future__ import annotations

from decimal import Decimal

from expectations.models import Comparator, Target
from tasks.evaluate.compare import COMPARATOR_ZH, complies
from tasks.evaluate.config import GREEN, GREY, LIGHT_ZH, RED, YELLOW, Thresholds
from tasks.evaluate.numbers import fmt_num, q2
from tasks.evaluate.projection import project_level
from tasks.evaluate.result import Evaluation


def level_ytd(latest_ytd: Decimal | None, monthly: dict[int, Decimal]) -> Decimal | None:
    """The year-to-date statistic: the reported 累计 value, else the mean of the reported 当月 values."""
    if latest_ytd is not None:
        return latest_ytd
    if not monthly:
        return None
    return sum(monthly.values(), Decimal(0)) / Decimal(len(monthly))


def evaluate_level(target: Target, target_value: Decimal, latest: Decimal, ytd: Decimal | None,
                   monthly: dict[int, Decimal], month: int, thresholds: Thresholds, unit: str, where: str,
                   period: str) -> Evaluation:
    """Compliance of the latest and the year-to-date value: both comply green, one yellow, neither red.

    The projection is the year-to-date statistic with a rough interval; will_meet is its compliance.
    """
    ytd_value = ytd if ytd is not None else latest
    ok_latest = complies(latest, target.comparator, target_value, target.tolerance)
    ok_ytd = complies(ytd_value, target.comparator, target_value, target.tolerance)
    light = GREEN if ok_latest and ok_ytd else YELLOW if ok_latest or ok_ytd else RED
    proj = project_level(ytd_value, list(monthly.values()), 12 - month, thresholds)
    band = f"±{fmt_num(target.tolerance)}" if target.comparator == Comparator.APPROX else ""
    rule = f"{COMPARATOR_ZH[target.comparator]}{fmt_num(target_value)}{band}{unit}"
    yes = {True: "达标", False: "未达标"}
    detail = (f"{target.name_zh}（{where}）{month}月为{fmt_num(latest)}{unit}（{yes[ok_latest]}），"
              f"累计{fmt_num(ytd_value)}{unit}（{yes[ok_ytd]}），目标{rule}（{LIGHT_ZH[light]}）；"
              f"预计全年约{fmt_num(proj.point)}{unit}（{fmt_num(proj.low)}–{fmt_num(proj.high)}）。")
    return Evaluation(light=light, method="level", detail_zh=detail, period=period, value=latest,
                      target_value=target_value, projection=q2(proj.point), projection_low=q2(proj.low),
                      projection_high=q2(proj.high), will_meet=ok_ytd)


def evaluate_increase(target: Target, value: Decimal, baseline: Decimal | None, baseline_period: str | None,
                      unit: str, where: str, period: str) -> Evaluation:
    """较上年提高: above the previous year's value is green, equal yellow, below red; no baseline → grey."""
    if baseline is None:
        return Evaluation(light=GREY, method="increase", period=period, value=value,
                          detail_zh=f"{target.name_zh}（{where}）{period}为{fmt_num(value)}{unit}，"
                                    f"尚未报送上年数据，无法判断是否较上年提高（无基数）。")
    light = GREEN if value > baseline else YELLOW if value == baseline else RED
    change = value - baseline
    word = "提高" if change > 0 else "持平" if change == 0 else "下降"
    amount = f"{fmt_num(abs(change))}{'个百分点' if unit == '%' else unit}" if change else ""
    detail = (f"{target.name_zh}（{where}）{period}为{fmt_num(value)}{unit}，"
              f"上年（{baseline_period}）{fmt_num(baseline)}{unit}，{word}{amount}（{LIGHT_ZH[light]}）。")
    return Evaluation(light=light, method="increase", detail_zh=detail, period=period, value=value,
                      target_value=baseline, gap_points=None, will_meet=value > baseline)
