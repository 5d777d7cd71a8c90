"""The benchmark harness keeps working: generator, baselines and the whole tiny suite (no timing assertions)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from bench import limit, naive, stages
from bench.catalog import BENCH_DEPARTMENT, catalog_for_rows, reference_tables, rows_per_month
from bench.datagen import BAD_KINDS, HEADERS, TITLE, drop_table, write_drop
from bench.report import ROW_KEYS, growth, row, size_label, verdict
from expectations.loader import load_catalog
from expectations.models import Catalog


@pytest.fixture(scope="module")
def small_catalog() -> Catalog:
    return catalog_for_rows(2_000)


def test_bench_catalog_grows_counties_to_fit_the_rows() -> None:
    base = load_catalog()
    big = catalog_for_rows(1_000_000, base)
    assert rows_per_month(big) * 12 >= 1_000_000
    assert len(big.counties) > len(base.counties)
    assert len(big.targets_of(BENCH_DEPARTMENT)) == len(base.targets)
    assert all(c.code.startswith("9") for c in big.counties[len(base.counties):])


def test_drop_table_is_deterministic_and_breaks_the_share_asked(small_catalog: Catalog) -> None:
    clean, none_bad = drop_table(small_catalog, 2_000)
    again, _ = drop_table(small_catalog, 2_000)
    bad, broken = drop_table(small_catalog, 2_000, bad_share=0.05)
    assert clean.equals(again) and none_bad == 0
    assert clean.column_names == list(HEADERS) and clean.num_rows == 2_000
    assert broken == 100 and not bad.equals(clean)
    assert any(v.endswith("万人") for v in clean["数值"].to_pylist())  # units written inside values


def test_written_csv_has_the_title_row_then_the_header(tmp_path: Path, small_catalog: Catalog) -> None:
    drop = write_drop(tmp_path / "d.csv", small_catalog, 500)
    lines = drop.path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == TITLE and lines[1] == ",".join(HEADERS) and len(lines) == 502


def test_limit_flags_every_kind_of_bad_row(tmp_path: Path, small_catalog: Catalog) -> None:
    ref = reference_tables(small_catalog)
    periods = pa.array([f"2021-{m:02d}" for m in range(1, 13)])
    clean = limit.normalize(limit.read(write_drop(tmp_path / "c.csv", small_catalog, 2_000).path), ref)
    assert limit.validate(clean, ref, periods) == {}
    bad = limit.normalize(limit.read(write_drop(tmp_path / "b.csv", small_catalog, 2_000, bad_share=0.05).path), ref)
    failed = limit.validate(bad, ref, periods)
    assert {"out_of_bounds", "unknown_county", "missing_value", "duplicate_key"} <= set(failed)
    assert len(BAD_KINDS) == 5


def test_naive_pipeline_validates_with_gx(tmp_path: Path, small_catalog: Catalog) -> None:
    few = small_catalog.model_copy(update={"targets": small_catalog.targets[:3]})  # 3 expectations, not 194
    ref = reference_tables(few)
    frame = naive.normalize(naive.read(write_drop(tmp_path / "n.csv", few, 300).path), ref)
    assert naive.validate(frame, few)
    frame.loc[0, "value"] = -1.0
    assert not naive.validate(frame, few)


@pytest.mark.parametrize(("measure", "size", "ratio", "expected"), [
    pytest.param("ingest", "1M csv", 3.9, "MISSED", id="ingest_at_a_stated_size"),
    pytest.param("ingest", "100k csv", 1.5, "", id="ingest_at_a_growth_size"),
    pytest.param("idle_tick", "10000 files", 0.17, "met", id="idle_tick_over_10000"),
    pytest.param("idle_tick", "2000 files", 0.27, "", id="idle_tick_over_2000"),
    pytest.param("peak_memory", "5M csv", 1.6, "met", id="memory_at_5m"),
])
def test_verdicts_only_at_the_sizes_the_issue_states(measure: str, size: str, ratio: float, expected: str) -> None:
    assert verdict(row(measure, size, "sqlite", ratio_vs_limit=ratio)) == expected


def test_stages_prints_each_stage_of_one_drop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stages.main(["1000", "--workdir", str(tmp_path)])
    out = capsys.readouterr().out
    assert "rows loaded {'sqlite': 1000}" in out
    for stage in ("read", "normalize", "validate", "load@sqlite", "curated@sqlite"):
        assert stage in out
    assert (tmp_path / "drops" / "clean_1000.csv").is_file()


def test_report_rows_ratios_and_growth() -> None:
    one = row("ingest", "1M csv", "sqlite", minsheng_s=10.0, limit_s=2.0, naive_s=50.0)
    five = row("ingest", "5M csv", "sqlite", minsheng_s=60.0, limit_s=10.0)
    assert tuple(one) == ROW_KEYS
    assert one["ratio_vs_limit"] == 5.0 and one["naive_over_minsheng"] == 5.0 and five["naive_over_minsheng"] is None
    (g,) = growth([one, five], {"1M csv": (1e6, "csv"), "5M csv": (5e6, "csv")})
    assert g["minsheng_factor"] == 6.0 and g["per_unit"] == 1.2 and g["limit_factor"] == 5.0
    assert [size_label(n) for n in (1_000, 100_000, 1_000_000, 5_000_000)] == ["1k", "100k", "1M", "5M"]


def test_tiny_suite_through_the_command_line(tmp_path: Path) -> None:
    from minsheng.cli import _register, app

    _register()
    out = tmp_path / "results"
    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n\nProse stays.\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["bench", "--suite", "tiny", "--sqlite-only", "--workdir", str(tmp_path / "w"),
                                      "--out", str(out), "--docs", str(doc)])
    assert result.exit_code == 0, result.output
    assert not (out / "latest.json").exists()  # a tiny run never overwrites the full suite's results
    rows = json.loads((out / "latest_tiny.json").read_text(encoding="utf-8"))
    assert rows and all(tuple(r) == ROW_KEYS for r in rows)
    by_measure = {r["measure"]: r for r in rows}
    assert {"ingest", "peak_memory", "idle_tick", "aq_derivation", "ingest/read", "ingest/load"} <= set(by_measure)
    ingest = by_measure["ingest"]
    assert ingest["backend"] == "sqlite" and ingest["minsheng_s"] > 0 and ingest["limit_s"] > 0
    assert ingest["peak_rss_mb"] > 0 and ingest["ratio_vs_limit"] is not None
    assert by_measure["idle_tick"]["ratio_vs_limit"] is not None
    detail = json.loads((out / "latest_tiny_detail.json").read_text(encoding="utf-8"))
    assert detail["machine"]["nproc"] >= 1 and detail["runs"][0]["results"]["minsheng"]["outcome"] in (
        "load", "load-with-warnings")
    assert detail["small_drops"][0]["plain"]["files"] == 3
    text = doc.read_text(encoding="utf-8")
    assert "Prose stays." in text and "| ingest | 1k csv | sqlite |" in text
