"""Evaluation of targets: 序时进度 progress, level compliance, budgets, milestones, directional targets,
year-end projections, the good-air-days allowance and the multi-year Open SDG progress measure."""

from tasks.evaluate.air_budget import DaysBudget, DayShare, days_budget, days_budget_status, days_budget_targets
from tasks.evaluate.budget import BudgetStatus, GoodDaysBudget, budget_status, good_days_budget
from tasks.evaluate.config import Thresholds, light_for_gap
from tasks.evaluate.opensdg import ProgressMeasure, progress_measure
from tasks.evaluate.progress import completion_pct, linear_share, seasonal_share
from tasks.evaluate.result import STATUS_COLUMNS
from tasks.evaluate.status import apply_memory, target_status

__all__ = [
    "STATUS_COLUMNS", "BudgetStatus", "DayShare", "DaysBudget", "GoodDaysBudget", "ProgressMeasure", "Thresholds",
    "apply_memory", "budget_status", "completion_pct", "days_budget", "days_budget_status", "days_budget_targets",
    "good_days_budget", "light_for_gap", "linear_share", "progress_measure", "seasonal_share", "target_status",
]
