"""Cross-record checks of a parsed catalog: references resolve, names are unambiguous, units fit.

Each problem is (section, index, field, message); the loader turns it into file:line: field: message. Checks
inside one record (comparator vs direction, value within bounds …) live on the models themselves.
"""

from __future__ import annotations

import unicodedata
from collections import Counter

from expectations.models import Catalog, CountyKind, Scope

Problem = tuple[str, int, str, str]


def check_integrity(catalog: Catalog) -> list[Problem]:
    """Cross-record checks; each problem is (section, index, field, message)."""
    problems: list[Problem] = []
    for section, key in (("targets", "id"), ("departments", "slug"), ("counties", "code"), ("programs", "id"),
                         ("units", "symbol"), ("canonical_units", "id")):
        counts = Counter(getattr(item, key) for item in getattr(catalog, section))
        for i, item in enumerate(getattr(catalog, section)):
            if counts[getattr(item, key)] > 1:
                problems.append((section, i, key, f"{getattr(item, key)!r} is not unique"))
    problems += _unique_names(catalog)
    problems += _check_units(catalog)
    problems += _check_departments(catalog)
    problems += _check_targets(catalog)
    cal = catalog.calendar
    slugs = {d.slug for d in catalog.departments}
    for field in ("supervision_office", "data_team"):
        if getattr(cal, field) not in slugs:
            problems.append(("calendar", -1, field, f"unknown department {getattr(cal, field)!r}"))
    if cal.year != catalog.year:
        problems.append(("calendar", -1, "year", f"calendar year {cal.year} is not plan year {catalog.year}"))
    if catalog.prefecture_code not in {c.code for c in catalog.counties}:
        problems.append(("counties", -1, "code", f"prefecture {catalog.prefecture_code} is not in counties"))
    return problems


def name_key(text: str) -> str:
    """How names compare: NFKC (％ ≡ %, full-width ≡ ASCII), without spaces, case-folded (T ≡ t)."""
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def _unique_names(catalog: Catalog) -> list[Problem]:
    """A name in a drop (target name or alias, department alias, unit symbol) must resolve to one record,
    also when a reader compares names loosely (see name_key)."""
    problems: list[Problem] = []
    for section, owner, fields in (("targets", "id", ("id", "name_zh", "aliases")),
                                   ("departments", "slug", ("slug", "name_zh", "aliases")),
                                   ("units", "symbol", ("symbol", "aliases"))):
        seen: dict[str, str] = {}
        for i, item in enumerate(getattr(catalog, section)):
            for field in fields:
                names = getattr(item, field)
                for name in names if isinstance(names, list) else [names]:
                    first = seen.setdefault(name_key(name), getattr(item, owner))
                    if first != getattr(item, owner):
                        problems.append((section, i, field, f"name {name!r} already names {first!r}"))
    return problems


def _check_units(catalog: Catalog) -> list[Problem]:
    problems: list[Problem] = []
    canonical = {u.id for u in catalog.canonical_units}
    for i, unit in enumerate(catalog.units):
        if unit.canonical not in canonical:
            problems.append(("units", i, "canonical", f"unknown canonical unit {unit.canonical!r}"))
    by_dimension = Counter(u.dimension for u in catalog.canonical_units)
    for i, cu in enumerate(catalog.canonical_units):
        if by_dimension[cu.dimension] > 1 and cu.to_base is None:
            problems.append(("canonical_units", i, "to_base", f"dimension {cu.dimension!r} has several "
                             f"canonical units, so each needs to_base"))
    return problems


def _check_departments(catalog: Catalog) -> list[Problem]:
    problems: list[Problem] = []
    codes = {c.code for c in catalog.counties}
    for i, d in enumerate(catalog.departments):
        if d.county is not None and d.county not in codes:
            problems.append(("departments", i, "county", f"unknown county code {d.county!r}"))
        if (d.kind == "county_government") != (d.county is not None):
            problems.append(("departments", i, "county", "a county_government (only) names its county"))
        if d.kind not in {"department", "group", "company", "county_government"}:
            problems.append(("departments", i, "kind", f"unknown kind {d.kind!r}"))
    return problems


def _check_targets(catalog: Catalog) -> list[Problem]:
    problems: list[Problem] = []
    slugs = {d.slug for d in catalog.departments}
    counties = {c.code: c for c in catalog.counties}
    programs = {p.id for p in catalog.programs}
    canonical = {u.id: u for u in catalog.canonical_units}
    for i, t in enumerate(catalog.targets):
        if t.program not in programs:
            problems.append(("targets", i, "program", f"unknown program {t.program!r}"))
        if not t.id.startswith(t.program + "."):
            problems.append(("targets", i, "id", f"id must start with its program {t.program!r}."))
        for field in ("lead_departments", "responsible_units"):
            for slug in getattr(t, field):
                if slug not in slugs:
                    problems.append(("targets", i, field, f"unknown department {slug!r}"))
        written = catalog.unit(t.unit_written)
        if t.unit not in canonical:
            problems.append(("targets", i, "unit", f"unknown canonical unit {t.unit!r}"))
        elif written is None and t.unit_written not in canonical:
            problems.append(("targets", i, "unit_written", f"unit {t.unit_written!r} is not in units.yaml"))
        elif (written.canonical if written else t.unit_written) != t.unit:
            problems.append(("targets", i, "unit_written", f"{t.unit_written!r} is not a unit of {t.unit!r}"))
        elif t.additive and canonical[t.unit].dimension in _NOT_ADDITIVE:
            problems.append(("targets", i, "additive", f"a {canonical[t.unit].dimension} cannot be summed "
                             f"over counties"))
        for field, codes in (("counties", t.counties), ("county_values", list(t.county_values))):
            for code in codes:
                if code not in counties or counties[code].kind == CountyKind.PREFECTURE:
                    problems.append(("targets", i, field, f"{code!r} is not a county code"))
                elif field == "county_values" and t.counties and code not in t.counties:
                    problems.append(("targets", i, field, f"{code!r} is not among the target's counties"))
        if t.scope == Scope.PREFECTURE and t.counties:
            problems.append(("targets", i, "counties", "a prefecture-scope target lists no counties"))
        if t.deadline is not None and t.deadline.year > catalog.year + 1:
            problems.append(("targets", i, "deadline", f"deadline {t.deadline} is after the inspection"))
    return problems


# Ratios, concentrations and ages are averages, not sums: no county parts add up to them.
_NOT_ADDITIVE = {"ratio", "concentration", "age", "bandwidth"}
