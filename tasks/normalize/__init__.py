"""Normalize raw sheets into the pipeline's canonical rows: targets, counties, periods and exact values."""

from tasks.normalize.frame import empty_frame, normalize, read_drop
from tasks.normalize.periods import parse_period
from tasks.normalize.problems import ParseProblem
from tasks.normalize.units import UnitTable, to_canonical
from tasks.normalize.values import ParsedValue, parse_milestone, parse_value

__all__ = ["ParseProblem", "ParsedValue", "UnitTable", "empty_frame", "normalize", "parse_milestone",
           "parse_period", "parse_value", "read_drop", "to_canonical"]
