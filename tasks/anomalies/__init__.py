"""Anomaly detection over submitted history: robust jumps, same month last year, year-to-date decreases,
unit slips, flat lines, parts vs totals and county outliers, each explained in one Chinese sentence."""

from tasks.anomalies.core import anomalies
from tasks.anomalies.findings import ANOMALY_COLUMNS
from tasks.anomalies.frame import AnomalyConfig
from tasks.anomalies.robust import causal_robust_z, grouped_robust_z, robust_z

__all__ = ["ANOMALY_COLUMNS", "AnomalyConfig", "anomalies", "causal_robust_z", "grouped_robust_z", "robust_z"]
