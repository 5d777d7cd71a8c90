"""A Prefect server for a single-machine install: the configured one, or a local one started for the session."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process_group(process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """Stop a process started with start_new_session=True and everything it spawned: TERM, then KILL."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def local_prefect_server(home: Path, timeout: float = 120.0) -> Iterator[str]:
    """Yield the API URL: PREFECT_API_URL when set, else a `prefect server start` on loopback whose state lives
    in `home` (scheduled runs, logs, artifacts), stopped on exit."""
    configured = os.environ.get("PREFECT_API_URL")
    if configured:
        yield configured
        return
    home.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    prefect = Path(sys.executable).with_name("prefect")
    log = (home / "server.log").open("ab")
    server = subprocess.Popen([str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the local Prefect server did not start; see {home / 'server.log'}")
            time.sleep(0.5)
        yield api
    finally:
        stop_process_group(server)
        log.close()
