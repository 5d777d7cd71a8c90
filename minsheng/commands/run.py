"""Running the pipeline: `minsheng tick`, `minsheng demo`, `minsheng serve`, `minsheng alerts`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

from minsheng.cli import app
from minsheng.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
console = Console(soft_wrap=True)


def _as_of(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date like 2021-07-20", param_hint="--as-of") from exc


def print_tick(summary: Any, report: Path | None = None) -> None:
    """The terminal summary of a tick: what was loaded, quarantined and alerted, and where things are."""
    from tasks.contracts import Outcome

    ingest, alerts = summary.ingest, summary.alerts
    console.print(f"[bold]minsheng tick as of {summary.as_of}[/bold]")
    console.print(f"  入库 loaded: {ingest.count(Outcome.LOAD, Outcome.LOAD_WITH_WARNINGS)} file(s), "
                  f"{ingest.rows_loaded} row(s) (with warnings: {ingest.count(Outcome.LOAD_WITH_WARNINGS)})")
    console.print(f"  隔离 quarantined: {ingest.count(Outcome.QUARANTINE)} file(s)")
    if ingest.unknown_folders:
        console.print(f"  未登记文件夹 unregistered folders (not read): {', '.join(ingest.unknown_folders)}")
    if not ingest.results and not ingest.duplicates:
        console.print("  no new files / 没有新文件")
    console.print(f"  预警 alerts: {len(alerts.opened)} opened, {len(alerts.escalated)} escalated, "
                  f"{len(alerts.resolved)} resolved, {alerts.updated} updated "
                  f"(notices sent {alerts.notices_sent}, failed {alerts.notices_failed})")
    for title in alerts.opened[:12]:
        console.print(f"    • {title}")
    if len(alerts.opened) > 12:
        console.print(f"    … and {len(alerts.opened) - 12} more (minsheng alerts --open)")
    console.print(f"  warehouse: {summary.warehouse_url}")
    console.print(f"  receipts:  {Path(summary.data_dir) / 'raw' / '<department>' / '_receipts'}")
    if report is not None:
        console.print(f"  report:    {report}")


@app.command()
def tick(as_of: str | None = typer.Option(None, "--as-of", help="run as of this date (default today, Beijing)")
         ) -> None:
    """Run the whole cycle once in this process (ingest → evaluate → lag → alerts), without a server."""
    from flows.tick import tick as tick_flow

    print_tick(tick_flow(_as_of(as_of)))


@app.command()
def demo() -> None:
    """Seed deterministic demo drops (2021 January–June), run a tick as of 2021-07-20 and write the report."""
    from expectations.loader import load_catalog
    from flows.publish_report import publish_report
    from flows.tick import tick as tick_flow
    from minsheng.demo_drops import seed_demo_drops

    settings = get_settings()
    manifest = seed_demo_drops(settings.raw_dir, load_catalog(settings.catalog_dir))
    console.print(f"seeded {len(manifest.files)} demo drop(s) for {len(manifest.departments)} departments "
                  f"under {settings.raw_dir}")
    summary = tick_flow(manifest.as_of)
    report = publish_report(manifest.as_of)
    print_tick(summary, report)
    url = settings.resolved_warehouse_url
    if url.startswith("sqlite:///"):
        console.print(f"\nTry: sqlite3 {url.removeprefix('sqlite:///')} "
                      "\"SELECT * FROM v_department_scorecard\"")


def _deployments(ingest_interval: float | None) -> list[Any]:
    """The deployments of prefect.yaml (one source of truth for schedules), served from this process."""
    from prefect.flows import load_flow_from_entrypoint
    from prefect.schedules import Cron, Interval

    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    out = []
    for item in spec["deployments"]:
        flow: Any = load_flow_from_entrypoint(str(ROOT / item["entrypoint"]))
        schedules: list[Any] = []
        for s in item.get("schedules") or []:
            if "interval" in s:
                seconds = ingest_interval if ingest_interval and item["name"] == "ingest" else s["interval"]
                schedules.append(Interval(seconds, timezone=s.get("timezone")))
            else:
                schedules.append(Cron(s["cron"], timezone=s.get("timezone")))
        limit = (item.get("concurrency_limit") or {}).get("limit")
        out.append(flow.to_deployment(name=item["name"], schedules=schedules, parameters=item.get("parameters"),
                                      description=item.get("description"), concurrency_limit=limit))
    return out


@app.command()
def serve(ingest_interval: float | None = typer.Option(
        None, help="override the ingest schedule (seconds), e.g. for a trial run")) -> None:
    """Run every scheduled deployment of prefect.yaml in this one long-lived process (single-machine install).

    Stop with Ctrl-C.
    """
    from prefect import serve as prefect_serve
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from minsheng.local_server import local_prefect_server

    settings = get_settings()
    with local_prefect_server(settings.data_dir / ".prefect") as api_url, \
            temporary_settings(updates={PREFECT_API_URL: api_url}):
        deployments = _deployments(ingest_interval)
        console.print(f"Prefect API {api_url}; serving {len(deployments)} deployment(s): "
                      f"{', '.join(d.name for d in deployments)} (Ctrl-C to stop)")
        try:
            prefect_serve(*deployments, print_starting_message=False)
        except KeyboardInterrupt:
            console.print("stopped")


@app.command()
def alerts(only_open: bool = typer.Option(False, "--open", help="only alerts not yet resolved"),
           as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """List alerts from the warehouse, newest first."""
    from tasks.pipeline.context import cached_engine
    from warehouse.evaluation import alert_rows

    url = get_settings().resolved_warehouse_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        rows: list[dict[str, Any]] = []
    else:
        rows = alert_rows(cached_engine(url), only_open=only_open)
    records = [{"id": r["alert_id"], "class": r["alert_class"], "kind": r["kind"], "severity": r["severity"],
                "target_id": r["target_id"], "department": r["department"], "county_code": r["county_code"],
                "period": r["period"], "opened_at": r["opened_at"].isoformat(),
                "resolved_at": r["resolved_at"].isoformat() if r["resolved_at"] else None,
                "message_zh": r["message_zh"]} for r in rows]
    if as_json:
        typer.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    table = Table("id", "class", "severity", "department", "target", "county", "period", "opened", "resolved",
                  "message")
    for r in records:
        table.add_row(str(r["id"]), r["class"], r["severity"], r["department"] or "", r["target_id"] or "",
                      r["county_code"] or "", r["period"] or "", r["opened_at"][:10],
                      (r["resolved_at"] or "")[:10], r["message_zh"])
    console.print(table)
    console.print(f"{len(records)} alert(s)")
