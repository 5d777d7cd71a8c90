"""The naive baseline: what a typical pandas + Great Expectations user writes for the same job.

pandas.read_csv (read_excel, read_parquet) with the title row skipped, the value's number pulled out with
`str.extract` and scaled by a dict of unit factors, counties mapped by a dict; then an ephemeral GX context, one
ExpectColumnValuesToBeBetween with a pandas row_condition per target added to the suite one by one, plus the
same null / known-code / unique-key checks as the limit, run through a ValidationDefinition; a clean drop goes
to the warehouse with DataFrame.to_sql and to Parquet with DataFrame.to_parquet, a bad one is not loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from bench.catalog import MONTHS, ReferenceTables, catalog_for_rows, reference_tables
from bench.common import Case, RunResult, Stopwatch
from expectations.models import Catalog

RENAME = {"指标编码": "target_id", "指标名称": "target_name", "县市": "county", "月份": "period", "数值": "value_text",
          "单位": "unit", "备注": "note"}


def read(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".xlsx":
        return pd.read_excel(path, skiprows=1)
    return pd.read_csv(path, skiprows=1)


def normalize(df: pd.DataFrame, ref: ReferenceTables) -> pd.DataFrame:
    df = df.rename(columns=RENAME)
    counties = dict(zip(ref.counties["county"].to_pylist(), ref.counties["county_code"].to_pylist(), strict=True))
    factors = dict(zip(ref.units["unit"].to_pylist(), ref.units["factor"].to_pylist(), strict=True))
    parts = df["value_text"].astype(str).str.extract(r"^([+-]?\d+(?:\.\d+)?)(.*)$")
    unit = parts[1].where(parts[1].fillna("") != "", df["unit"])
    df["county_code"] = df["county"].map(counties)
    df["value"] = pd.to_numeric(parts[0], errors="coerce") * unit.map(factors).fillna(1.0)
    df["value"] = df["value"].fillna(df["value_text"].map({"完成": 1.0, "未完成": 0.0}))
    df["unit"] = unit
    return df.drop(columns=["county", "target_name", "value_text"])


def build_suite(context: Any, catalog: Catalog) -> Any:
    import great_expectations as gx

    suite = context.suites.add(gx.ExpectationSuite(name="naive_drop_checks"))
    for column in ("target_id", "county_code", "period", "value"):
        suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column=column))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeInSet(
        column="target_id", value_set=[t.id for t in catalog.targets]))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeInSet(
        column="period", value_set=[f"{catalog.year}-{m:02d}" for m in range(1, MONTHS + 1)]))
    suite.add_expectation(gx.expectations.ExpectCompoundColumnsToBeUnique(
        column_list=["target_id", "county_code", "period"]))
    for target in catalog.targets:  # the pattern the issue describes: one bounds check per target
        suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
            column="value", row_condition=f'target_id=="{target.id}"', condition_parser="pandas",
            min_value=None if target.bounds.min is None else float(target.bounds.min),
            max_value=None if target.bounds.max is None else float(target.bounds.max)))
    return suite


def validate(df: pd.DataFrame, catalog: Catalog) -> bool:
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    batch = context.data_sources.add_pandas("drops").add_dataframe_asset("drop").add_batch_definition_whole_dataframe(
        "whole")
    suite = build_suite(context, catalog)
    definition = context.validation_definitions.add(gx.ValidationDefinition(name="drop", data=batch, suite=suite))
    return bool(definition.run(batch_parameters={"dataframe": df}).success)


def run(case: Case) -> RunResult:
    from sqlalchemy import create_engine

    catalog = catalog_for_rows(case.rows)
    ref = reference_tables(catalog)
    result = RunResult(impl="naive")
    watch = Stopwatch(result.shared, result.memory_mb)
    with watch("read"):
        df = read(case.drop)
    with watch("normalize"):
        df = normalize(df, ref)
    with watch("validate"):
        ok = validate(df, catalog)
    result.outcome = "load" if ok else "quarantine"
    for backend, url in case.backends.items():
        times: dict[str, float] = {}
        stage = Stopwatch(times, result.memory_mb, f"@{backend}")
        result.rows_loaded[backend] = 0
        if ok:
            engine = create_engine(url)
            with stage("load"):
                df.to_sql("naive_observation", engine, if_exists="append", index=False)
            result.rows_loaded[backend] = len(df)
            engine.dispose()
            with stage("curated"):
                df.to_parquet(case.workdir / f"naive_{backend}.parquet")
        result.per_backend[backend] = times
    return result
