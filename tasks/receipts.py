"""Receipts (回执) for departments and the quarantine dead-letter folder.

Every processed file gets a receipt beside it, ``<dept>/_receipts/<file>.md`` (Chinese first, English after) and
a machine-readable ``.json`` twin. A quarantined file's original bytes are copied, byte-identical, to
``quarantine/<sha256>_<sanitised name>`` with a JSON report of every reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from tasks.contracts import Drop, Issue, Outcome, Severity

OUTCOME_ZH = {
    Outcome.LOAD: "已入库",
    Outcome.LOAD_WITH_WARNINGS: "已入库（有提示）",
    Outcome.QUARANTINE: "未入库（已隔离，请修改后重新报送）",
    Outcome.IGNORE: "已忽略（与已处理文件内容相同）",
}
OUTCOME_EN = {
    Outcome.LOAD: "loaded",
    Outcome.LOAD_WITH_WARNINGS: "loaded with warnings",
    Outcome.QUARANTINE: "quarantined: nothing was loaded; fix the file and drop it again",
    Outcome.IGNORE: "ignored: the same bytes were already processed",
}
MAX_LISTED = 200
UNSAFE = re.compile(r"[^\w.\-\u4e00-\u9fff]+")


def safe_name(name: str) -> str:
    """A file name that cannot traverse or inject: path separators, dots-only and shell characters removed."""
    cleaned = UNSAFE.sub("_", name.replace("\\", "/").split("/")[-1]).strip("._")
    return cleaned[:120] or "drop"


def _cell(text: object) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def render_receipt(drop: Drop, outcome: Outcome, issues: list[Issue], rows_loaded: int, *,
                   processed_at: str, duplicate_of: str | None = None) -> str:
    """The receipt a department reads: what happened, what was accepted, exactly what to fix."""
    critical = [i for i in issues if i.severity == Severity.CRITICAL]
    warnings = [i for i in issues if i.severity == Severity.WARNING]
    notes = [i for i in issues if i.severity == Severity.INFO]
    lines = [
        f"# 数据报送回执 / Receipt: {drop.relative_name}",
        "",
        f"- 部门 / Department: `{drop.department}`",
        f"- 处理时间 / Processed at: {processed_at}",
        f"- 文件指纹 / SHA-256: `{drop.sha256[:16]}…`",
        f"- **结果：{OUTCOME_ZH[outcome]}**",
        f"- Result: {OUTCOME_EN[outcome]}",
    ]
    if outcome in (Outcome.LOAD, Outcome.LOAD_WITH_WARNINGS):
        lines.append(f"- 入库数据行 / Rows loaded: {rows_loaded}")
    if duplicate_of:
        lines.append(f"- 与已处理文件相同 / Same bytes as: `{duplicate_of}`")
    if critical:
        lines += ["", f"## 必须修改的问题（{len(critical)} 项）/ Must fix before the file can be loaded", "",
                  "整个文件未入库。请按下表逐项修改后，把改好的文件重新放入本部门文件夹。",
                  "Nothing from this file was loaded. Fix every item below and drop the corrected file again.", ""]
        lines += _issue_table(critical)
    if warnings:
        lines += ["", f"## 提示（{len(warnings)} 项，数据已入库）/ Warnings (the data was loaded)", ""]
        lines += _issue_table(warnings)
    if notes:
        lines += ["", "## 处理说明 / What the reader did", ""]
        lines += [f"- {i.message_zh} / {i.message_en}" for i in notes[:50]]
    lines += ["", "---", "如有疑问，请联系州政府督查室数据组。可先用 `minsheng check 文件 --department 部门` 自查。",
              "Questions: contact the supervision office's data team. Pre-check a file with `minsheng check`.", ""]
    return "\n".join(lines)


def _issue_table(issues: list[Issue]) -> list[str]:
    rows = ["| 工作表 Sheet | 行 Row | 列 Column | 值 Value | 问题及修改方法 | What to fix | 规则 Rule |",
            "|---|---|---|---|---|---|---|"]
    for i in issues[:MAX_LISTED]:
        rows.append(f"| {_cell(i.sheet)} | {_cell(i.row)} | {_cell(i.column)} | {_cell(i.value)} | "
                    f"{_cell(i.message_zh)} | {_cell(i.message_en)} | `{i.code}` |")
    if len(issues) > MAX_LISTED:
        rows.append(f"| | | | | 另有 {len(issues) - MAX_LISTED} 项未列出 | {len(issues) - MAX_LISTED} more | |")
    return rows


def receipt_payload(drop: Drop, outcome: Outcome, issues: list[Issue], rows_loaded: int, *,
                    processed_at: str) -> dict[str, Any]:
    return {
        "file": drop.relative_name,
        "department": drop.department,
        "sha256": drop.sha256,
        "outcome": outcome.value,
        "rows_loaded": rows_loaded,
        "processed_at": processed_at,
        "issues": [i.to_dict() for i in issues],
    }


def atomic_write(path: Path, text: str) -> None:
    """Write text so readers never see a half-written file (temp file in the same folder, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def receipt_path(raw_dir: Path, drop: Drop) -> Path:
    """``raw/<dept>/_receipts/<relative name>.md``, confined to the department folder."""
    dept_dir = (raw_dir / drop.department).resolve()
    parts = [safe_name(p) for p in Path(drop.relative_name).parts]
    path = (dept_dir / "_receipts" / Path(*parts)).with_name(parts[-1] + ".md")
    if not path.resolve().is_relative_to(dept_dir):
        raise ValueError(f"receipt path escapes the department folder: {drop.relative_name!r}")
    return path


def write_receipt(raw_dir: Path, drop: Drop, outcome: Outcome, issues: list[Issue], rows_loaded: int, *,
                  processed_at: str, duplicate_of: str | None = None) -> Path:
    path = receipt_path(raw_dir, drop)
    atomic_write(path, render_receipt(drop, outcome, issues, rows_loaded, processed_at=processed_at,
                                      duplicate_of=duplicate_of))
    payload = receipt_payload(drop, outcome, issues, rows_loaded, processed_at=processed_at)
    atomic_write(path.with_suffix(".json"), json.dumps(payload, ensure_ascii=False, indent=2))
    return path


def quarantine_copy(quarantine_dir: Path, drop: Drop, issues: list[Issue], *, processed_at: str) -> Path:
    """Copy the original bytes to the dead-letter folder with a JSON report; idempotent (named by sha256)."""
    root = quarantine_dir.resolve()
    root.mkdir(parents=True, exist_ok=True)
    target = root / f"{drop.sha256}_{safe_name(drop.relative_name)}"
    if not target.resolve().is_relative_to(root):
        raise ValueError(f"quarantine path escapes the quarantine folder: {drop.relative_name!r}")
    if not target.exists():
        fd, tmp = tempfile.mkstemp(dir=root, prefix=".tmp-")
        os.close(fd)
        try:
            shutil.copyfile(drop.path, tmp, follow_symlinks=False)
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    report = receipt_payload(drop, Outcome.QUARANTINE, issues, 0, processed_at=processed_at)
    atomic_write(target.with_name(target.name + ".report.json"), json.dumps(report, ensure_ascii=False, indent=2))
    return target
