"""normalize(): raw sheets → the normalized frame of tasks.contracts plus every Issue found on the way."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from expectations.models import Catalog
from tasks.contracts import NORMALIZED_COLUMNS, Issue, Severity
from tasks.normalize.fields import Helpers
from tasks.normalize.headers import ROLE_ZH, SCAN_ROWS, classify, detect_header
from tasks.normalize.layout import missing_column, plan_layout
from tasks.normalize.problems import where
from tasks.normalize.sheet import normalize_sheet
from tasks.read import RawSheet, ReadError, ReadLimits, read_table
from tasks.read.model import collector_paused


def empty_frame() -> pd.DataFrame:
    """A normalized frame with no rows (the columns and dtypes every consumer expects)."""
    frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in NORMALIZED_COLUMNS})
    frame["source_row"] = frame["source_row"].astype(np.int64)
    return frame


def _missing_roles(sheet: RawSheet) -> list[str]:
    """The required roles (target, value) the most promising row of a header-less sheet lacks."""
    best: set[str] = set()
    for row in sheet.head(15):
        roles = {found[0] for found in (classify(c) for c in row if c) if found}
        if len(roles & {"target", "value"}) > len(best & {"target", "value"}) or (not best and roles):
            best = roles
    return [r for r in ("target", "value") if r not in best]


def normalize(sheets: list[RawSheet], catalog: Catalog, *, source_name: str,
              as_of: dt.date | None) -> tuple[pd.DataFrame, list[Issue]]:
    """The normalized rows of a drop (NORMALIZED_COLUMNS, value as Decimal) and all Issues, reader notes first.

    Rows with a problem are left out of the frame and reported as critical Issues (the file will be quarantined);
    skipped decoration (title, 合计 and notes rows, hidden sheets, extra columns) is reported as info. `source_name`
    (the file name) and `as_of` (the reporting date) help complete periods written without a year.
    """
    with collector_paused():  # one object per distinct value, none in cycles worth collecting mid-way
        return _normalize(sheets, catalog, source_name=source_name, as_of=as_of)


def _normalize(sheets: list[RawSheet], catalog: Catalog, *, source_name: str,
               as_of: dt.date | None) -> tuple[pd.DataFrame, list[Issue]]:
    issues: list[Issue] = []
    helpers = Helpers(catalog)
    frames: list[pd.DataFrame] = []
    headerless: list[RawSheet] = []
    for sheet in sheets:
        issues.extend(sheet.notes)
        if sheet.hidden or not sheet.has_text():
            continue
        header = detect_header(sheet.head(SCAN_ROWS + 1))
        if header is None:
            headerless.append(sheet)
            continue
        layout = plan_layout(sheet, header, catalog, helpers.counties, helpers.units, source_name, issues)
        if layout is not None:
            frames.append(normalize_sheet(sheet, header, layout, helpers, as_of, issues))
        else:
            frames.append(empty_frame())
    for sheet in headerless:
        if frames:
            loc_zh, loc_en = where(sheet.name, None)
            rows = sheet.filled_rows()
            issues.append(Issue(Severity.WARNING if rows > 1 else Severity.INFO, "no_header",
                                f"{loc_zh}没有可识别的表头（需要指标列和完成值列），未读取。",
                                f"{loc_en} has no recognizable header (a target and a value column); not read.",
                                sheet=sheet.name or None))
        else:
            for role in _missing_roles(sheet) or ["target", "value"]:
                issues.append(missing_column(sheet.name, role, f"（未找到含「{ROLE_ZH[role]}」的表头行）",
                                             " (no header row names it)"))
    if not frames and not headerless:
        issues.append(Issue(Severity.CRITICAL, "empty_file", "文件中没有任何数据。", "The file holds no data."))
    filled = [f for f in frames if len(f)]
    if frames and not filled and not any(i.severity == Severity.CRITICAL for i in issues):
        issues.append(Issue(Severity.WARNING, "no_rows", "文件有表头但没有任何数据行。",
                            "The file has a header but no data rows."))
    if len(filled) == 1:
        return filled[0], issues
    frame = pd.concat(filled, ignore_index=True) if filled else empty_frame()
    return frame, issues


def read_drop(path: Path, catalog: Catalog, limits: ReadLimits,
              as_of: dt.date | None) -> tuple[pd.DataFrame, list[Issue]]:
    """Read and normalize one drop file; a file that cannot be read gives an empty frame and critical Issues."""
    try:
        sheets = read_table(path, limits)
    except ReadError as exc:
        return empty_frame(), list(exc.issues)
    return normalize(sheets, catalog, source_name=path.name, as_of=as_of)
