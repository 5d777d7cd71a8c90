"""Validate a normalized frame with the catalog's Great Expectations suites and turn failures into Issues.

Two layers (DESIGN.md): the quality suite (critical: the file is quarantined whole) and the target suite (warning:
a miss is loaded and alerted on). Every failing row becomes one Issue located by source sheet and row, capped per
rule so a million-row bad file gives a readable receipt (the first rows, then one summary issue with the count).
An expectation that crashed instead of evaluating is a failure too (G13): `validation_error`, critical in the
quality layer, a warning in the target layer (a broken target check must not reject valid data).

The target layer runs only when the quality layer passed: a file that will be quarantined needs fixing first,
and judging implausible values against the plan would only add noise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from expectations.gx_frame import DERIVED_COLUMNS, prepare_frame
from expectations.gx_messages import MessageContext, error_message, row_message, schema_message, summary_message
from expectations.gx_runtime import PARTIAL_ROWS, raised_exception, run_suite
from expectations.models import Catalog
from expectations.suites import KEY_COLUMNS, LAYER_SEVERITY, QUALITY, TARGET, suite_parameters, suites_for
from tasks.contracts import NORMALIZED_COLUMNS, Drop, Issue, Severity

if TYPE_CHECKING:
    from great_expectations.core.expectation_validation_result import ExpectationValidationResult

MAX_ROWS_PER_RULE = PARTIAL_ROWS


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one expectation, in a form the warehouse can store (fact_check)."""

    layer: str  # quality | target
    rule: str  # the issue code its failures carry, e.g. out_of_bounds
    severity: Severity
    expectation: str  # GX expectation type, e.g. expect_column_values_to_be_in_set
    column: str | None
    success: bool
    element_count: int | None  # rows the expectation looked at (None for table-level checks)
    unexpected_count: int  # failing rows (0 for table-level checks that passed; 1 when a table check failed)
    exception: str | None = None  # message when the expectation crashed (then success is False)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["severity"] = self.severity.value
        return out


