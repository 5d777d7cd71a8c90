"""The data that passes between pipeline stages.

A drop file is read into a *normalized frame* (one row per target × county × period, canonical units) plus a list
of *issues* (what is wrong, where, and how to fix it, in Chinese and English). Validation adds more issues; the
outcome of a file follows from the worst severity among them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd


class Severity(StrEnum):
    CRITICAL = "critical"  # the file cannot be loaded: quarantine it whole
    WARNING = "warning"  # loaded, but somebody should look (a target missed, a suspicious value)
    INFO = "info"  # what the reader did (skipped a 合计 row, used a cached formula value)


class Outcome(StrEnum):
    LOAD = "load"
    LOAD_WITH_WARNINGS = "load-with-warnings"
    QUARANTINE = "quarantine"
    IGNORE = "ignore"  # not a drop: lock/temp files, or the same bytes already processed


@dataclass(frozen=True)
class Issue:
    """One finding about a drop, located as precisely as possible (sheet, 1-based row as the user sees it)."""

    severity: Severity
    code: str  # stable machine-readable rule name, e.g. unknown_target, bad_period, not_owner
    message_zh: str
    message_en: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: (v.value if isinstance(v, StrEnum) else v) for k, v in asdict(self).items()}


# Columns of the normalized frame, in order. `value` holds decimal.Decimal objects in canonical units (never a
# float, never 0 for a missing value); `source_sheet`/`source_row` point at the cell the row came from. Text
# columns are pandas categoricals when the normalizer made them (object columns of str are accepted too); a
# missing text is a missing value (pd.isna), not necessarily None. `source_row` is int64.
NORMALIZED_COLUMNS: tuple[str, ...] = (
    "target_id",  # catalog id
    "county_code",  # 6-digit code; the prefecture's own code for 全州 rows
    "period",  # "YYYY-MM"
    "value",  # Decimal in the target's canonical unit
    "unit",  # canonical unit id (the target's)
    "basis",  # "ytd" (累计, year to date) or "month" (当月)
    "status",  # provisional | final | revised
    "note",  # free text, stored literally
    "source_sheet",  # sheet name, or "" for CSV/Parquet
    "source_row",  # 1-based row number as shown in Excel / a text editor (header row counted)
)


@dataclass
class Drop:
    """A file found in a department's inbox, identified by the sha256 of its bytes."""

    path: Path
    department: str  # slug of the folder it sits in; never taken from the file's content
    sha256: str
    size: int
    mtime: float
    relative_name: str  # path under the department folder, for receipts and the ledger


@dataclass
class Verdict:
    """What the pipeline decides about one drop: its outcome, the rows to load and every issue found."""

    outcome: Outcome
    rows: Any  # pandas.DataFrame with NORMALIZED_COLUMNS
    issues: list[Issue] = field(default_factory=list)

    @property
    def critical(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == Severity.CRITICAL]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == Severity.WARNING]


def outcome_for(issues: list[Issue]) -> Outcome:
    """The file-level outcome: any critical issue quarantines the whole file."""
    if any(i.severity == Severity.CRITICAL for i in issues):
        return Outcome.QUARANTINE
    if any(i.severity == Severity.WARNING for i in issues):
        return Outcome.LOAD_WITH_WARNINGS
    return Outcome.LOAD


def text_categorical(values: Any) -> pd.Categorical:
    """A text column (Series or object array) as the contract's categorical: its distinct texts as sorted
    categories, missing values kept missing; a categorical with unsorted categories is reordered, so sorting the
    column sorts the texts. Raises TypeError when the values cannot be hashed or sorted."""
    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        column = pd.Categorical(values)
        if column.categories.is_monotonic_increasing:
            return column
        return column.reorder_categories(sorted(column.categories))
    raw = values.to_numpy(dtype=object, na_value=None) if isinstance(values, pd.Series) else values
    codes, distinct = pd.factorize(raw, sort=True, use_na_sentinel=True)
    return pd.Categorical.from_codes(codes, categories=pd.Index(distinct, dtype=object))
