"""Smoke-test the wiring: every prefect.yaml entrypoint imports, its parameters fit the flow, the catalog loads."""

import inspect
from pathlib import Path

import pytest
import yaml
from prefect.flows import Flow, load_flow_from_entrypoint

from expectations.loader import load_catalog

ROOT = Path(__file__).resolve().parents[1]
DEPLOYMENTS = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))["deployments"]


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=[d["name"] for d in DEPLOYMENTS])
def test_entrypoint_imports_and_parameters_fit(deployment: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    flow = load_flow_from_entrypoint(deployment["entrypoint"])
    assert isinstance(flow, Flow)
    signature = inspect.signature(flow.fn)
    assert "as_of" in signature.parameters, "every flow takes an explicit as_of"
    assert signature.parameters["as_of"].default is None, "scheduled runs leave as_of empty (= today)"
    unknown = set(deployment.get("parameters") or {}) - set(signature.parameters)
    assert not unknown, f"prefect.yaml passes parameters the flow does not take: {unknown}"
    for schedule in deployment.get("schedules") or []:
        assert schedule["timezone"] == "Asia/Shanghai"


def test_deployments_cover_every_flow() -> None:
    names = {d["name"] for d in DEPLOYMENTS}
    assert {"tick", "ingest", "evaluate", "check-lag", "publish-report"} <= names


def test_whole_catalog_loads() -> None:
    catalog = load_catalog()
    assert len(catalog.targets) > 150
    assert set(catalog.lead_department_slugs) <= {d.slug for d in catalog.departments}
