"""Milestones (开工建设, 建成通车, 全覆盖): done / not yet / overdue, with the drop that reported it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd

from expectations.models import Target
from tasks.evaluate.config import GREEN, GREY, RED
from tasks.evaluate.numbers import period_zh
from tasks.evaluate.result import Evaluation

DONE_VALUE = Decimal(1)  # a milestone row reports 1 when done, 0 when not yet


def milestone_deadline(target: Target, plan_year: int) -> dt.date:
    """The target's deadline, or the end of the plan year when the plan gives none."""
    return target.deadline or dt.date(plan_year, 12, 31)


def evaluate_milestone(target: Target, rows: list[dict[str, Any]], as_of: dt.date, plan_year: int,
                       where: str) -> Evaluation:
    """Done (green, with evidence) / not yet (grey, still before the deadline) / overdue (red).

    `rows` are this series' source rows of the plan year, oldest first (keys period, value, source_name,
    source_sha256, recorded_at). Done when any row reports at least the target value (default 1).
    """
    deadline = milestone_deadline(target, plan_year)
    threshold = target.value if target.value is not None else DONE_VALUE
    done_rows = [r for r in rows if r["value"] >= threshold]
    if done_rows:
        first = done_rows[0]
        evidence = _evidence(first)
        late = "" if first_day(first["period"]) <= deadline else f"（晚于期限{deadline.isoformat()}）"
        return Evaluation(light=GREEN, method="milestone", period=first["period"], value=first["value"],
                          target_value=threshold, completion_pct=Decimal("100.00"), will_meet=True,
                          detail_zh=f"{target.name_zh}（{where}）已于{period_zh(first['period'])}报告完成{late}；"
                                    f"依据：{evidence}。")
    latest = rows[-1] if rows else None
    period = latest["period"] if latest is not None else None
    reported = f"最近报告（{period_zh(period)}）为未完成" if period else "尚无报告"
    if as_of > deadline:
        return Evaluation(light=RED, method="milestone", period=period, target_value=threshold,
                          value=latest["value"] if latest is not None else None,
                          completion_pct=Decimal("0.00") if latest is not None else None, will_meet=False,
                          detail_zh=f"{target.name_zh}（{where}）期限{deadline.isoformat()}已过，{reported}，已逾期。")
    return Evaluation(light=GREY, method="milestone", period=period, target_value=threshold,
                      value=latest["value"] if latest is not None else None,
                      completion_pct=Decimal("0.00") if latest is not None else None, will_meet=None,
                      detail_zh=f"{target.name_zh}（{where}）期限{deadline.isoformat()}，{reported}，尚未到期。")


def first_day(period: str) -> dt.date:
    return dt.date(int(period[:4]), int(period[5:7]), 1)


def _evidence(row: dict[str, Any]) -> str:
    name = row.get("source_name") or "未知文件"
    sha = str(row.get("source_sha256") or "")[:12]
    recorded = row.get("recorded_at")
    when = ""
    if recorded is not None and not pd.isna(recorded):
        when = f"，录入于{pd.Timestamp(recorded).date().isoformat()}"
    return f"文件《{name}》" + (f"（sha256 {sha}…）" if sha else "") + when
