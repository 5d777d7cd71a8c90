"""One quiet, in-memory Great Expectations context per process, and running a suite on a DataFrame.

GX takes seconds to import and builds a context, data source and validation definitions on first use; a tick
validates many files, so all of that is created once, lazily, and reused. The context is ephemeral: nothing is
written to disk (no `gx/` folder, no stores on the file system). Progress bars (tqdm) and GX's INFO logging are
switched off: they would flood Prefect logs for every file.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import ExpectationValidationResult

DATA_SOURCE = "minsheng"
ASSET = "normalized_rows"
BATCH_DEFINITION = "whole_frame"
# Receipts list at most this many failing rows per rule (then a summary with the total): SUMMARY results carry the
# first that many positions (partial_unexpected_index_list) and the exact count, where COMPLETE would build lists
# of every failing row and value (hundreds of thousands of Python objects when a target is widely missed).
PARTIAL_ROWS = 200


def result_format(rows: int = PARTIAL_ROWS) -> dict[str, Any]:
    """GX result format keeping the first `rows` failing positions of each expectation (no index query)."""
    return {"result_format": "SUMMARY", "partial_unexpected_count": max(rows, 1),
            "return_unexpected_index_query": False}


@dataclass
class _Runtime:
    context: Any  # great_expectations EphemeralDataContext
    batch_definition: Any
    order: dict[str, dict[str, int]] = field(default_factory=dict)  # suite name → expectation id → position
    lock: threading.Lock = field(default_factory=threading.Lock)


_runtime: _Runtime | None = None
_runtime_lock = threading.Lock()


def _quiet() -> None:
    # GX logs every metric resolution at INFO and warns about its own deprecations on each run.
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _skip_batch_fingerprint() -> None:
    """Stop GX hashing every frame it is handed (pandas_execution_engine.HASH_THRESHOLD).

    GX fingerprints a pandas batch below that size with `hash_pandas_object` only to label the batch's markers;
    nothing reads the label, and it hashes the whole frame twice per suite run (about 0.5 s per pass on a
    million rows, four passes per drop). The threshold is GX's own switch for skipping the fingerprint on large
    frames; setting it to zero applies that to every frame.
    """
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0


def _runtime_instance() -> _Runtime:
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            import great_expectations as gx
            from great_expectations.data_context.types.base import (
                DataContextConfig,
                InMemoryStoreBackendDefaults,
                ProgressBarsConfig,
            )

            _quiet()
            _skip_batch_fingerprint()
            config = DataContextConfig(
                store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
                analytics_enabled=False,
                progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
            )
            context = gx.get_context(mode="ephemeral", project_config=config)
            asset = context.data_sources.add_pandas(DATA_SOURCE).add_dataframe_asset(ASSET)
            _runtime = _Runtime(context=context,
                                batch_definition=asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION))
        return _runtime


def gx_context() -> Any:
    """The process-wide ephemeral GX context (created on first use)."""
    return _runtime_instance().context


def _register(runtime: _Runtime, suite: gx.ExpectationSuite) -> None:
    """Add the suite to the context once (it gets expectation ids; Data Docs can find it); caller holds the lock."""
    if suite.name not in runtime.order:
        registered = runtime.context.suites.add(suite)
        runtime.order[suite.name] = {str(e.id): i for i, e in enumerate(registered.expectations)}


def run_suite(suite: gx.ExpectationSuite, frame: pd.DataFrame, parameters: dict[str, Any] | None = None,
              partial_rows: int = PARTIAL_ROWS) -> list[ExpectationValidationResult]:
    """Validate `frame` against `suite`; one result per expectation, in suite order.

    Each failing expectation's result holds its exact `unexpected_count` and the positions of its first
    `partial_rows` failing rows (`partial_unexpected_index_list`).

    Expectations that raise are caught by GX (catch_exceptions) and come back with `exception_info`; callers must
    treat those as failures (see tasks.validate). The batch is validated directly (`Batch.validate`) rather than
    through a ValidationDefinition, whose run also serializes the result into the context's results store: with
    COMPLETE results on a million bad rows that copy alone takes tens of seconds, and we keep our own results.
    Runs are serialized: a GX context is not thread-safe, and Prefect's default task runner uses threads.
    """
    runtime = _runtime_instance()
    with runtime.lock:
        _register(runtime, suite)
        batch = runtime.batch_definition.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(suite, result_format=result_format(partial_rows),
                                expectation_parameters=parameters or {})
    order = runtime.order[suite.name]
    # GX groups results by domain, not in suite order; receipts list rules in the order the suite defines them.
    return sorted(result.results, key=lambda r: order.get(str(r.expectation_config.id), len(order)))


def forget_suite(name: str) -> None:
    """Drop a suite registered by run_suite (its catalog left the cache), so a long-running worker that reloads
    the catalog every tick does not accumulate suites."""
    runtime = _runtime
    if runtime is None:
        return
    with runtime.lock:
        if runtime.order.pop(name, None) is not None:
            runtime.context.suites.delete(name)


def raised_exception(result: ExpectationValidationResult) -> str | None:
    """The exception message if the expectation crashed instead of evaluating, else None.

    GX reports it either flat ({raised_exception, exception_message}) or keyed by the metric that failed.
    """
    info = result.exception_info or {}
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "unknown error")
    for nested in info.values():
        if isinstance(nested, dict) and nested.get("raised_exception"):
            return str(nested.get("exception_message") or "unknown error")
    return None


def render_data_docs(suite: gx.ExpectationSuite, frame: pd.DataFrame, directory: Path,
                     parameters: dict[str, Any] | None = None) -> Path:
    """Validate once and write GX Data Docs (static HTML) for the result into `directory`; returns index.html.

    For people browsing a validation by hand; the pipeline itself keeps its own results (tasks.validate). Unlike
    run_suite this goes through a Checkpoint, so the result also stays in the context's in-memory results store:
    fine for an occasional report, not for every drop.
    """
    import great_expectations as gx

    runtime = _runtime_instance()
    site = "docs_" + hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:16]
    with runtime.lock:
        sites = runtime.context.get_site_names()
        if site not in sites:
            runtime.context.add_data_docs_site(site_name=site, site_config={
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                  "base_directory": str(directory.resolve())},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            })
        _register(runtime, suite)
        definition = runtime.context.validation_definitions.add_or_update(gx.ValidationDefinition(
            name=f"docs.{suite.name}", data=runtime.batch_definition, suite=runtime.context.suites.get(suite.name)))
        checkpoint = runtime.context.checkpoints.add_or_update(gx.Checkpoint(
            name=f"docs.{suite.name}", validation_definitions=[definition],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="docs", site_names=[site])],
            result_format=result_format()))
        checkpoint.run(batch_parameters={"dataframe": frame}, expectation_parameters=parameters or {})
    return directory / "index.html"
