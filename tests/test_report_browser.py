"""The rendered report opens in a real headless Chromium: no console errors, no network, charts drawn.

Chromium is driven over the DevTools protocol (a small client on the `websockets` package): we collect console
errors, uncaught exceptions, log errors and every request the page makes, then evaluate the DOM and capture a
screenshot. Set MINSHENG_UPDATE_SCREENSHOT=1 to refresh docs/img/report.png for the README.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from tasks.report import render_report, sample_report_data
from tasks.report.sample_catalog import demo_catalog

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[1]
SCREENSHOT = REPO / "docs" / "img" / "report.png"

pytestmark = pytest.mark.browser


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is not installed (apt-get install -y chromium)"
    if os.environ.get("MINSHENG_REQUIRE_SERVICES") == "1":
        pytest.fail(reason + " and MINSHENG_REQUIRE_SERVICES=1")
    pytest.skip(reason)


@dataclass
class PageVisit:
    """What a page did while loading: console errors, exceptions, requested URLs, and evaluated facts."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    screenshot: bytes = b""


class DevTools:
    """A minimal synchronous DevTools-protocol session on one page target."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
        call_id = next(self.ids)
        self.socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.socket.recv(timeout=max(deadline - time.monotonic(), 0.01)))
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
            self.events.append(message)

    def wait_for(self, event: str, timeout: float = 30.0) -> dict[str, Any]:
        for seen in self.events:
            if seen.get("method") == event:
                return seen
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.socket.recv(timeout=max(deadline - time.monotonic(), 0.01)))
            self.events.append(message)
            if message.get("method") == event:
                return dict(message)


@contextmanager
def chromium(tmp_path: Path) -> Iterator[str]:
    """A headless Chromium with remote debugging on a free port; yields its DevTools HTTP/WS host:port."""
    profile = tmp_path / "chromium-profile"
    args = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--remote-debugging-port=0",
            "--remote-allow-origins=*", "about:blank"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        assert proc.stderr is not None
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            found = re.search(r"DevTools listening on ws://([^/]+)/", line)
            if found:
                yield found.group(1)
                break
            if not line and proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {proc.returncode} before DevTools was ready")
        else:
            raise RuntimeError("chromium did not start DevTools within 60 s")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


def visit(host: str, url: str, expressions: dict[str, str], width: int = 1280,
          height: int = 2000) -> PageVisit:
    """Open `url` in a fresh page, wait for load, evaluate `expressions`, screenshot the first screenful."""
    request = urllib.request.Request(f"http://{host}/json/new?about:blank", method="PUT")
    with urllib.request.urlopen(request, timeout=10) as response:
        target = json.loads(response.read())
    result = PageVisit()
    with connect(target["webSocketDebuggerUrl"], max_size=None) as socket:
        tools = DevTools(socket)
        for domain in ("Page", "Runtime", "Log", "Network"):
            tools.call(f"{domain}.enable")
        tools.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                   mobile=False)
        tools.call("Page.navigate", url=url)
        tools.wait_for("Page.loadEventFired")
        for name, expression in expressions.items():
            value = tools.call("Runtime.evaluate", expression=expression, returnByValue=True)
            result.facts[name] = value.get("result", {}).get("value")
        shot = tools.call("Page.captureScreenshot", format="png")
        result.screenshot = base64.b64decode(shot["data"])
        for event in tools.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
                result.errors.append(f"console.{params['type']}: {params.get('args')}")
            elif method == "Runtime.exceptionThrown":
                result.errors.append(f"uncaught: {params.get('exceptionDetails', {}).get('text')}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                result.errors.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")
            elif method == "Network.requestWillBeSent":
                result.requests.append(params.get("request", {}).get("url", ""))
    return result


PAGE_FACTS = {
    "svg_count": "document.querySelectorAll('svg.chart').length",
    "trajectories": "document.querySelectorAll('svg.trajectory polyline.actual').length",
    "heat_cells": "document.querySelectorAll('svg.heatmap rect.cell').length",
    "burndown_bars": "document.querySelectorAll('svg.burndown rect.used').length",
    "red_rows": "document.querySelectorAll('tr.target.red').length",
    "alerts": "document.querySelectorAll('tr.alert').length",
    "quarantined": "document.querySelectorAll('tr.drop.quarantine').length",
    "title": "document.title",
}


def test_report_opens_in_chromium_without_errors_or_network(tmp_path: Path) -> None:
    _require_chromium()
    catalog = demo_catalog()
    out = tmp_path / "report"
    index = render_report(sample_report_data(catalog, dt.date(2021, 7, 10)), catalog, out)
    with chromium(tmp_path) as host:
        page = visit(host, index.as_uri(), PAGE_FACTS)
        department = visit(host, (out / "departments" / "housing.html").as_uri(), PAGE_FACTS)
        checks = visit(host, (out / "checks.html").as_uri(),
                       {"drops": "document.querySelectorAll('section.drop').length"})
    for visited in (page, department, checks):
        assert visited.errors == []
        assert all(u.startswith(("file://", "data:")) for u in visited.requests), visited.requests
    facts = page.facts
    assert facts["svg_count"] >= 3
    assert facts["trajectories"] >= 4
    assert facts["heat_cells"] > 50
    assert facts["burndown_bars"] == 10
    assert facts["red_rows"] >= 1 and facts["alerts"] >= 3 and facts["quarantined"] == 1
    assert "督查通报" in facts["title"]
    assert department.facts["trajectories"] >= 1 and department.facts["red_rows"] >= 1
    assert checks.facts["drops"] == 3
    assert page.screenshot.startswith(b"\x89PNG") and len(page.screenshot) > 50_000
    shot = tmp_path / "report.png"
    shot.write_bytes(page.screenshot)
    assert shot.stat().st_size == len(page.screenshot)
    if os.environ.get("MINSHENG_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        SCREENSHOT.write_bytes(page.screenshot)


def test_plain_headless_screenshot_command_works(tmp_path: Path) -> None:
    _require_chromium()
    catalog = demo_catalog()
    index = render_report(sample_report_data(catalog, dt.date(2021, 10, 12)), catalog, tmp_path / "r")
    shot = tmp_path / "shot.png"
    subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
                    "--window-size=1280,2000", index.as_uri()],
                   check=True, capture_output=True, timeout=120)
    assert shot.read_bytes().startswith(b"\x89PNG")


def test_harness_sees_console_errors_exceptions_and_network(tmp_path: Path) -> None:
    _require_chromium()
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><html><body><img src='http://127.0.0.1:9/x.png'>"
                    "<script>console.error('boom'); undefined_function();</script></body></html>",
                    encoding="utf-8")
    with chromium(tmp_path) as host:
        visited = visit(host, page.as_uri(), {})
    assert any("boom" in e for e in visited.errors)
    assert any(e.startswith("uncaught") for e in visited.errors)
    assert "http://127.0.0.1:9/x.png" in visited.requests


def test_pdf_is_printed_by_chromium(tmp_path: Path) -> None:
    _require_chromium()
    from tasks.report.pdf import print_pdf

    catalog = demo_catalog()
    index = render_report(sample_report_data(catalog, dt.date(2021, 7, 10)), catalog, tmp_path / "r")
    pdf = print_pdf(index, tmp_path / "r" / "report.pdf", browser=str(CHROMIUM))
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 20_000
