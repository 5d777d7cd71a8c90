"""Seed a data directory with realistic, deterministic demo drops for every lead department.

`seed_demo_drops` writes a half year of monthly progress tables the way departments really send them
(clean UTF-8 CSVs, GBK CSVs with a title row and 合计 rows, messy Excel workbooks, one bad file, one
department that stopped reporting, one target far behind schedule) and returns a manifest saying what the
pipeline should make of each file. Same arguments → the same bytes and file times on every run and machine.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from expectations.models import Catalog
from minsheng.demo.files import (
    Department,
    Planned,
    bad_files,
    department_observations,
    gbk_files,
    ordinary_files,
    xlsx_files,
)
from minsheng.demo.render import Style
from minsheng.demo.roles import Roles, assign_targets, choose_roles, layouts, style_for
from minsheng.demo.series import Obs, Story, choose_misses
from tasks.contracts import Outcome

__all__ = ["DemoFile", "DemoManifest", "Obs", "cast_demo", "demo_truth", "plan_drops", "seed_demo_drops"]

AS_OF_DAY = 20  # after every department's due day (working day 5) of the month after the last demo month


@dataclass(frozen=True)
class DemoFile:
    """One seeded drop and the outcome the pipeline should reach for it."""

    path: Path  # absolute path of the file
    relative_path: str  # POSIX path under raw_dir, starting with the department slug
    department: str
    periods: tuple[str, ...]  # "YYYY-MM" months the file reports
    rows: int  # data rows a reader keeps (one per target × county × month; 合计 rows not counted)
    expected: Outcome  # load, load-with-warnings (a level target missed) or quarantine
    features: tuple[str, ...]  # what makes it realistic: gbk, title_row, total_row, merged_cells, …
    sha256: str
    dropped: dt.datetime  # when the department dropped it: the file's mtime (Asia/Shanghai)


@dataclass(frozen=True)
class DemoManifest:
    """What `seed_demo_drops` wrote, and the story the demo tick should tell about it."""

    raw_dir: Path
    as_of: dt.date  # run the demo tick as of this date (after the last month's reporting deadline)
    late_department: str  # stopped reporting: no drops for the last two months → delivery lag
    behind_target: str  # far behind its time-proportional schedule → red
    missed_targets: tuple[str, ...]  # level targets with a value on the wrong side of the target
    files: tuple[DemoFile, ...]

    @property
    def quarantined(self) -> list[DemoFile]:
        """Files the pipeline must quarantine whole."""
        return [f for f in self.files if f.expected == Outcome.QUARANTINE]

    @property
    def departments(self) -> list[str]:
        """Departments with at least one file, in first-seen order."""
        return list(dict.fromkeys(f.department for f in self.files))

    def files_of(self, department: str) -> list[DemoFile]:
        """The files of one department."""
        return [f for f in self.files if f.department == department]


def demo_months(catalog: Catalog, year: int, last_month: int) -> list[int]:
    """Months of the demo: from the calendar's first period (January if it is another year's) to the last."""
    first = catalog.calendar.first_period
    start = int(first[5:7]) if first.startswith(f"{year}-") else 1
    return list(range(start, last_month + 1))


@dataclass(frozen=True)
class Cast:
    """The demo's departments with their true values, the parts they play and the story behind the values."""

    months: list[int]
    roles: Roles
    story: Story
    departments: list[Department]
    layouts: dict[str, str]  # ordinary departments: monthly | quarterly | single


def cast_demo(catalog: Catalog, *, year: int = 2021, last_month: int = 6, seed: int = 2021) -> Cast:
    """Choose who plays which part and compute every department's true values (nothing is written)."""
    months = demo_months(catalog, year, last_month)
    if len(months) < 3:
        raise ValueError(f"the demo needs at least 3 reported months; got {months} (last_month={last_month})")
    owners = {slug: targets for slug, targets in assign_targets(catalog).items() if targets}
    roles = choose_roles(catalog, owners)
    on_time = [t for slug, targets in owners.items() if slug != roles.late for t in targets]
    story = Story(roles.behind_target, choose_misses(catalog, on_time, months))
    departments = []
    for index, (slug, targets) in enumerate(owners.items()):
        info = catalog.department(slug)
        special = slug in {roles.gbk, roles.xlsx}
        style = Style(total_label="合计") if special else style_for(index, targets, catalog)
        observations = department_observations(targets, catalog, months, seed, story, breakdown_all=special)
        short = info.aliases[0] if info.aliases else info.name_zh
        departments.append(Department(slug, info.name_zh, short, index, targets, observations, style))
    return Cast(months, roles, story, departments, layouts(list(owners), roles))


def demo_truth(catalog: Catalog, *, year: int = 2021, last_month: int = 6, seed: int = 2021) -> list[Obs]:
    """Every value the demo's loadable drops report, exactly, in canonical units: what a correct pipeline ends
    up with. The late department's missing months are not in it, nor anything of the bad file; a prefecture
    value written as a 合计 row (which readers skip) equals the sum of its county rows, so it is derivable."""
    cast = cast_demo(catalog, year=year, last_month=last_month, seed=seed)
    sent = cast.months[:-2]
    return [o for d in cast.departments for o in d.observations
            if d.slug != cast.roles.late or o.month in sent]


def plan_drops(catalog: Catalog, *, year: int = 2021, last_month: int = 6,
               seed: int = 2021) -> tuple[list[Planned], Cast]:
    """Every demo file as bytes with its name, drop time and expected outcome (nothing written yet)."""
    cast = cast_demo(catalog, year=year, last_month=last_month, seed=seed)
    roles, months = cast.roles, cast.months
    planned: list[Planned] = []
    for dept in cast.departments:
        if dept.slug == roles.gbk:
            planned += gbk_files(dept, months, catalog, year)
        elif dept.slug == roles.xlsx:
            planned += xlsx_files(dept, months, catalog, year)
        elif dept.slug == roles.bad:
            planned += bad_files(dept, months, catalog, year)
        elif dept.slug == roles.late:
            planned += ordinary_files(dept, months[:-2], "monthly", catalog, year)
        else:
            planned += ordinary_files(dept, months, cast.layouts[dept.slug], catalog, year)
    return planned, cast


def seed_demo_drops(raw_dir: Path, catalog: Catalog, *, year: int = 2021, last_month: int = 6,
                    seed: int = 2021) -> DemoManifest:
    """Write the demo drops into `raw_dir/<department slug>/…` and say what the pipeline should make of them.

    Files are (over)written with fixed bytes and fixed modification times (each file's drop time, early in
    the month after its data); nothing else under raw_dir is touched. Run the demo tick as of the manifest's
    `as_of` (the 20th of the month after `last_month`).
    """
    planned, cast = plan_drops(catalog, year=year, last_month=last_month, seed=seed)
    files = []
    for p in sorted(planned, key=lambda p: p.relative_path):
        path = raw_dir / p.relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(p.data)
        stamp = p.dropped.timestamp()
        os.utime(path, (stamp, stamp))
        files.append(DemoFile(path=path, relative_path=p.relative_path, department=p.department,
                              periods=tuple(f"{year}-{m:02d}" for m in p.months), rows=p.rows,
                              expected=p.expected, features=p.features,
                              sha256=hashlib.sha256(p.data).hexdigest(), dropped=p.dropped))
    as_of = dt.date(year + (last_month == 12), last_month % 12 + 1, AS_OF_DAY)
    return DemoManifest(raw_dir=raw_dir, as_of=as_of, late_department=cast.roles.late,
                        behind_target=cast.story.behind_target, missed_targets=tuple(cast.story.misses),
                        files=tuple(files))
