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

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from expectations.integrity import Problem, check_integrity, name_key
from expectations.models import Catalog, FieldProblem

__all__ = ["DEFAULT_CATALOG_DIR", "CatalogError", "check_integrity", "load_catalog", "name_key"]

DEFAULT_CATALOG_DIR = Path(__file__).resolve().parent / "catalog"


class CatalogError(ValueError):
    """A catalog file is malformed or inconsistent; the message names file, line and field."""


@dataclass(frozen=True)
class _Located:
    """A parsed YAML document plus the line of every mapping key and sequence item."""

    path: Path
    data: Any
    lines: dict[tuple[Any, ...], int]


_Origin = dict[tuple[Any, ...], tuple[_Located, tuple[Any, ...]]]


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
        raise CatalogError(f"{text!r} is not a finite number")
    return value


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
# Parsing (not construction) is the slow part; libyaml's parser keeps line marks and is ~10× faster.
_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
    try:
        return loader.construct_object(node, deep=True)
    except CatalogError as exc:
        field = ".".join(str(p) for p in path)
        raise CatalogError(f"line {node.start_mark.line + 1}: field {field}: {exc}") from exc


def _read(path: Path) -> _Located:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}:1: not UTF-8 ({exc.reason} at byte {exc.start}); save as UTF-8") from exc
    loader = _Parser(text)
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
        text = str(exc)  # "line N: …" from the YAML walk becomes "path:N: …"
        located = f"{path}:{text.removeprefix('line ')}" if text.startswith("line ") else f"{path}: {text}"
        raise CatalogError(located) from exc
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
    target_files = _target_files(root, docs[1])
    if not target_files:
        raise CatalogError(f"{root / 'targets'}: no targets/*.yaml files (one `targets:` file per program)")
    for path in target_files:
        doc = _read(path)
        for section in doc.data:
            if section != "targets":
                raise CatalogError(f"{path}:{_line(doc, (section,))}: field {section}: a targets file holds "
                                   f"only a `targets:` list")
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


def _target_files(root: Path, programs: _Located) -> list[Path]:
    """targets/*.yaml in the order of programs.yaml (a file named after its program), other names after."""
    folder = root / "targets"
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    items = programs.data.get("programs")
    order = [p.get("id") for p in items if isinstance(p, dict)] if isinstance(items, list) else []
    return sorted(files, key=lambda p: (order.index(p.stem) if p.stem in order else len(order), p.name))


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
                    raise CatalogError(f"{doc.path}:{_line(doc, (section,))}: field {section}: section given "
                                       f"twice")
                merged[section] = value
                origin[(section,)] = (doc, (section,))
    return merged, origin


def _required(path: Path) -> Path:
    if not path.is_file():
        raise CatalogError(f"{path}: required catalog file is missing (layout: expectations/loader.py)")
    return path


def _describe(exc: ValidationError, origin: _Origin,
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


def _item_id(origin: _Origin, key: tuple[Any, ...]) -> str:
    if key not in origin or len(key) < 2:
        return ""
    doc, local = origin[key]
    item = doc.data[local[0]][local[1]]
    if isinstance(item, dict):
        return str(item.get("id") or item.get("slug") or item.get("code") or item.get("symbol") or "")
    return ""


def _locate_problems(problems: list[Problem], catalog: Catalog,
                     origin: _Origin) -> str:
    lines = []
    for section, index, field, message in problems:
        key = (section, index) if index >= 0 else (section,)
        if key in origin:
            doc, local = origin[key]
            where = f"{doc.path}:{_line(doc, (*local, field))}"
            lines.append(f"{where}: field {field} ({_item_id(origin, key)}): {message}")
        else:
            lines.append(f"{section}: field {field}: {message}")
    return "inconsistent catalog:\n  " + "\n  ".join(lines)
