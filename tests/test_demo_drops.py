"""The demo drops: deterministic bytes, every lead department covered, the story (one bad file, one late
department, one target far behind, a couple of misses) and values that are exactly the truth."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import unicodedata
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from expectations.loader import load_catalog
from expectations.models import Catalog, Kind, Scope
from minsheng.demo.render import Style, value_cells
from minsheng.demo.series import Obs, cumulative_path, meets, missed_value, rng_for, split_path
from minsheng.demo_drops import DemoManifest, demo_truth, seed_demo_drops
from tasks.contracts import Outcome

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def manifest(catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> DemoManifest:
    return seed_demo_drops(tmp_path_factory.mktemp("demo") / "raw", catalog)


@pytest.fixture(scope="module")
def truth(catalog: Catalog) -> list[Obs]:
    return demo_truth(catalog)


def _tree(raw: Path) -> dict[str, tuple[str, float]]:
    return {p.relative_to(raw).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime)
            for p in sorted(raw.rglob("*")) if p.is_file()}


def test_seeding_twice_gives_identical_bytes_and_times(manifest: DemoManifest, tmp_path: Path) -> None:
    # A separate process with another hash seed: nothing may depend on set order, the clock or the process.
    other = tmp_path / "raw"
    script = ("import sys; from pathlib import Path; from expectations.loader import load_catalog; "
              "from minsheng.demo_drops import seed_demo_drops; "
              "seed_demo_drops(Path(sys.argv[1]), load_catalog())")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "TZ": "America/New_York"}
    subprocess.run([sys.executable, "-c", script, str(other)], check=True, cwd=ROOT, env=env)
    first, second = _tree(manifest.raw_dir), _tree(other)
    assert first == second
    assert {f.relative_path: f.sha256 for f in manifest.files} == {k: v[0] for k, v in first.items()}


def test_file_times_are_the_drop_times_before_as_of(manifest: DemoManifest) -> None:
    for f in manifest.files:
        assert f.path.stat().st_mtime == f.dropped.timestamp()
        assert f.dropped.date() < manifest.as_of
    assert str(manifest.as_of) == "2021-07-20"


def test_every_lead_department_gets_files(manifest: DemoManifest, catalog: Catalog) -> None:
    assert set(manifest.departments) == set(catalog.lead_department_slugs)
    for f in manifest.files:
        assert f.relative_path.startswith(f.department + "/")
        assert f.path == manifest.raw_dir / f.relative_path


def test_demo_is_a_realistic_size(manifest: DemoManifest) -> None:
    assert 30 <= len(manifest.files) <= 80
    assert 1000 <= sum(f.rows for f in manifest.files) <= 8000


def test_exactly_one_file_is_quarantined_and_it_says_why(manifest: DemoManifest) -> None:
    [bad] = manifest.quarantined
    assert "有误" in bad.path.name
    text = bad.path.read_bytes().decode("utf-8-sig")
    assert "东城区" in text and "待定" in text
    corrected = [f for f in manifest.files_of(bad.department) if f.periods == bad.periods and f is not bad]
    assert [f.expected for f in corrected] == [Outcome.LOAD]


def test_late_department_has_nothing_for_may_and_june(manifest: DemoManifest) -> None:
    late = manifest.files_of(manifest.late_department)
    reported = {p for f in late for p in f.periods}
    assert reported == {"2021-01", "2021-02", "2021-03", "2021-04"}
    on_time = [d for d in manifest.departments if d != manifest.late_department]
    assert all(any("2021-06" in f.periods for f in manifest.files_of(d)) for d in on_time)


def test_gbk_files_decode_as_gb18030_only(manifest: DemoManifest) -> None:
    gbk = [f for f in manifest.files if "gbk" in f.features]
    assert len(gbk) >= 3
    for f in gbk:
        data = f.path.read_bytes()
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        title, header = data.decode("gb18030").splitlines()[:2]
        assert "进展统计表" in title and "指标名称" in header
    assert all("total_row" in f.features and "title_row" in f.features for f in gbk)
    assert sum("fullwidth_digits" in f.features for f in gbk) == 1


def test_workbook_has_merged_cells_hidden_sheet_and_percent_cells(manifest: DemoManifest) -> None:
    books = [f for f in manifest.files if f.path.suffix == ".xlsx"]
    assert books
    wb = openpyxl.load_workbook(books[-1].path)
    visible, *others = wb.worksheets
    assert visible.sheet_state == "visible" and any(ws.sheet_state == "hidden" for ws in others)
    merged = [str(r) for r in visible.merged_cells.ranges]
    assert "A1:H1" in merged and "A3:A4" in merged  # title, and a header cell two rows tall
    assert any(r.startswith("C") and r.split(":")[1].startswith("C") for r in merged)  # a county block
    percent = [c for row in visible.iter_rows() for c in row
               if "%" in c.number_format and isinstance(c.value, int | float)]
    assert percent and all(0 <= c.value <= 1 for c in percent)
    assert str(visible.cell(visible.max_row, 1).value).startswith("备注")
    assert wb.properties.created is not None and wb.properties.created.year == 2021


def test_story_behind_target_and_misses(manifest: DemoManifest, truth: list[Obs], catalog: Catalog) -> None:
    assert manifest.behind_target == "employment.new_urban_jobs"
    target = catalog.target(manifest.behind_target)
    june = [o for o in truth if o.target_id == target.id and o.month == 6 and o.county_code == "532300"]
    assert target.value is not None and june[0].value is not None
    assert june[0].value / target.value < Decimal("0.20")  # expected 50 % by June: > 30 points behind → red
    assert "ecology.air_quality_good_days_ratio" in manifest.missed_targets
    missed = {o.target_id for o in truth if o.misses}
    assert missed == set(manifest.missed_targets)
    warned = [f for f in manifest.files if f.expected == Outcome.LOAD_WITH_WARNINGS]
    assert 1 <= len(warned) <= 4


def test_values_respect_bounds_and_cumulatives_never_decrease(truth: list[Obs], catalog: Catalog) -> None:
    series: dict[tuple[str, str], list[Obs]] = defaultdict(list)
    for o in truth:
        target = catalog.target(o.target_id)
        if o.value is not None:
            assert target.bounds.min is None or o.value >= target.bounds.min, o
            assert target.bounds.max is None or o.value <= target.bounds.max, o
        series[(o.target_id, o.county_code)].append(o)
    for (target_id, _), observations in series.items():
        if catalog.target(target_id).kind == Kind.CUMULATIVE:
            values = [o.value for o in sorted(observations, key=lambda o: o.month)]
            assert values == sorted(values), target_id  # type: ignore[type-var]


def test_county_parts_add_up_to_the_prefecture(truth: list[Obs], catalog: Catalog) -> None:
    cells: dict[tuple[str, int], dict[str, Decimal]] = defaultdict(dict)
    for o in truth:
        if o.value is not None:
            cells[(o.target_id, o.month)][o.county_code] = o.value
    both = {k: v for k, v in cells.items() if catalog.prefecture_code in v and len(v) > 1}
    assert len(both) > 50
    for (target_id, _), values in both.items():
        assert catalog.target(target_id).additive
        whole = values.pop(catalog.prefecture_code)
        assert sum(values.values()) == whole


def test_most_cumulative_targets_run_roughly_linearly(truth: list[Obs], catalog: Catalog) -> None:
    paces = []
    for o in truth:
        target = catalog.target(o.target_id)
        goal = target.target_for(o.county_code)
        own_goal = target.scope == Scope.COUNTIES or o.county_code == catalog.prefecture_code
        if target.kind == Kind.CUMULATIVE and own_goal and o.month == 6 and goal and goal >= 100 and o.value:
            paces.append(o.value / goal * 2)
    on_pace = [p for p in paces if Decimal("0.88") <= p <= Decimal("1.17")]
    assert len(on_pace) >= 0.9 * len(paces) and len(paces) > 30


def _parse(value: str, unit: str, catalog: Catalog) -> Decimal:
    """A deliberately small reader of the demo's value cells, to check the written text converts exactly."""
    text = unicodedata.normalize("NFKC", value).replace(",", "")
    symbols = sorted(((s, u.factor) for u in catalog.units for s in (u.symbol, *u.aliases)),
                     key=lambda p: -len(p[0]))
    for symbol, factor in symbols:
        if text.endswith(symbol) and text[: -len(symbol)][-1:].isdigit():
            return Decimal(text[: -len(symbol)]) * factor
    factor = next((f for s, f in symbols if s == unit), Decimal(1))
    return Decimal(text) * factor


