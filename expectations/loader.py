"""Load a catalog directory strictly, with errors that name the file, line and field.

Layout of a catalog directory::

    plan.yaml          plan name, year, prefecture code, reporting calendar
    programs.yaml      programs: [...]
    departments.yaml   departments: [...]
    counties.yaml      counties: [...]
    units.yaml         canonical_units: [...], units: [...]
    targets/*.yaml     targets: [...]   (one file per program, any names)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from expectations.models import Catalog, FieldProblem, Scope

DEFAULT_CATALOG_DIR = Path(__file__).resolve().parent / "catalog"


class CatalogError(ValueError):
    """A catalog file is malformed or inconsistent; the message names file, line and field."""


@dataclass(frozen=True)
class _Located:
    """A parsed YAML document plus the line of every mapping key and sequence item."""

    path: Path
    data: Any
    lines: dict[tuple[Any, ...], int]


class _DecimalLoader(yaml.SafeLoader):
    """Reads floats as Decimal so 0.78 stays exactly 0.78."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        # .inf / .nan are valid YAML floats but never a target value or bound
        raise CatalogError(f"line {node.start_mark.line + 1}: {text!r} is not a finite number")
    return value


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


def _to_python(node: yaml.Node, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int], loader: Any) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in out:
                raise CatalogError(f"line {key_node.start_mark.line + 1}: field {key}: duplicate key {key!r}")
            out[key] = _to_python(value_node, (*path, key), lines, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, (*path, i), lines, loader) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def _read(path: Path) -> _Located:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}:1: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8") from exc
    loader = _DecimalLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise CatalogError(f"{path}:{line}: field (YAML syntax): not valid YAML: {exc}") from exc
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}:1: field (YAML syntax): not valid YAML: {exc}") from exc
    finally:
        loader.dispose()
    lines: dict[tuple[Any, ...], int] = {}
    try:
        data = _to_python(node, (), lines, _DecimalLoader("")) if node is not None else {}
    except CatalogError as exc:
        text = str(exc)
        raise CatalogError(f"{path}:{text.removeprefix('line ')}" if text.startswith("line ") else f"{path}: {text}"
                           ) from exc
    if not isinstance(data, dict):
        raise CatalogError(f"{path}:1: the file must be a mapping of sections (e.g. `targets:`)")
    return _Located(path, data, lines)


def _line(doc: _Located, loc: tuple[Any, ...]) -> int:
    for n in range(len(loc), -1, -1):
        if loc[:n] in doc.lines:
            return doc.lines[loc[:n]]
    return 1


def load_catalog(directory: Path | str | None = None) -> Catalog:
    """Parse and check a whole catalog directory; raise CatalogError naming file, line and field."""
    root = Path(directory) if directory is not None else DEFAULT_CATALOG_DIR
    if not root.is_dir():
        raise CatalogError(f"{root}: catalog directory not found (set MINSHENG_CATALOG_DIR)")
    docs = [_read(_required(root / name)) for name in _FIXED_FILES]
    target_files = sorted((root / "targets").glob("*.yaml")) if (root / "targets").is_dir() else []
    if not target_files:
        raise CatalogError(f"{root / 'targets'}: no targets/*.yaml files (one file of `targets:` per program)")
    for path in target_files:
        doc = _read(path)
        for section in doc.data:
            if section != "targets":
                raise CatalogError(f"{path}:{_line(doc, (section,))}: field {section}: a targets file holds only "
                                   f"a `targets:` list")
        docs.append(doc)
    merged, origin = _merge(docs)
    try:
        catalog = Catalog.model_validate(merged)
    except ValidationError as exc:
        raise CatalogError(_describe(exc, origin, root)) from exc
    problems = check_integrity(catalog)
    if problems:
        raise CatalogError(_locate_problems(problems, catalog, origin))
    return catalog


_FIXED_FILES = ("plan.yaml", "programs.yaml", "departments.yaml", "counties.yaml", "units.yaml")
_Origin = dict[tuple[Any, ...], tuple[_Located, tuple[Any, ...]]]


def _merge(docs: list[_Located]) -> tuple[dict[str, Any], _Origin]:
    """Merge the files' sections (lists are concatenated) and remember where every item came from."""
    merged: dict[str, Any] = {}
    origin: _Origin = {}
    for doc in docs:
        for section, value in doc.data.items():
            if isinstance(value, list):
                if not isinstance(merged.setdefault(section, []), list):
                    raise CatalogError(f"{doc.path}:{_line(doc, (section,))}: field {section}: section given "
                                       f"twice, once as a list")
                start = len(merged[section])
                merged[section].extend(value)
                origin.setdefault((section,), (doc, (section,)))
                for i in range(len(value)):
                    origin[(section, start + i)] = (doc, (section, i))
            else:
                if section in merged:
                    raise CatalogError(f"{doc.path}:{_line(doc, (section,))}: field {section}: section given twice")
                merged[section] = value
                origin[(section,)] = (doc, (section,))
    return merged, origin


