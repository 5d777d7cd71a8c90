"""Write the monthly supervision report (督查通报) as self-contained static HTML.

Output of `render_report(data, catalog, out_dir)`::

    out_dir/index.html                 the whole prefecture's bulletin
    out_dir/departments/<slug>.html    one bulletin per lead department (only its targets, alerts and files)
    out_dir/checks.html                every drop and each of its checks (validation results, browsable)

With `department=slug` only that department's bulletin is written, as out_dir/index.html (+ its checks.html).
Pages carry their CSS and SVG inline and load nothing from the network.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from expectations.models import Catalog, Target
from tasks.report import context, evidence, fmt
from tasks.report.data import ReportData
from tasks.report.scorecard import (
    CLASS_LABELS,
    CLASSES,
    LIGHT_LABELS,
    LIGHTS,
    class_counts,
    counts_by_county,
    counts_by_department,
    light_counts,
    report_targets,
    scorecard,
    with_classes,
)

TEMPLATES = Path(__file__).resolve().parent / "templates"


def environment() -> Environment:
    """The Jinja environment of the report: autoescaped HTML, undefined names are errors."""
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "svg"]),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _write(path: Path, text: str) -> None:
    # Temp file + rename so a viewer never opens a half-written page.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a published report is for everyone who can see the folder
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class _Prepared:
    """What every page shares, computed once: classed status, the full scorecard, rows and charts."""

    data: ReportData
    catalog: Catalog
    classed: pd.DataFrame
    card: pd.DataFrame
    rows: list[dict[str, Any]]
    charts: dict[str, dict[str, Any]]
    burndown: Any

    @classmethod
    def of(cls, data: ReportData, catalog: Catalog) -> _Prepared:
        classed = with_classes(data.status, data.schedule_band_points)
        card = scorecard(classed, catalog, list(catalog.targets))
        return cls(data, catalog, classed, card, context.scorecard_rows(card, catalog),
                   context.trajectory_charts(data, catalog, card), context.burndown(data, catalog))


def _department_scope(data: ReportData, targets: list[Target],
                      department: str | None) -> dict[str, pd.DataFrame]:
    """The frames a bulletin shows, cut to one department (its targets, alerts, lag and files) when asked."""
    if department is None:
        return {"alerts": data.alerts, "ledger": data.ledger, "checks": data.checks, "lag": data.lag}
    ids = {t.id for t in targets}
    mine = data.alerts["department"].astype(str).eq(department) | data.alerts["target_id"].isin(ids)
    alerts = data.alerts[mine]
    ledger = data.ledger[data.ledger["department"].astype(str).eq(department)]
    checks = data.checks[data.checks["sha256"].isin(set(ledger["sha256"]))]
    lag = data.lag[data.lag["department"].astype(str).eq(department)]
    return {"alerts": alerts, "ledger": ledger, "checks": checks, "lag": lag}


def _page_context(prep: _Prepared, department: str | None, prefix: str,
                  department_links: bool) -> dict[str, Any]:
    data, catalog = prep.data, prep.catalog
    targets = report_targets(catalog, department)
    ids = {t.id for t in targets}
    card = prep.card[prep.card["target_id"].isin(ids)]
    scope = _department_scope(data, targets, department)
    by_dept = counts_by_department(card, catalog, targets)
    by_county = counts_by_county(prep.classed, catalog, list(ids))
    dept_names = {s: fmt.department_name(s, catalog) for s in by_dept.index}
    county_names = {c: fmt.county_name(c, catalog) for c in by_county.index}
    dept_links = {s: f"departments/{s}.html" for s in by_dept.index} if department_links else {}
    alerts = evidence.open_alerts(scope["alerts"], data.as_of)
    return {
        "plan": catalog.plan_zh,
        "as_of": data.as_of.isoformat(),
        "department": fmt.department_name(department, catalog) if department else None,
        "department_en": catalog.department(department).name_en if department else None,
        "band": fmt.number(data.schedule_band_points, 1),
        "lights": [(k, *LIGHT_LABELS[k]) for k in LIGHTS],
        "classes": [(k, *CLASS_LABELS[k]) for k in CLASSES],
        "light_counts": light_counts(card),
        "class_counts": class_counts(card),
        "target_count": len(targets),
        "by_department": context.count_rows(by_dept, dept_names, dept_links),
        "by_county": context.count_rows(by_county, county_names, {}),
        "scorecard": [row for row in prep.rows if row["id"] in ids],
        "trajectories": context.charts_for(prep.charts, targets),
        "heatmap": context.heatmap(prep.classed, catalog, targets),
        "burndown": prep.burndown if department is None or _has_air(targets, prep.data) else None,
        "alerts": evidence.alert_rows(alerts, catalog),
        "lag": evidence.lag_rows(scope["lag"], catalog),
        "drops": evidence.drop_rows(scope["ledger"], scope["checks"], prefix, catalog, only_problems=True),
        "drop_total": len(scope["ledger"]),
        "quarantined": int(scope["ledger"]["outcome"].astype(str).eq("quarantine").sum()),
        "checks_href": f"{prefix}checks.html",
        "index_href": f"{prefix}index.html" if prefix else None,
    }


def _has_air(targets: list[Target], data: ReportData) -> bool:
    """Whether a department page shows the air allowance: it leads a budget target or the 优良 ratio."""
    air = any(t.kind.value == "budget" or "优良" in t.name_zh for t in targets)
    return air and data.air_budget is not None


def _checks_context(data: ReportData, catalog: Catalog, department: str | None) -> dict[str, Any]:
    scope = _department_scope(data, report_targets(catalog, department), department)
    drops = evidence.drop_rows(scope["ledger"], scope["checks"], "", catalog, only_problems=False)
    full = {str(s)[:12]: str(s) for s in scope["ledger"]["sha256"]}
    for drop in drops:
        drop["checks"] = evidence.check_rows(scope["checks"], full[drop["sha"]])
    return {
        "plan": catalog.plan_zh,
        "as_of": data.as_of.isoformat(),
        "department": fmt.department_name(department, catalog) if department else None,
        "drops": drops,
    }


def render_report(data: ReportData, catalog: Catalog, out_dir: Path, department: str | None = None) -> Path:
    """Write the bulletin (and, for the whole prefecture, one page per lead department); return index.html."""
    if department is not None:
        try:
            catalog.department(department)
        except KeyError as exc:
            raise ValueError(f"未知部门 unknown department {department!r}: "
                             "not in the catalog's departments") from exc
    out_dir = Path(out_dir)
    env = environment()
    page = env.get_template("report.html")
    prep = _Prepared.of(data, catalog)
    index = out_dir / "index.html"
    _write(index, page.render(**_page_context(prep, department, "", department_links=department is None)))
    if department is None:
        for slug in catalog.lead_department_slugs:
            html = page.render(**_page_context(prep, slug, "../", department_links=False))
            _write(out_dir / "departments" / f"{slug}.html", html)
    _write(out_dir / "checks.html", env.get_template("checks.html").render(**_checks_context(data, catalog,
                                                                                               department)))
    return index


