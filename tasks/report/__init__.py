"""The monthly supervision report (督查通报): pure HTML rendering of a `ReportData` bundle."""

from tasks.report.data import ReportData
from tasks.report.render import render_report
from tasks.report.sample import sample_report_data

__all__ = ["ReportData", "render_report", "sample_report_data"]