def _required(path: Path) -> Path:
    if not path.is_file():
        raise CatalogError(f"{path}:0: field (file): required catalog file is missing")
    return path


def _describe(exc: ValidationError, origin: dict[tuple[Any, ...], tuple[_Located, tuple[Any, ...]]],
              root: Path) -> str:
    messages = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        problem = (err.get("ctx") or {}).get("error")
        if isinstance(problem, FieldProblem):
            loc = (*loc, problem.field)  # a cross-field check: point at the field it names
        key = loc[:2] if len(loc) >= 2 and isinstance(loc[1], int) else loc[:1]
        if key in origin:
            doc, local = origin[key]
            full = (*local, *loc[len(key):])
            where = f"{doc.path}:{_line(doc, full)}"
            field = ".".join(str(p) for p in full)
        else:
            where, field = str(root), ".".join(str(p) for p in loc)
        item_id = _item_id(origin, key)
        label = f" ({item_id})" if item_id else ""
        messages.append(f"{where}: field {field}{label}: {err['msg']}")
    return "invalid catalog:\n  " + "\n  ".join(messages)


def _item_id(origin: dict[tuple[Any, ...], tuple[_Located, tuple[Any, ...]]], key: tuple[Any, ...]) -> str:
    if key not in origin or len(key) < 2:
        return ""
    doc, local = origin[key]
    item = doc.data[local[0]][local[1]]
    if isinstance(item, dict):
        return str(item.get("id") or item.get("slug") or item.get("code") or item.get("symbol") or "")
    return ""


def check_integrity(catalog: Catalog) -> list[tuple[str, int, str, str]]:
    """Cross-record checks; each problem is (section, index, field, message)."""
    problems: list[tuple[str, int, str, str]] = []
    for section, key in (("targets", "id"), ("departments", "slug"), ("counties", "code"), ("programs", "id"),
                         ("units", "symbol"), ("canonical_units", "id")):
        counts = Counter(getattr(item, key) for item in getattr(catalog, section))
        for i, item in enumerate(getattr(catalog, section)):
            if counts[getattr(item, key)] > 1:
                problems.append((section, i, key, f"{getattr(item, key)!r} is not unique"))
    slugs = {d.slug for d in catalog.departments}
    codes = {c.code for c in catalog.counties}
    programs = {p.id for p in catalog.programs}
    canonical = {u.id for u in catalog.canonical_units}
    for i, unit in enumerate(catalog.units):
        if unit.canonical not in canonical:
            problems.append(("units", i, "canonical", f"unknown canonical unit {unit.canonical!r}"))
    written = {u.symbol for u in catalog.units} | {a for u in catalog.units for a in u.aliases}
    for i, t in enumerate(catalog.targets):
        if t.program not in programs:
            problems.append(("targets", i, "program", f"unknown program {t.program!r}"))
        if not t.id.startswith(t.program + "."):
            problems.append(("targets", i, "id", f"id must start with its program {t.program!r}."))
        for field in ("lead_departments", "responsible_units"):
            for slug in getattr(t, field):
                if slug not in slugs:
                    problems.append(("targets", i, field, f"unknown department {slug!r}"))
        if t.unit not in canonical:
            problems.append(("targets", i, "unit", f"unknown canonical unit {t.unit!r}"))
        if t.unit_written not in written and t.unit_written not in canonical:
            problems.append(("targets", i, "unit_written", f"unit {t.unit_written!r} is not in units.yaml"))
        for code in [*t.counties, *t.county_values]:
            if code not in codes:
                problems.append(("targets", i, "counties", f"unknown county code {code!r}"))
        if t.scope == Scope.PREFECTURE and t.counties:
            problems.append(("targets", i, "counties", "a prefecture-scope target lists no counties"))
    cal = catalog.calendar
    for field in ("supervision_office", "data_team"):
        if getattr(cal, field) not in slugs:
            problems.append(("calendar", -1, field, f"unknown department {getattr(cal, field)!r}"))
    if catalog.prefecture_code not in codes:
        problems.append(("counties", -1, "code", f"prefecture {catalog.prefecture_code} is not in counties"))
    return problems


def _locate_problems(problems: list[tuple[str, int, str, str]], catalog: Catalog,
                     origin: dict[tuple[Any, ...], tuple[_Located, tuple[Any, ...]]]) -> str:
    lines = []
    for section, index, field, message in problems:
        key = (section, index) if index >= 0 else (section,)
        if key in origin:
            doc, local = origin[key]
            lines.append(f"{doc.path}:{_line(doc, (*local, field))}: field {field} ({_item_id(origin, key)}): "
                         f"{message}")
        else:
            lines.append(f"{section}: field {field}: {message}")
    return "inconsistent catalog:\n  " + "\n  ".join(lines)