@dataclass(frozen=True)
class ValidationReport:
    """Every issue found (receipt material) and every check run (for fact_check and Data Docs-like reports)."""

    issues: list[Issue] = field(default_factory=list)
    results: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when no check of the quality layer failed (the file may be loaded)."""
        return all(r.success for r in self.results if r.layer == QUALITY)


def _frame_for_messages(frame: pd.DataFrame, positions: list[int], rule: str) -> list[dict[str, Any]]:
    rows = frame.iloc[positions]
    if rule == "duplicate_key":
        # How often each listed row's key occurs and at which source row it first does (vectorized groupby).
        groups = frame.groupby(list(KEY_COLUMNS), dropna=False, sort=False)["source_row"]
        rows = rows.assign(_dup_count=groups.transform("size").iloc[positions].to_numpy(),
                           _dup_first_row=groups.transform("min").iloc[positions].to_numpy())
    return rows.to_dict("records")


def _positions(result: ExpectationValidationResult, limit: int) -> list[int]:
    """The first `limit` failing rows as positions into the validated frame (its index is 0..n-1)."""
    raw = (result.result or {}).get("partial_unexpected_index_list") or []
    out: list[int] = []
    for item in raw[:max(limit, 0)]:
        # Multi-column expectations may report {"index": i, ...} records instead of bare labels.
        out.append(int(item["index"]) if isinstance(item, dict) and "index" in item else int(item))
    return out


def _check(layer: str, result: ExpectationValidationResult, exception: str | None,
           frame: pd.DataFrame) -> CheckResult:
    config = result.expectation_config
    meta = (config.meta if config else None) or {}
    body = result.result or {}
    kwargs = config.kwargs if config else {}
    count = body.get("unexpected_count")
    looked_at = body.get("element_count")
    # Checks that see the whole frame but judge only some rows count those: a target check the rows of its
    # comparator, the scope check the rows its pair column is filled on.
    if looked_at is not None and meta.get("comparator") and "comparator" in frame.columns:
        looked_at = int((frame["comparator"] == meta["comparator"]).sum())
    elif looked_at is not None and meta.get("judges") in frame.columns:
        looked_at = int(frame[meta["judges"]].notna().sum())
    return CheckResult(
        layer=layer, rule=str(meta.get("rule", config.type if config else "unknown")),
        severity=LAYER_SEVERITY[layer], expectation=config.type if config else "unknown",
        column=meta.get("column") or kwargs.get("column"),
        success=bool(result.success) and exception is None,
        element_count=looked_at,
        unexpected_count=int(count) if count is not None else (0 if result.success else 1),
        exception=exception,
    )


def _issue(severity: Severity, rule: str, column: str | None, zh_en: tuple[str, str],
           row: dict[str, Any] | None = None) -> Issue:
    sheet = row.get("source_sheet") if row else None
    source_row = row.get("source_row") if row else None
    value = row.get(column) if row and column else None
    return Issue(severity=severity, code=rule, message_zh=zh_en[0], message_en=zh_en[1],
                 sheet=sheet if isinstance(sheet, str) and sheet else None,
                 row=int(source_row) if source_row is not None and not pd.isna(source_row) else None,
                 column=column, value=None if value is None or pd.isna(value) else str(value))


def _layer(layer: str, results: list[ExpectationValidationResult], frame: pd.DataFrame, ctx: MessageContext,
           max_rows: int) -> tuple[list[Issue], list[CheckResult]]:
    checks = [_check(layer, r, raised_exception(r), frame) for r in results]
    severity = LAYER_SEVERITY[layer]
    issues: list[Issue] = []
    listed: dict[str, int] = {}
    totals: dict[str, int] = {}
    for result, check in zip(results, checks, strict=True):
        if check.success:
            continue
        if check.exception is not None:
            message = error_message(check.rule, check.exception)
            issues.append(_issue(severity, "validation_error", check.column, message))
            continue
        if check.rule == "schema_mismatch":
            observed = list((result.result or {}).get("observed_value") or frame.columns)
            expected = [*NORMALIZED_COLUMNS, *DERIVED_COLUMNS]
            issues.append(_issue(severity, check.rule, None, schema_message(observed, expected)))
            continue
        totals[check.rule] = totals.get(check.rule, 0) + check.unexpected_count
        take = _positions(result, max_rows - listed.get(check.rule, 0))
        listed[check.rule] = listed.get(check.rule, 0) + len(take)
        for row in _frame_for_messages(frame, take, check.rule) if take else []:
            issues.append(_issue(severity, check.rule, check.column, row_message(check.rule, ctx, row), row))
    for rule, total in totals.items():
        if total > listed[rule]:
            issues.append(_issue(severity, rule, None, summary_message(rule, listed[rule], total)))
    return issues, checks


def validate_rows_detailed(rows: pd.DataFrame, catalog: Catalog, department: str, as_of: dt.date,
                           max_rows_per_rule: int = MAX_ROWS_PER_RULE) -> ValidationReport:
    """Validate normalized `rows` submitted by `department` (its folder slug) as of `as_of`.

    Returns the issues (one per failing row and rule, at most `max_rows_per_rule` rows per rule plus a summary)
    and one CheckResult per expectation run. Runs GX in the process's ephemeral context; writes nothing.
    """
    suites = suites_for(catalog)
    frame = prepare_frame(rows, suites.tables)
    ctx = MessageContext(catalog=catalog, department=department, as_of=as_of)
    params = suite_parameters(catalog, department, as_of)
    quality = run_suite(suites.quality, frame, params, max_rows_per_rule)
    issues, checks = _layer(QUALITY, quality, frame, ctx, max_rows_per_rule)
    if all(c.success for c in checks):
        target = run_suite(suites.target, frame, params, max_rows_per_rule)
        target_issues, target_checks = _layer(TARGET, target, frame, ctx, max_rows_per_rule)
        issues += target_issues
        checks += target_checks
    return ValidationReport(issues=issues, results=checks)


def validate_rows(rows: pd.DataFrame, catalog: Catalog, department: str, as_of: dt.date) -> list[Issue]:
    """The issues of validate_rows_detailed (critical: quarantine the file; warning: load and alert)."""
    return validate_rows_detailed(rows, catalog, department, as_of).issues


@task(name="validate", cache_policy=NO_CACHE)
def validate_drop(drop: Drop, rows: pd.DataFrame, catalog: Catalog, as_of: dt.date) -> ValidationReport:
    """Validate the normalized rows of one drop; the department is the drop's folder, never the file's content."""
    return validate_rows_detailed(rows, catalog, drop.department, as_of)