@pytest.mark.parametrize("style", [Style(), Style(text_units=True), Style(fullwidth=True)],
                         ids=["plain", "units-in-text", "full-width"])
def test_written_values_convert_exactly_to_the_truth(style: Style, truth: list[Obs],
                                                     catalog: Catalog) -> None:
    written = []
    for o in truth:
        target = catalog.target(o.target_id)
        value, unit = value_cells(o, target, catalog, style)
        if o.value is None:
            assert value in {"完成", "未完成"} and unit == ""
            continue
        assert _parse(value, unit, catalog) == o.value, (o, value, unit)
        written.append(value)
    if style.text_units:
        assert any(v.endswith("万人") for v in written) and any(v.endswith("%") for v in written)
    if style.fullwidth:
        assert any("，" in v for v in written)


def test_cumulative_path_and_split_keep_their_promises(catalog: Catalog) -> None:
    target = catalog.target("employment.new_urban_jobs")
    months = [1, 2, 3, 4, 5, 6]
    path = cumulative_path(Decimal(40000), months, rng_for(1, "x"), Decimal(1), (0.9, 1.15), target)
    assert path == sorted(path) and Decimal(40000) * 6 / 12 * Decimal("0.9") <= path[-1] <= 23000
    parts = split_path(path, [0.5, 1.0, 1.5], Decimal(1))
    assert [sum(p[i] for p in parts) for i in range(6)] == path
    assert all(p == sorted(p) for p in parts)


