"""Collect row problems column by column and turn them into located Issues (capped per rule and sheet)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from tasks.contracts import Issue, Severity
from tasks.normalize.columns import BoolArray, Column, ObjArray
from tasks.normalize.problems import ParseProblem, cell_issue, where

MAX_ISSUES_PER_RULE = 100  # per sheet; a file with a million bad rows gets a summary, not a million Issues


@dataclass
class _Source:
    role: str
    mask: BoolArray
    problems: ObjArray | ParseProblem
    header: str | ObjArray
    raw: Column


@dataclass
class RowProblems:
    """Problems found in the rows of one sheet; `bad` marks rows that cannot be loaded."""

    sheet: str
    numbers: np.ndarray
    headers: dict[str, tuple[str, Column]]  # role → (header as written, raw cells) for re-attributed problems
    bad: BoolArray = field(init=False)
    sources: list[_Source] = field(default_factory=list)
    suppressed: dict[str, BoolArray] = field(default_factory=dict)  # cells the reader already reported

    def __post_init__(self) -> None:
        self.bad = np.zeros(len(self.numbers), dtype=bool)

    def add(self, role: str, mask: BoolArray, problems: ObjArray | ParseProblem, header: str | ObjArray,
            raw: Column) -> None:
        """Rows in `mask` have the problem(s) given (one per row, or one for all) in column `header`."""
        if mask.any():
            self.bad |= mask
            self.sources.append(_Source(role, mask.copy(), problems, header, raw))

    def suppress(self, role: str, mask: BoolArray) -> None:
        self.bad |= mask
        self.suppressed[role] = self.suppressed.get(role, np.zeros_like(mask)) | mask

    def issues(self) -> list[Issue]:
        """One Issue per problem cell, at most MAX_ISSUES_PER_RULE per rule, then a summary; sorted by row."""
        out: list[Issue] = []
        counts: Counter[str] = Counter()
        for source in self.sources:
            mask = source.mask & ~self.suppressed.get(source.role, np.zeros_like(source.mask))
            for i in np.flatnonzero(mask):
                problem = source.problems if isinstance(source.problems, ParseProblem) else source.problems[i]
                counts[problem.code] += 1
                if counts[problem.code] > MAX_ISSUES_PER_RULE:
                    continue
                header = source.header if isinstance(source.header, str) else str(source.header[i])
                raw = source.raw[i]
                if problem.role and problem.role in self.headers:
                    header, cells = self.headers[problem.role]
                    raw = cells[i]
                out.append(cell_issue(problem, self.sheet, int(self.numbers[i]), header, raw))
        out.sort(key=lambda issue: issue.row or 0)
        for code, count in counts.items():
            if count > MAX_ISSUES_PER_RULE:
                loc_zh, loc_en = where(self.sheet, None)
                out.append(Issue(Severity.CRITICAL, code,
                                 f"{loc_zh}另有{count - MAX_ISSUES_PER_RULE}行存在同样的问题（{code}），未逐行列出。",
                                 f"{loc_en}: {count - MAX_ISSUES_PER_RULE} more rows have the same problem ({code}).",
                                 sheet=self.sheet or None))
        return out


def row_list(numbers: np.ndarray, limit: int = 20) -> str:
    """Row numbers for a message: "3、7、12" (and a count when there are many)."""
    shown = "、".join(str(int(n)) for n in numbers[:limit])
    return shown + (f" 等{len(numbers)}行" if len(numbers) > limit else "")


def skipped(sheet: str, code: str, numbers: np.ndarray, what_zh: str, what_en: str) -> Issue:
    """An info Issue for rows the normalizer skipped on purpose (合计 rows, notes, repeated headers)."""
    loc_zh, loc_en = where(sheet, None)
    rows_en = ", ".join(str(int(n)) for n in numbers[:20]) + (" …" if len(numbers) > 20 else "")
    return Issue(Severity.INFO, code, f"{loc_zh}跳过{what_zh}：第{row_list(numbers)}行。",
                 f"{loc_en}: skipped {what_en}: rows {rows_en}.", sheet=sheet or None,
                 row=int(numbers[0]) if len(numbers) else None)
