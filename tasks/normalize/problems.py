"""Problems found in one cell, and how they become Issues that tell a department exactly what to fix."""

from __future__ import annotations

import unicodedata

from tasks.contracts import Issue, Severity


class ParseProblem(ValueError):
    """A cell that cannot be taken as it is.

    `zh`/`en` are predicates about the cell's value ("有歧义（1月还是10月？），请写成…" / "is ambiguous …; write
    …"); `cell_issue` puts the location in front. `role` names the column the problem belongs to when it is not
    the column being parsed (a bad unit column found while converting a value).
    """

    def __init__(self, code: str, zh: str, en: str, role: str | None = None) -> None:
        super().__init__(en)
        self.code = code
        self.zh = zh
        self.en = en
        self.role = role


def where(sheet: str | None, row: int | None) -> tuple[str, str]:
    """"工作表「X」第12行" / "Sheet X, row 12" (without the sheet for CSV and Parquet)."""
    zh = f"工作表「{sheet}」" if sheet else ""
    en = f"Sheet {sheet}, row" if sheet else "Row"
    if row is None:
        return zh or "文件", (f"Sheet {sheet}" if sheet else "The file")
    return f"{zh}第{row}行", f"{en} {row}"


def cell_issue(problem: ParseProblem, sheet: str | None, row: int, column: str, raw: str | None,
               severity: Severity = Severity.CRITICAL) -> Issue:
    """The Issue for one problem cell: sheet, row, column as the user wrote it, raw text, bilingual message."""
    loc_zh, loc_en = where(sheet, row)
    if raw is None or raw.strip() == "":
        zh = f"{loc_zh}「{column}」列为空，{problem.zh}"
        en = f"{loc_en}, column {column} is empty, which {problem.en}"
    else:
        zh = f"{loc_zh}「{column}」列的值“{raw}”{problem.zh}"
        en = f"{loc_en}, column {column}: '{raw}' {problem.en}"
    return Issue(severity, problem.code, zh, en, sheet=sheet or None, row=row, column=column, value=raw)


def nfkc(text: str) -> str:
    """Full-width digits and punctuation folded to ASCII (１３，９００．５ → 13,900.5), trimmed."""
    folded = unicodedata.normalize("NFKC", text)
    return folded.replace("\u2212", "-").replace("\ufe63", "-").strip()


def match_key(text: str) -> str:
    """A key for matching names and headers: NFKC, lower case, no spaces or punctuation."""
    folded = nfkc(text).lower()
    return "".join(ch for ch in folded if not unicodedata.category(ch).startswith(("P", "Z", "C")))
