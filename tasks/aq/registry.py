"""The station registry: which monitoring station belongs to which county, and since when.

A registry file (YAML) is data beside the catalog (`expectations/catalog/stations.yaml`)::

    prefecture_code: "532300"   # area that averages every assessed station (the city / prefecture level)
    co_unit: mg/m3              # optional: unit of CO for feeds whose header does not declare it
    areas: {"532301": 楚雄市}    # optional display names of area codes
    stations:
      - id: "2801A"              # station id exactly as the feed writes it
        name: 鹿城镇
        county_code: "532301"
        lat: 25.04               # optional
        lon: 101.54              # optional
        valid_from: 2015-01-01   # optional: first day its readings count
        valid_to: null           # optional: last day its readings count
        assess: true             # optional (default true): counted in county/city averages (城市评价点)

It is parsed strictly (unknown keys are errors); a problem is reported with file, line and field.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

CoUnit = Literal["mg/m3", "ug/m3"]


class RegistryError(ValueError):
    """A station registry file is malformed; the message names file, line and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Station(_Strict):
    """One monitoring station (监测点位) and the county whose air it measures."""

    id: str = Field(min_length=1, description="station id as written in feeds (站点编码 or name)")
    name: str = Field(min_length=1)
    county_code: str = Field(pattern=r"^\d{6}$", description="6-digit code of the county (or pseudo area)")
    lat: Decimal | None = Field(None, ge=-90, le=90)
    lon: Decimal | None = Field(None, ge=-180, le=180)
    valid_from: dt.date | None = Field(None, description="first day (Beijing time) its readings count")
    valid_to: dt.date | None = Field(None, description="last day (inclusive) its readings count")
    assess: bool = Field(True, description="counted in county and city averages (城市评价点位)")

    @model_validator(mode="after")
    def _dates(self) -> Station:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError(f"valid_to {self.valid_to} is before valid_from {self.valid_from}")
        return self


class StationRegistry(_Strict):
    """All stations of a prefecture (or any region) and how they roll up to areas."""

    prefecture_code: str | None = Field(None, pattern=r"^\d{6}$",
                                        description="area that averages every assessed station")
    co_unit: CoUnit | None = Field(None, description="CO unit of feeds that do not declare it")
    areas: dict[str, str] = Field({}, description="display names of area codes")
    stations: list[Station] = []

    @model_validator(mode="after")
    def _unique(self) -> StationRegistry:
        dupes = [sid for sid, n in Counter(s.id for s in self.stations).items() if n > 1]
        if dupes:
            raise ValueError(f"station ids must be unique: {', '.join(map(repr, dupes))} given twice")
        return self

    def station(self, station_id: str) -> Station | None:
        return next((s for s in self.stations if s.id == station_id), None)

    @property
    def area_codes(self) -> list[str]:
        """Every area values are derived for: the counties of assessed stations, then the prefecture."""
        codes = sorted({s.county_code for s in self.stations if s.assess})
        if self.prefecture_code and self.prefecture_code not in codes:
            codes.append(self.prefecture_code)
        return codes

    def area_name(self, code: str) -> str:
        return self.areas.get(code, code)


def load_registry(path: Path | str, known_county_codes: set[str] | None = None) -> StationRegistry:
    """Parse a registry file strictly; raise RegistryError naming file, line and field.

    `known_county_codes`, when given (the catalog's county codes), makes an unknown county code an error.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryError(f"{file}: cannot read the station registry ({exc.strerror}) / 无法读取站点名录") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise RegistryError(f"{file}: not valid YAML / YAML 格式错误: {exc}") from exc
    lines: dict[tuple[Any, ...], int] = {}
    data = _to_python(node, (), lines) if node is not None else {}
    if not isinstance(data, dict):
        raise RegistryError(f"{file}:1: the registry must be a mapping with a `stations:` list / 应为映射")
    try:
        registry = StationRegistry.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            label = _station_label(data, loc)
            problems.append(f"{file}:{_line(lines, loc)}: field {'.'.join(map(str, loc)) or '(top)'}{label}: "
                            f"{err['msg']}")
        raise RegistryError("invalid station registry / 站点名录有误:\n  " + "\n  ".join(problems)) from exc
    if known_county_codes is not None:
        bad = [(i, s) for i, s in enumerate(registry.stations) if s.county_code not in known_county_codes]
        if bad:
            raise RegistryError("unknown county codes / 未知县市代码:\n  " + "\n  ".join(
                f"{file}:{_line(lines, ('stations', i, 'county_code'))}: field stations.{i}.county_code "
                f"({s.id}): {s.county_code!r} is not a county of the catalog" for i, s in bad))
    return registry


def _to_python(node: yaml.Node, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> Any:
    # Construct plain Python while remembering the line of every key and item, for error messages.
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if key in out:
                raise RegistryError(f"duplicate key {key!r} at line {key_node.start_mark.line + 1}")
            out[key] = _to_python(value_node, (*path, key), lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, (*path, i), lines) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        value = loader.construct_object(node, deep=True)
    finally:
        loader.dispose()
    if isinstance(value, float):  # coordinates stay exact; PyYAML would give binary floats
        try:
            return Decimal(str(node.value).replace("_", ""))
        except ArithmeticError:
            return value
    return value


def _line(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int:
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return 1


def _station_label(data: dict[str, Any], loc: tuple[Any, ...]) -> str:
    if len(loc) >= 2 and loc[0] == "stations" and isinstance(loc[1], int):
        items = data.get("stations") or []
        if loc[1] < len(items) and isinstance(items[loc[1]], dict) and items[loc[1]].get("id"):
            return f" ({items[loc[1]]['id']})"
    return ""
