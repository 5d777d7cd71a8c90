"""Notifications through Apprise to a real HTTP server on 127.0.0.1; failures are results, not crashes."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import apprise
import pandas as pd
import pytest

from expectations.loader import load_catalog
from expectations.models import Catalog
from tasks.alerts import alert_candidates, apply_actions, plan_alert_actions, send_notifications
from tasks.evaluate import target_status

CATALOG_DIR = Path(__file__).parent / "cases" / "good_catalog_small"
AS_OF = dt.date(2021, 7, 10)


class Hook:
    """A JSON webhook receiver: records every POST body; answers with `status`."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.status = 200
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", 0))
                hook.received.append({"path": self.path, "json": json.loads(self.rfile.read(length))})
                self.send_response(hook.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook()
    yield server
    server.close()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG_DIR)


def candidates(catalog: Catalog, jobs_ytd: int) -> list:
    obs = pd.DataFrame([{"target_id": "employment.new_urban_jobs", "county_code": "532300", "period": "2021-06",
                         "value": Decimal(jobs_ytd), "basis": "ytd", "recorded_at": pd.Timestamp("2021-07-03")}])
    status = target_status(obs, catalog, AS_OF)
    return alert_candidates(status, None, None, catalog, AS_OF)


def test_alerts_reach_a_json_webhook_once(catalog: Catalog, hook: Hook) -> None:
    urls = {"supervision_office": [f"json://127.0.0.1:{hook.port}/hook"]}
    cands = candidates(catalog, 7000)
    actions = plan_alert_actions([], cands, AS_OF)
    results = send_notifications(actions, urls)
    assert [(r.ok, r.action, r.recipients) for r in results] == [(True, "open", ("supervision_office",))]
    assert len(hook.received) == 1
    sent = hook.received[0]
    assert sent["path"] == "/hook"
    title, body = sent["json"]["title"], sent["json"]["message"]
    assert title.startswith("【预警】城镇新增就业（楚雄州）进度滞后")
    assert "32.5个百分点" in title
    assert "7000人" in body and "40000人" in body and "17.5%" in body and "州人力资源社会保障局" in body
    assert sent["json"]["type"] == "failure"  # red → critical

    state = apply_actions([], actions, AS_OF)
    again = plan_alert_actions(state, candidates(catalog, 7000), AS_OF)
    assert send_notifications(again, urls) == []
    assert len(hook.received) == 1  # re-running plan + send with the same state sends nothing

    resolved = plan_alert_actions(state, candidates(catalog, 21000), dt.date(2021, 7, 11))
    results = send_notifications(resolved, urls)
    assert [r.action for r in results] == ["resolve"] and results[0].ok
    assert hook.received[-1]["json"]["title"].startswith("【已解决】城镇新增就业")
    assert hook.received[-1]["json"]["type"] == "success"


def test_one_message_per_url_even_for_several_recipients(catalog: Catalog, hook: Hook) -> None:
    url = f"json://127.0.0.1:{hook.port}/all"
    actions = plan_alert_actions([], candidates(catalog, 7000), AS_OF)
    results = send_notifications(actions, {"*": [url], "supervision_office": [url]})
    assert len(results) == 1 and results[0].ok and len(hook.received) == 1


def test_failures_are_reported_not_raised(catalog: Catalog, hook: Hook) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    hook.status = 500
    urls = {"supervision_office": [f"json://127.0.0.1:{closed}/hook?cto=1&rto=1",
                                   f"json://127.0.0.1:{hook.port}/hook", "notaservice://whatever"]}
    actions = plan_alert_actions([], candidates(catalog, 7000), AS_OF)
    results = send_notifications(actions, urls)
    assert len(results) == 3 and not any(r.ok for r in results)
    assert all(r.error for r in results)
    assert "Apprise" in (results[2].error or "")
    assert len(hook.received) == 1  # the server answered 500: reported as a failure


def test_recipient_without_url_is_reported(catalog: Catalog) -> None:
    actions = plan_alert_actions([], candidates(catalog, 7000), AS_OF)
    results = send_notifications(actions, {"data_team": ["json://127.0.0.1:1/x"]})
    assert [(r.ok, r.url, r.recipients) for r in results] == [(False, "", ("supervision_office",))]


@pytest.mark.parametrize(
    "url",
    ["dingtalk://abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789/",
     "wecombot://0123abcd-4567-89ef-0123-456789abcdef",
     "feishu://0123abcd-4567-89ef-0123-456789abcdef",
     "mailto://user:secret@example.org?to=duchashi@example.org",
     "json://127.0.0.1:8080/hook"],
    ids=["dingtalk", "wecom-bot", "feishu", "email", "json-webhook"],
)
def test_channel_urls_are_accepted_by_apprise(url: str) -> None:
    plugin = apprise.Apprise.instantiate(url)
    assert plugin is not None
    assert "secret" not in plugin.url(privacy=True)
