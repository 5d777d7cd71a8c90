"""Who plays which part in the demo: which department reports which target, who sends GBK CSVs, who
sends the messy workbook, who sends the one bad file, who stops reporting, which target runs behind, and how
every other department spells its tables. Generic over the catalog: preferred slugs when present, else a
fallback."""

from __future__ import annotations

from dataclasses import dataclass

from expectations.models import Catalog, Comparator, Frequency, Kind, Scope, Target
from minsheng.demo.render import Style

BEHIND_PREFERRED = ("employment.new_urban_jobs",)
GBK_PREFERRED = ("hrss",)
XLSX_PREFERRED = ("health", "ecology_env")
BAD_PREFERRED = ("civil_affairs", "culture_tourism")
LATE_PREFERRED = ("culture_tourism", "civil_affairs", "justice", "market_regulation")
MAX_FILES = 75  # keeps the demo tick well under a minute


@dataclass(frozen=True)
class Roles:
    """The departments with a special part in the demo, and the target that runs far behind schedule."""

    gbk: str  # GBK CSVs with a title row and 合计 rows
    xlsx: str  # messy workbooks
    bad: str  # sends the one file that must be quarantined
    late: str  # stops reporting after month last_month - 2
    behind_target: str


def assign_targets(catalog: Catalog) -> dict[str, list[Target]]:
    """Which department reports which target: its first lead department. A co-lead with nothing of its
    own takes over a co-led target from a department that has others, or else reports it too (same values)."""
    owners: dict[str, list[Target]] = {slug: [] for slug in catalog.lead_department_slugs}
    owner_of: dict[str, str] = {}
    for target in catalog.targets:
        owners[target.lead_department].append(target)
        owner_of[target.id] = target.lead_department
    for slug, mine in owners.items():
        if mine:
            continue
        co_led = [t for t in catalog.targets if slug in t.lead_departments]
        movable = [t for t in co_led if len(owners[owner_of[t.id]]) > 1 and owner_of[t.id] != slug]
        if movable:
            owners[owner_of[movable[0].id]].remove(movable[0])
            owner_of[movable[0].id] = slug
        mine.append(movable[0] if movable else co_led[0])
    return owners


def _pick(preferred: tuple[str, ...], candidates: list[str], taken: set[str]) -> str:
    for slug in (*preferred, *candidates):
        if slug in candidates and slug not in taken:
            return slug
    raise ValueError("the catalog has too few lead departments for the demo (it needs at least four)")


def _behind(catalog: Catalog, owners: dict[str, list[Target]]) -> Target:
    reported = [t for ts in owners.values() for t in ts]
    ids = {t.id for t in reported}
    for target_id in BEHIND_PREFERRED:
        if target_id in ids and catalog.target(target_id).kind == Kind.CUMULATIVE:
            return catalog.target(target_id)
    growing = [t for t in reported if t.kind == Kind.CUMULATIVE and t.value is not None
               and t.comparator in {Comparator.GE, Comparator.GT} and t.scope == Scope.PREFECTURE]
    if not growing:
        raise ValueError("the catalog has no cumulative prefecture target to run behind schedule")
    return sorted(growing, key=lambda t: not t.additive)[0]


def choose_roles(catalog: Catalog, owners: dict[str, list[Target]]) -> Roles:
    """Cast the demo from the catalog (preferred departments first, so the story reads naturally)."""
    behind = _behind(catalog, owners)
    behind_owner = next(slug for slug, ts in owners.items() if behind in ts)
    slugs = list(owners)
    gbk = _pick(GBK_PREFERRED + (behind_owner,), slugs, set())
    percent = [s for s in slugs if any(t.unit == "percent" and t.kind == Kind.LEVEL for t in owners[s])]
    xlsx = _pick(XLSX_PREFERRED + tuple(percent), slugs, {gbk})
    monthly = [s for s in slugs if any(t.frequency == Frequency.MONTHLY for t in owners[s])]
    numeric = [s for s in monthly if any(t.kind != Kind.MILESTONE for t in owners[s])]
    bad = _pick(BAD_PREFERRED + tuple(numeric), slugs, {gbk, xlsx})
    late = _pick(LATE_PREFERRED + tuple(monthly), slugs, {gbk, xlsx, bad, behind_owner})
    return Roles(gbk=gbk, xlsx=xlsx, bad=bad, late=late, behind_target=behind.id)


def layouts(slugs: list[str], roles: Roles) -> dict[str, str]:
    """How often each ordinary department sends a file: monthly, quarterly or once for the half year, mixed by
    position and trimmed (monthly → quarterly) so the demo stays near MAX_FILES files."""
    special = {roles.gbk, roles.xlsx, roles.bad, roles.late}
    others = [s for s in slugs if s not in special]
    plan = {s: ("monthly", "quarterly", "single")[i % 3] for i, s in enumerate(others)}
    cost = {"monthly": 6, "quarterly": 2, "single": 1}
    total = 6 + 6 + 7 + 4 + sum(cost[v] for v in plan.values())
    for slug in reversed(others):
        if total <= MAX_FILES:
            break
        if plan[slug] == "monthly":
            plan[slug] = "quarterly"
            total -= 4
    return plan


def style_for(index: int, owners: list[Target], catalog: Catalog) -> Style:
    """An ordinary department's spelling, varied by its position (every variant is in the drop contract)."""
    names = [t.name_zh for t in catalog.targets] + [a for t in catalog.targets for a in t.aliases]
    unique_names = all(names.count(t.name_zh) == 1 for t in owners)
    header = ("full", "full", "name", "english")[index % 4]
    bom = index % 2 == 1
    return Style(
        header=header if header != "name" or unique_names else "full",
        county=("name", "short", "name", "code", "former")[index % 5],
        period=("iso", "zh", "compact")[index % 3],
        encoding="utf-8-sig" if bom else "utf-8",
        newline="\r\n" if bom else "\n",
        text_units=index % 4 == 2,
    )