def test_a_missed_value_misses_and_stays_in_bounds(catalog: Catalog) -> None:
    target = catalog.target("ecology.air_quality_good_days_ratio")
    goal = target.target_for("532324")
    assert goal is not None
    low = missed_value(target, goal, Decimal("0.1"))
    assert low is not None and not meets(target, goal, low) and low >= (target.bounds.min or 0)


def test_seeding_works_without_the_preferred_departments(catalog: Catalog, tmp_path: Path) -> None:
    gone = {"hrss", "health", "civil_affairs", "culture_tourism"}
    reduced = catalog.model_copy(update={"targets": [t for t in catalog.targets
                                                     if not gone & set(t.lead_departments)]})
    manifest = seed_demo_drops(tmp_path / "raw", reduced, last_month=5)
    assert set(manifest.departments) == set(reduced.lead_department_slugs)
    assert len(manifest.quarantined) == 1
    late = {p for f in manifest.files_of(manifest.late_department) for p in f.periods}
    assert late and late <= {"2021-01", "2021-02", "2021-03"}
    assert reduced.target(manifest.behind_target).kind == Kind.CUMULATIVE
    assert any("gbk" in f.features for f in manifest.files)
    assert any(f.path.suffix == ".xlsx" for f in manifest.files)
    assert str(manifest.as_of) == "2021-06-20"


def test_the_reader_loads_every_good_file_exactly_and_rejects_the_bad_one(manifest: DemoManifest,
                                                                           truth: list[Obs]) -> None:
    read_drop = pytest.importorskip("tasks.normalize").read_drop
    from tasks.contracts import Severity
    from tasks.read import ReadLimits

    catalog = load_catalog()
    expected = {(o.target_id, o.county_code, f"2021-{o.month:02d}"): o for o in truth}
    for f in manifest.files:
        frame, issues = read_drop(f.path, catalog, ReadLimits(), manifest.as_of)
        critical = [i for i in issues if i.severity == Severity.CRITICAL]
        if f.expected == Outcome.QUARANTINE:
            assert {i.code for i in critical} >= {"unknown_county"}, f.relative_path
            assert any(i.value == "待定" for i in critical), f.relative_path
            continue
        assert critical == [], (f.relative_path, critical[:3])
        assert len(frame) == f.rows, f.relative_path
        for row in frame.itertuples():
            obs = expected[(row.target_id, row.county_code, row.period)]
            truth_value = obs.value if obs.value is not None else Decimal(int(bool(obs.done)))  # 完成 → 1
            assert row.value == truth_value, (f.relative_path, row)
