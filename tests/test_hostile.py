"""Hostile and oversized drops are refused quickly, without reading what they point at or exhausting memory."""

from __future__ import annotations

import codecs
import io
import sys
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tasks.read import ReadError, ReadLimits, read_table

_OPENED: list[str] = []
_WATCHED: set[str] = set()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and args and str(args[0]) in _WATCHED:
        _OPENED.append(str(args[0]))


sys.addaudithook(_audit)  # hooks cannot be removed; this one only records opens of watched paths


@pytest.fixture
def tripwire(tmp_path: Path) -> Iterator[Path]:
    """A file that must never be opened; its content must never appear anywhere."""
    path = tmp_path / "tripwire-secret.txt"
    path.write_text("TRIPWIRE-7f3a9c")
    _WATCHED.add(str(path))
    _OPENED.clear()
    yield path
    _WATCHED.discard(str(path))


def _codes(call: Callable[[], object]) -> tuple[set[str], ReadError]:
    with pytest.raises(ReadError) as info:
        call()
    return {i.code for i in info.value.issues}, info.value


def _xlsx(path: Path, edit: Callable[[str], str] | None = None, rows: int = 2,
          encode: Callable[[str], bytes] = str.encode) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["指标名称", "县市", "月份", "完成值"])
    for i in range(rows - 1):
        ws.append(["城镇新增就业", "楚雄市", "2021-03", 1000 + i])
    buffer = io.BytesIO()
    wb.save(buffer)
    source = zipfile.ZipFile(buffer)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml" and edit is not None:
                data = encode(edit(data.decode()))
            target.writestr(info.filename, data)
    return path


def _with_doctype(doctype: str, reference: str) -> Callable[[str], str]:
    def edit(xml: str) -> str:
        xml = xml.replace("?>", "?>" + doctype, 1) if xml.startswith("<?xml") else doctype + xml
        cell = f'<c r="E2" t="inlineStr"><is><t>{reference}</t></is></c>'
        assert "<v>1000</v></c>" in xml
        return xml.replace("<v>1000</v></c>", "<v>1000</v></c>" + cell, 1)
    return edit


def test_openpyxl_parses_with_defusedxml() -> None:
    assert openpyxl.DEFUSEDXML is True


def test_xxe_is_rejected_without_reading_the_entity(tmp_path: Path, tripwire: Path) -> None:
    doctype = f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{tripwire}">]>'
    path = _xlsx(tmp_path / "xxe.xlsx", _with_doctype(doctype, "&xxe;"))
    codes, error = _codes(lambda: read_table(path, ReadLimits()))
    assert codes == {"hostile_xml"}
    assert _OPENED == []
    assert all("TRIPWIRE" not in (i.message_en + i.message_zh + str(i.value)) for i in error.issues)


def test_xxe_in_utf16_part_is_rejected(tmp_path: Path, tripwire: Path) -> None:
    doctype = f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{tripwire}">]>'
    path = _xlsx(tmp_path / "xxe16.xlsx", lambda xml: _with_doctype(doctype, "&xxe;")(
        xml.replace('encoding="UTF-8"', 'encoding="UTF-16"').replace("encoding='UTF-8'", "encoding='UTF-16'")),
        encode=lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    codes, _ = _codes(lambda: read_table(path, ReadLimits()))
    assert codes == {"hostile_xml"}
    assert _OPENED == []


def test_billion_laughs_is_rejected_fast_and_small(tmp_path: Path) -> None:
    entities = '<!ENTITY a0 "ha">' + "".join(f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">'
                                             for i in range(1, 12))
    path = _xlsx(tmp_path / "laughs.xlsx", _with_doctype(f"<!DOCTYPE x [{entities}]>", "&a11;"))
    tracemalloc.start()
    started = time.monotonic()
    codes, _ = _codes(lambda: read_table(path, ReadLimits()))
    elapsed = time.monotonic() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert codes == {"hostile_xml"}
    assert elapsed < 2 and peak < 20 * 1024 * 1024


def test_zip_bomb_is_rejected_before_unpacking(tmp_path: Path) -> None:
    padding = "<!--" + " " * (60 * 1024 * 1024) + "-->"
    path = _xlsx(tmp_path / "bomb.xlsx", lambda xml: xml.replace("<sheetData>", padding + "<sheetData>"))
    assert path.stat().st_size < 1024 * 1024
    started = time.monotonic()
    codes, _ = _codes(lambda: read_table(path, ReadLimits()))
    assert codes == {"too_large"}
    assert time.monotonic() - started < 1


def test_unpacked_size_limit(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "many.xlsx", rows=200)
    codes, _ = _codes(lambda: read_table(path, ReadLimits(max_unzipped_bytes=2000)))
    assert codes == {"too_large"}


def test_file_over_the_byte_limit_is_not_opened(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("指标名称,县市,月份,完成值\n" * 100)
    _WATCHED.add(str(path))
    _OPENED.clear()
    try:
        codes, _ = _codes(lambda: read_table(path, ReadLimits(max_bytes=1000)))
    finally:
        _WATCHED.discard(str(path))
    assert codes == {"too_large"}
    assert _OPENED == []


def test_very_wide_csv_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(100_000)) + "\n" + ",".join("1" * 100_000) + "\n")
    started = time.monotonic()
    codes, error = _codes(lambda: read_table(path, ReadLimits()))
    assert codes == {"too_many_columns"}
    assert error.issues[0].row == 1
    assert time.monotonic() - started < 2


