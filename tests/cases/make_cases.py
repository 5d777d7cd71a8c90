"""Write the drop-file fixtures of tests/cases (deterministically) and, for good files, their golden rows.

Run `python tests/cases/make_cases.py` from the repository root. Each good file `good_<x>.<ext>` gets
`good_<x>.expected.csv` with the exact normalized rows it must produce (written here by hand, never by the code
under test). `good_legacy.xls` needs xlwt, which minsheng does not depend on: without it the committed .xls is kept.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
FIXED = (2021, 1, 1, 0, 0, 0)
COLUMNS = ("target_id", "county_code", "period", "value", "unit", "basis", "status", "note", "source_sheet",
           "source_row")
JOBS = "employment.new_urban_jobs"  # persons, cumulative
RATE = "employment.urban_unemployment_rate"  # percent, level
MMR = "health.maternal_mortality_rate"  # per 100k
IMR = "health.infant_mortality_rate"  # permille
RIVER = "ecology.river_governance_investment"  # yuan, cumulative
GRAIN = "income.grain_sown_area"  # mu, level
LAB = "health.prefecture_cdc_lab_upgrade"  # milestone


def expected(name: str, rows: list[tuple[object, ...]]) -> None:
    """Golden rows: (target, county, period, value, unit, basis, status, note, sheet, row)."""
    with (HERE / f"{name}.expected.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(["" if v is None else v for v in row] for row in rows)


def text(name: str, content: str, encoding: str = "utf-8") -> None:
    (HERE / name).write_bytes(content.encode(encoding))


def rezip(path: Path, edit: Callable[[str, bytes], bytes] | None = None) -> None:
    """Rewrite an xlsx with fixed timestamps (deterministic bytes), optionally editing parts on the way."""
    source = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in sorted(source.infolist(), key=lambda i: i.filename):
            data = source.read(info)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time into it
                data = re.sub(rb"<dcterms:modified([^>]*)>[^<]*<", rb"<dcterms:modified\1>2021-01-01T00:00:00Z<", data)
            if edit is not None:
                data = edit(info.filename, data)
            target.writestr(zipfile.ZipInfo(info.filename, FIXED), data, zipfile.ZIP_DEFLATED)
    path.write_bytes(out.getvalue())


def workbook() -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    wb.properties.created = wb.properties.modified = dt.datetime(2021, 1, 1)
    return wb


def save(wb: openpyxl.Workbook, name: str, edit: Callable[[str, bytes], bytes] | None = None) -> None:
    path = HERE / name
    wb.save(path)
    rezip(path, edit)


def csv_cases() -> None:
    text("good_utf8.csv", (
        "target_id,county,period,value,unit,basis,status,note\n"
        f"{JOBS},楚雄市,2021-03,1.39万,人,累计,初步,\n"
        f'{JOBS},Lufeng,2021-3,"12,500",,,final,"=HYPERLINK(""x"")"\n'
        f"{RATE},全州,2021/03,3.5%,,,revised,修订\n"
        f"{MMR},532300,2021年3月,16/10万,,,,\n"
        f"{IMR},楚雄州,202103,5‰,,当月,,\n"
        f"{RIVER},全州合计,2021-03-01,2.9亿元,,,,\n"
        f"{JOBS},双柏县,2021-03,1.5E+3,,,,\n"
        f"{RIVER},南华,2021-03,-120.5,万元,,,\n"
        f"{GRAIN},全州,2021-03,350平方公里,,,,\n"
    ))
    expected("good_utf8", [
        (JOBS, "532301", "2021-03", "13900", "person", "ytd", "provisional", None, "", 2),
        (JOBS, "532331", "2021-03", "12500", "person", "ytd", "final", '=HYPERLINK("x")', "", 3),
        (RATE, "532300", "2021-03", "3.5", "percent", "month", "revised", "修订", "", 4),
        (MMR, "532300", "2021-03", "16", "per_100k", "month", "provisional", None, "", 5),
        (IMR, "532300", "2021-03", "5", "permille", "month", "provisional", None, "", 6),
        (RIVER, "532300", "2021-03", "290000000", "yuan", "ytd", "provisional", None, "", 7),
        (JOBS, "532322", "2021-03", "1500", "person", "ytd", "provisional", None, "", 8),
        (RIVER, "532324", "2021-03", "-1205000", "yuan", "ytd", "provisional", None, "", 9),
        (GRAIN, "532300", "2021-03", "525000", "mu", "month", "provisional", None, "", 10),
    ])
    text("good_gbk_title_total.csv", (
        "楚雄州2021年4月城镇新增就业进度表,,,,\n"
        ",,,,\n"
        "指标名称,县市,月份,累计完成,备注\n"
        "城镇新增就业,楚雄市,4月,15800,\n"
        '城镇新增就业,禄丰县,4月,"1,200",原禄丰县\n'
        "城镇新增就业,合计,4月,17000,\n"
        "备注：本表数据截至4月30日,,,,\n"
        "填报人：李四  审核人：王五,,,,\n"
    ), "gbk")
    expected("good_gbk_title_total", [
        (JOBS, "532301", "2021-04", "15800", "person", "ytd", "provisional", None, "", 4),
        (JOBS, "532331", "2021-04", "1200", "person", "ytd", "provisional", "原禄丰县", "", 5),
    ])
    (HERE / "good_utf16.csv").write_bytes(
        "指标\t地区\t时间\t数值\t计量单位\r\n城镇登记失业率\t全州\t2021-05\t3.40\t%\r\n"
        "孕产妇死亡率\t全州\t2021-05\t12.5\t/10万\r\n".encode("utf-16"))
    expected("good_utf16", [
        (RATE, "532300", "2021-05", "3.4", "percent", "month", "provisional", None, "", 2),
        (MMR, "532300", "2021-05", "12.5", "per_100k", "month", "provisional", None, "", 3),
    ])
    text("good_bom_semicolon.csv", (
        f"指标编码;单位;统计期;完成值（万人）\n{JOBS};楚雄市;2021-06;１．５\n{JOBS};姚安县;2021-06;0.32\n"
    ), "utf-8-sig")
    expected("good_bom_semicolon", [
        (JOBS, "532301", "2021-06", "15000", "person", "ytd", "provisional", None, "", 2),
        (JOBS, "532325", "2021-06", "3200", "person", "ytd", "provisional", None, "", 3),
    ])
    text("good_milestone.csv", f"指标编码,县市,月份,完成情况\n{LAB},全州,2021-06,已完成\n{LAB},全州,2021-05,未完成\n")
    expected("good_milestone", [
        (LAB, "532300", "2021-06", "1", "item", "month", "provisional", None, "", 2),
        (LAB, "532300", "2021-05", "0", "item", "month", "provisional", None, "", 3),
    ])
    head = "指标名称,县市,月份,完成值,单位\n"
    for name, rows in {
        "bad_ambiguous_period.csv": "城镇新增就业,楚雄市,2021.1,1200,\n城镇新增就业,楚雄市,2021.10,1300,\n",
        "bad_unit_conflict.csv": "城镇登记失业率,全州,2021-03,3.2%,‰\n",
        "bad_wrong_unit.csv": "城镇新增就业,全州,2021-03,2.9亿元,\n",
        "bad_missing_value.csv": "城镇新增就业,楚雄市,2021-03,-,\n城镇新增就业,双柏县,2021-03,,\n"
                                 "城镇新增就业,牟定县,2021-03,无,\n",
        "bad_unknown_county.csv": "城镇新增就业,昆明市,2021-03,1200,\n",
        "bad_unknown_target.csv": "城镇新增救业,楚雄市,2021-03,1200,\n",
        "bad_bad_value.csv": "城镇新增就业,楚雄市,2021-03,约1.2万,\n",
        "bad_bad_period.csv": "城镇新增就业,楚雄市,2021-13,1200,\n",
    }.items():
        text(name, head + rows)
    text("bad_missing_column.csv", "指标名称,县市,月份,单位\n城镇新增就业,楚雄市,2021-03,人\n")
    text("bad_basis_conflict.csv", "指标名称,县市,月份,本月完成,口径\n城镇新增就业,楚雄市,2021-03,1200,累计\n")
    text("bad_too_wide.csv", ",".join(["指标名称", "县市", "月份", "完成值"] + [f"列{i}" for i in range(300)])
         + "\n" + ",".join(["城镇新增就业", "楚雄市", "2021-03", "1"] + ["x"] * 300) + "\n")
    (HERE / "bad_encoding.csv").write_bytes("indicator,county,period,value,note\n"
                                            "city jobs,Chuxiong,2021-03,1200,résumé café naïve\n".encode("cp1252"))


def xlsx_cases() -> None:
    wb = workbook()
    ws = wb.active
    ws.title = "进度"
    ws.append(["楚雄州2021年7月民生实事进度表"])
    ws.append(["指标名称", "县市", "月份", "完成值", None])
    ws.append([None, None, None, "本月", "累计"])
    ws.append(["城镇新增就业", "楚雄市", "2021-07", 1200, 16000])
    ws.append(["城镇登记失业率", None, "2021-07", 3.1, 3.3])
    ws.append(["城镇新增就业", "双柏县", "2021-07", 300, 4100])
    for cells in ("A1:E1", "A2:A3", "B2:B3", "C2:C3", "D2:E2", "B4:B5"):
        ws.merge_cells(cells)
    save(wb, "good_merged_header.xlsx")
    expected("good_merged_header", [
        (JOBS, "532301", "2021-07", "16000", "person", "ytd", "provisional", None, "进度", 4),
        (RATE, "532301", "2021-07", "3.1", "percent", "month", "provisional", None, "进度", 5),
        (JOBS, "532322", "2021-07", "4100", "person", "ytd", "provisional", None, "进度", 6),
    ])

    wb = workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["指标", "地区", "月份", "完成值"])
    for row, fmt in ((["城镇登记失业率", "全州", "2021-08", 0.032], "0.0%"),
                     (["城镇登记失业率", "楚雄市", "2021-08", 0.0315], "0.00%"),
                     (["婴儿死亡率", "全州", "2021-08", 0.0045], "0.00%"),
                     (["城镇登记失业率", "武定县", "2021-08", 3.3], "General"),
                     (["城镇登记失业率", "永仁县", "2021-08", 0.033], "General"),
                     (["城镇登记失业率", "元谋县", "2021-08", 3.6], '0.0"%"')):
        ws.append(row)
        ws.cell(ws.max_row, 4).number_format = fmt
    save(wb, "good_percent_cells.xlsx")
    expected("good_percent_cells", [
        (RATE, "532300", "2021-08", "3.2", "percent", "month", "provisional", None, "Sheet1", 2),
        (RATE, "532301", "2021-08", "3.15", "percent", "month", "provisional", None, "Sheet1", 3),
        (IMR, "532300", "2021-08", "4.5", "permille", "month", "provisional", None, "Sheet1", 4),
        (RATE, "532329", "2021-08", "3.3", "percent", "month", "provisional", None, "Sheet1", 5),
        (RATE, "532327", "2021-08", "0.033", "percent", "month", "provisional", None, "Sheet1", 6),
        (RATE, "532328", "2021-08", "3.6", "percent", "month", "provisional", None, "Sheet1", 7),
    ])

    wb = workbook()
    ws = wb.active
    ws.title = "9月"
    ws.append(["指标名称", "县市", "报告期", "完成数"])
    ws.append(["城镇新增就业", "元谋县", dt.datetime(2021, 9, 1), 2100])
    ws.cell(2, 3).number_format = "yyyy-mm-dd"
    ws.append(["城镇新增就业", "大姚县", 44440, 1900])
    ws.append(["城镇新增就业", "牟定县", "2021年9月", 1500.0])
    save(wb, "good_serial_dates.xlsx")
    expected("good_serial_dates", [
        (JOBS, "532328", "2021-09", "2100", "person", "ytd", "provisional", None, "9月", 2),
        (JOBS, "532326", "2021-09", "1900", "person", "ytd", "provisional", None, "9月", 3),
        (JOBS, "532323", "2021-09", "1500", "person", "ytd", "provisional", None, "9月", 4),
    ])

    wb = workbook()
    ws = wb.active
    ws.title = "说明"
    ws.append(["本表由州人社局填报，每月5日前报送。"])
    data = wb.create_sheet("数据")
    data.append(["指标名称", "县市", "月份", "完成值"])
    data.append(["城镇新增就业", "武定县", "2021-10", 1800])
    draft = wb.create_sheet("草稿")
    draft.append(["指标名称", "县市", "月份", "完成值"])
    draft.append(["胡乱写的", "火星", "2021.1", "#DIV/0!"])
    draft.sheet_state = "hidden"
    template = wb.create_sheet("模板")
    template.append(["随便", "什么"])
    template.sheet_state = "veryHidden"
    save(wb, "good_hidden_sheet.xlsx")
    expected("good_hidden_sheet", [
        (JOBS, "532329", "2021-10", "1800", "person", "ytd", "provisional", None, "数据", 2),
    ])

    wb = workbook()
    ws = wb.active
    ws.title = "汇总"
    ws.append(["指标名称", "县市", "月份", "完成值", "同比"])
    ws.append(["城镇新增就业", "楚雄市", "2021-11", 1000, "#DIV/0!"])
    ws.append(["城镇新增就业", "双柏县", "2021-11", "=D2+200", 0.1])
    save(wb, "good_cached_formulas.xlsx",
         lambda name, data: data.replace(b"<f>D2+200</f><v />", b"<f>D2+200</f><v>1200</v>"))
    expected("good_cached_formulas", [
        (JOBS, "532301", "2021-11", "1000", "person", "ytd", "provisional", None, "汇总", 2),
        (JOBS, "532322", "2021-11", "1200", "person", "ytd", "provisional", None, "汇总", 3),
    ])

    def bad_book(name: str, value: object, edit: Callable[[str, bytes], bytes] | None = None) -> None:
        wb = workbook()
        ws = wb.active
        ws.append(["指标名称", "县市", "月份", "完成值"])
        ws.append(["城镇新增就业", "楚雄市", "2021-03", 1000])
        ws.append(["城镇新增就业", "双柏县", "2021-03", value])
        save(wb, name, edit)

    bad_book("bad_div0.xlsx", "#DIV/0!")
    bad_book("bad_uncached_formula.xlsx", "=D2*2")
    laughs = ('<!DOCTYPE lolz [<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
        + "]>")

    def inject(doctype: str, entity: str) -> Callable[[str, bytes], bytes]:
        def edit(name: str, data: bytes) -> bytes:
            if name != "xl/worksheets/sheet1.xml":
                return data
            xml = data.decode()
            xml = xml.replace("?>", "?>" + doctype, 1) if xml.startswith("<?xml") else doctype + xml
            return re.sub(r"<v>1000</v>", f"<v>1000</v></c><c r=\"E2\" t=\"inlineStr\"><is><t>{entity}</t></is>",
                          xml).encode()
        return edit

    bad_book("bad_xml_bomb.xlsx", 1200, inject(laughs, "&lol9;"))
    bad_book("bad_xxe.xlsx", 1200, inject('<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>', "&xxe;"))
    padding = b"<!--" + b" " * (30 * 1024 * 1024) + b"-->"
    bad_book("bad_zip_bomb.xlsx", 1200, lambda name, data: data.replace(b"<sheetData>", padding + b"<sheetData>")
             if name == "xl/worksheets/sheet1.xml" else data)


def parquet_cases() -> None:
    table = pa.table({
        "target_id": pa.array([JOBS, RIVER, RATE]),
        "county": pa.array(["楚雄市", "全州", "全州"]),
        "period": pa.array([dt.date(2021, 12, 1)] * 3, pa.date32()),
        "value": pa.array([Decimal("13900.50"), Decimal("2.90"), Decimal("3.25")], pa.decimal128(12, 2)),
        "unit": pa.array([None, "亿元", None], pa.string()),
        "note": pa.array([None, "截至12月", None], pa.string()),
    })
    pq.write_table(table, HERE / "good.parquet", compression="snappy")
    expected("good", [
        (JOBS, "532301", "2021-12", "13900.5", "person", "ytd", "provisional", None, "", 2),
        (RIVER, "532300", "2021-12", "290000000", "yuan", "ytd", "provisional", "截至12月", "", 3),
        (RATE, "532300", "2021-12", "3.25", "percent", "month", "provisional", None, "", 4),
    ])
    typed = pa.table({
        "indicator": pa.array(["城镇新增就业", "城镇登记失业率"]),
        "county": pa.array([532301, 532300], pa.int64()),
        "period": pa.array([202111, 202111], pa.int32()),
        "value": pa.array([1250.0, 0.1 + 0.2], pa.float64()),
    })
    pq.write_table(typed, HERE / "good_typed.parquet", compression="snappy")
    expected("good_typed", [
        (JOBS, "532301", "2021-11", "1250", "person", "ytd", "provisional", None, "", 2),
        (RATE, "532300", "2021-11", "0.30000000000000004", "percent", "month", "provisional", None, "", 3),
    ])


def xls_case() -> None:
    try:
        import xlwt  # type: ignore[import-not-found]
    except ImportError:
        print("xlwt not installed: keeping the committed good_legacy.xls")
        return
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("进度")
    sheet.write_merge(0, 0, 0, 3, "楚雄州2021年6月民生工程进度")
    for c, title in enumerate(["指标名称", "县市", "月份", "完成值"]):
        sheet.write(1, c, title)
    percent = xlwt.easyxf(num_format_str="0.0%")
    date = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    sheet.write(2, 0, "城镇登记失业率")
    sheet.write_merge(2, 3, 1, 1, "楚雄市")
    sheet.write(2, 2, dt.datetime(2021, 6, 1), date)
    sheet.write(2, 3, 0.034, percent)
    sheet.write(3, 0, "城镇新增就业")
    sheet.write(3, 2, "6月")
    sheet.write(3, 3, 9870.0)
    hidden = book.add_sheet("旧数据")
    hidden.write(0, 0, "作废")
    hidden.visibility = 1
    book.save(str(HERE / "good_legacy.xls"))
    expected("good_legacy", [
        (RATE, "532301", "2021-06", "3.4", "percent", "month", "provisional", None, "进度", 3),
        (JOBS, "532301", "2021-06", "9870", "person", "ytd", "provisional", None, "进度", 4),
    ])


def main() -> None:
    csv_cases()
    xlsx_cases()
    parquet_cases()
    xls_case()


if __name__ == "__main__":
    main()
