"""A real Prefect server on loopback, deployments from prefect.yaml, a process worker, a triggered ingest run."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from expectations.loader import load_catalog
from minsheng.demo_drops import seed_demo_drops
from minsheng.local_server import local_prefect_server, stop_process_group

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin"
pytestmark = pytest.mark.slow


@pytest.fixture()
def prefect_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A Prefect server of our own (own home and database), and minsheng pointed at a temp data dir."""
    if not (BIN / "prefect").exists():
        pytest.skip(f"prefect CLI not found at {BIN / 'prefect'}")
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    home = tmp_path / "prefect-home"
    with local_prefect_server(home) as api:
        yield {**os.environ, "PREFECT_HOME": str(home), "PREFECT_API_URL": api,
               "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "MINSHENG_HOME": str(ROOT),
               "MINSHENG_DATA_DIR": str(tmp_path / "data"), "MINSHENG_STABLE_SECONDS": "0"}


def _prefect(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    done = subprocess.run([str(BIN / "prefect"), "--no-prompt", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f"prefect {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def test_worker_runs_the_ingest_deployment_from_prefect_yaml(prefect_env: dict[str, str], tmp_path: Path) -> None:
    catalog = load_catalog()
    manifest = seed_demo_drops(tmp_path / "demo-raw", catalog, last_month=3)
    raw = tmp_path / "data" / "raw"
    for slug in ("hrss", "civil_affairs"):
        shutil.copytree(tmp_path / "demo-raw" / slug, raw / slug)
    expected_files = [f for f in manifest.files if f.department in ("hrss", "civil_affairs")]

    _prefect(prefect_env, "work-pool", "create", "minsheng", "--type", "process")
    _prefect(prefect_env, "deploy", "--name", "ingest")
    worker_log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen([str(BIN / "prefect"), "worker", "start", "--pool", "minsheng", "--type", "process",
                               "--limit", "1"], cwd=tmp_path, env=prefect_env, stdout=worker_log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out = _prefect(prefect_env, "deployment", "run", "ingest/ingest", "--param",
                       f"as_of={manifest.as_of.isoformat()}")
        run_id = re.search(r"UUID:\s*([0-9a-f-]{36})", out)
        assert run_id, out
        api = prefect_env["PREFECT_API_URL"]
        state = None
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            state = httpx.get(f"{api}/flow_runs/{run_id.group(1)}", timeout=10).json()["state"]["type"]
            if state in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}:
                break
            time.sleep(2)
        assert state == "COMPLETED", f"flow run ended {state}:\n{(tmp_path / 'worker.log').read_text()[-4000:]}"
    finally:
        stop_process_group(worker)
        worker_log.close()

    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'warehouse.sqlite'}")
    with engine.connect() as conn:
        ledger = dict(conn.execute(text("SELECT status, count(*) FROM drop_ledger GROUP BY status")).all())
        rows = conn.execute(text("SELECT count(*) FROM v_observation_current")).scalar_one()
    engine.dispose()
    assert sum(ledger.values()) == len(expected_files)
    assert ledger.get("loaded", 0) == sum(f.expected.value.startswith("load") for f in expected_files)
    assert rows == sum(f.rows for f in expected_files if f.expected.value.startswith("load")) > 0
    receipts = list((raw / "hrss" / "_receipts").rglob("*.json"))
    assert len(receipts) == len([f for f in expected_files if f.department == "hrss"])
    assert all(json.loads(p.read_text(encoding="utf-8"))["outcome"] == "load" for p in receipts)
