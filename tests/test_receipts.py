import hashlib
import json
from pathlib import Path

import pytest

from tasks.contracts import Drop, Issue, Outcome, Severity
from tasks.receipts import quarantine_copy, safe_name, write_receipt

BAD_ROW = Issue(Severity.CRITICAL, "ambiguous_period", "第12行「月份」列的值“2021.1”有歧义，请写成2021-01或2021-10。",
                "Row 12, column 月份: '2021.1' is ambiguous; write 2021-01 or 2021-10.", sheet="Sheet1", row=12,
                column="月份", value="2021.1")


def _drop(root: Path, rel: str, content: bytes = b"a,b\n1,2\n") -> Drop:
    path = root / "raw" / "hrss" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return Drop(path=path, department="hrss", sha256=hashlib.sha256(content).hexdigest(), size=len(content),
                mtime=0.0, relative_name=rel)


@pytest.mark.parametrize("name, expected", [("evil\\..\\..\\x.csv", "x.csv"), ("$(id).csv", "id_.csv"),
                                            ("进展 表.xlsx", "进展_表.xlsx"), ("..", "drop")],
                         ids=["backslashes", "shell", "cjk-space", "dots-only"])
def test_safe_name_cannot_traverse_or_inject(name: str, expected: str) -> None:
    assert safe_name(name) == expected


def test_receipt_says_what_to_fix_in_chinese_first(tmp_path: Path) -> None:
    drop = _drop(tmp_path, "2021/bad.csv")
    path = write_receipt(tmp_path / "raw", drop, Outcome.QUARANTINE, [BAD_ROW], 0, processed_at="2021-07-20T09:00")
    assert path == tmp_path / "raw" / "hrss" / "_receipts" / "2021" / "bad.csv.md"
    text = path.read_text(encoding="utf-8")
    assert text.index("未入库") < text.index("quarantined")
    assert "| Sheet1 | 12 | 月份 | 2021.1 |" in text and "ambiguous_period" in text
    payload = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert payload["outcome"] == "quarantine" and payload["issues"][0]["row"] == 12


def test_receipt_stays_inside_the_department_folder(tmp_path: Path) -> None:
    drop = _drop(tmp_path, "x.csv")
    drop.relative_name = "../../../etc/passwd"
    path = write_receipt(tmp_path / "raw", drop, Outcome.LOAD, [], 3, processed_at="t")
    assert path.resolve().is_relative_to((tmp_path / "raw" / "hrss").resolve())


def test_quarantine_keeps_the_original_bytes_and_the_reasons(tmp_path: Path) -> None:
    content = "指标,县市\n失业率,东城区\n".encode("gbk")
    drop = _drop(tmp_path, "$(rm -rf).csv", content)
    target = quarantine_copy(tmp_path / "quarantine", drop, [BAD_ROW], processed_at="t")
    again = quarantine_copy(tmp_path / "quarantine", drop, [BAD_ROW], processed_at="t")
    assert target == again and target.parent == (tmp_path / "quarantine").resolve()
    assert target.read_bytes() == content
    assert target.name.startswith(drop.sha256)
    report = json.loads(target.with_name(target.name + ".report.json").read_text(encoding="utf-8"))
    assert report["issues"][0]["code"] == "ambiguous_period"
    assert drop.path.read_bytes() == content
