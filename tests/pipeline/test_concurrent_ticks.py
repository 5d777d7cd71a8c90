"""Several ingest runs started together on the same inbox: every file is loaded exactly once (G8)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from expectations.loader import load_catalog
from minsheng.demo_drops import seed_demo_drops

pytestmark = pytest.mark.slow
DEPARTMENTS = ("hrss", "civil_affairs", "housing", "justice")
RUN = """
import datetime as dt, pathlib, sys, time, uuid
from flows.ingest import ingest
import tasks.validate
barrier, runs = pathlib.Path(sys.argv[1]), int(sys.argv[2])
(barrier / uuid.uuid4().hex).touch()
while len(list(barrier.iterdir())) < runs:  # a barrier: every run starts its ingest at the same instant
    time.sleep(0.01)
ingest(dt.date(2021, 7, 20))
"""


def test_ticks_started_together_load_each_file_once(data_dir: Path, prefect_api: str, tmp_path: Path) -> None:
    runs = 3
    manifest = seed_demo_drops(tmp_path / "seeded", load_catalog(), last_month=4)
    for slug in DEPARTMENTS:
        shutil.copytree(tmp_path / "seeded" / slug, data_dir / "raw" / slug, copy_function=shutil.copy2)
    files = [f for f in manifest.files if f.department in DEPARTMENTS]
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "MINSHENG_DATA_DIR": str(data_dir),
           "MINSHENG_STABLE_SECONDS": "0", "PREFECT_LOGGING_LEVEL": "WARNING"}
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    procs = [subprocess.Popen([sys.executable, "-c", RUN, str(barrier), str(runs)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT) for _ in range(runs)]
    outputs = [p.communicate(timeout=400)[0].decode() for p in procs]
    assert all(p.returncode == 0 for p in procs), "\n".join(o[-3000:] for o in outputs)

    engine = create_engine(f"sqlite:///{data_dir / 'warehouse.sqlite'}")
    with engine.connect() as conn:
        ledger = conn.execute(text("SELECT sha256, status FROM drop_ledger")).all()
        doubled = conn.execute(text("SELECT count(*) FROM (SELECT target_id, county_code, period FROM "
                                    "v_observation_current GROUP BY 1, 2, 3 HAVING count(*) > 1) d")).scalar_one()
        rows = conn.execute(text("SELECT count(*) FROM v_observation_current")).scalar_one()
    engine.dispose()
    assert sorted(sha for sha, _ in ledger) == sorted(f.sha256 for f in files)
    assert sum(status == "loaded" for _, status in ledger) == sum(f.expected.value != "quarantine" for f in files)
    assert doubled == 0
    assert rows == sum(f.rows for f in files if f.expected.value != "quarantine")
    for f in files:
        inside = Path(f.relative_path).relative_to(f.department)
        receipt = data_dir / "raw" / f.department / "_receipts" / inside.with_name(inside.name + ".json")
        assert '"outcome": "ignore"' not in receipt.read_text(encoding="utf-8"), receipt