def test_csv_over_the_row_limit_stops_at_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    line = "城镇新增就业,楚雄市,2021-03,1200\n"
    path.write_text("指标名称,县市,月份,完成值\n" + line * 500_000)
    tracemalloc.start()
    started = time.monotonic()
    codes, error = _codes(lambda: read_table(path, ReadLimits(max_rows=1000)))
    elapsed = time.monotonic() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert codes == {"too_many_rows"}
    assert error.issues[0].row == 1001
    assert elapsed < 2 and peak < 10 * 1024 * 1024


def test_xlsx_over_the_row_limit(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "rows.xlsx", rows=60)
    codes, _ = _codes(lambda: read_table(path, ReadLimits(max_rows=50)))
    assert codes == {"too_many_rows"}


def test_parquet_over_the_row_limit(tmp_path: Path) -> None:
    path = tmp_path / "rows.parquet"
    pq.write_table(pa.table({"target_id": ["x"] * 100, "value": list(range(100))}), path)
    codes, _ = _codes(lambda: read_table(path, ReadLimits(max_rows=50)))
    assert codes == {"too_many_rows"}


@pytest.mark.parametrize("length", [40_000, 200_000], ids=["over-excel-limit", "over-csv-field-limit"])
def test_overlong_cell(tmp_path: Path, length: int) -> None:
    path = tmp_path / "long_cell.csv"
    path.write_text("指标名称,县市,月份,完成值,备注\n城镇新增就业,楚雄市,2021-03,1200," + "x" * length + "\n")
    codes, _ = _codes(lambda: read_table(path, ReadLimits()))
    assert codes == {"cell_too_long"}


def test_time_budget(tmp_path: Path) -> None:
    path = tmp_path / "slow.csv"
    path.write_text("指标名称,县市,月份,完成值\n城镇新增就业,楚雄市,2021-03,1200\n")
    codes, _ = _codes(lambda: read_table(path, ReadLimits(max_seconds=0)))
    assert codes == {"too_slow"}


def test_latin_text_that_happens_to_decode_as_gb18030_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    data = "indicator,county,period,value,note\njobs,Chuxiong,2021-03,1200,crème brûlée\n".encode("cp1252")
    data.decode("gb18030")  # the trap: a strict GB18030 decode succeeds on this Latin-1 text
    path.write_bytes(data)
    codes, _ = _codes(lambda: read_table(path, ReadLimits()))
    assert codes == {"bad_encoding"}


def test_utf16_without_bom_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nobom.csv"
    path.write_bytes("indicator,county\njobs,Chuxiong\n".encode("utf-16-le"))
    codes, _ = _codes(lambda: read_table(path, ReadLimits()))
    assert codes == {"bad_encoding"}


def test_symlink_is_not_followed(tmp_path: Path, tripwire: Path) -> None:
    link = tmp_path / "link.csv"
    link.symlink_to(tripwire)
    codes, _ = _codes(lambda: read_table(link, ReadLimits()))
    assert codes == {"bad_file"}
    assert _OPENED == []
