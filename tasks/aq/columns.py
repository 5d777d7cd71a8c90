"""How station feeds name their columns and units, and how their times are read (pure helpers).

Headers are matched case- and punctuation-insensitively after NFKC folding (full-width → ASCII, ₂ → 2), so
`PM2.5`, `pm2_5`, `PM25`, `ＰＭ２.５` and `PM₂.₅` are all PM2.5. A unit may follow in brackets: `CO(mg/m3)`,
`co [µg/m³]`, `CO（毫克/立方米）`.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

# canonical field → accepted header keys (already folded by `header_key`)
_ALIASES: dict[str, tuple[str, ...]] = {
    "station": ("station", "stationid", "stationcode", "stationname", "site", "siteid", "sitecode", "站点",
                "站点编码", "站点名称", "监测点位", "点位", "点位编码", "点位名称", "监测站", "监测点"),
    "time": ("time", "datetime", "timestamp", "date", "时间", "日期", "监测时间", "日期时间"),
    "year": ("year", "年", "年份"),
    "month": ("month", "月", "月份"),
    "day": ("day", "日"),
    "hour": ("hour", "时", "小时"),
    "pm25": ("pm25", "pm2524h", "细颗粒物"),
    "pm10": ("pm10", "pm1024h", "可吸入颗粒物"),
    "so2": ("so2", "so224h", "二氧化硫"),
    "no2": ("no2", "no224h", "二氧化氮"),
    "co": ("co", "co24h", "一氧化碳"),
    "o3": ("o3", "臭氧"),
    "o3_8h": ("o38h", "o38h24h", "o38hmax", "o3max8h", "臭氧8小时", "臭氧日最大8小时"),
    "o3_1h": ("o31h", "o31hmax", "o3max1h", "臭氧1小时", "臭氧日最大1小时"),
    "aqi": ("aqi", "空气质量指数"),
}
# Headers that carry their unit in the name, e.g. CO_mg_m3.
_UNIT_SUFFIXES: dict[str, str] = {"mgm3": "mg/m3", "ugm3": "ug/m3"}
ALIAS_TO_FIELD: dict[str, str] = {alias: field for field, aliases in _ALIASES.items() for alias in aliases}
POLLUTANT_FIELDS: tuple[str, ...] = ("pm25", "pm10", "so2", "no2", "co", "o3", "o3_8h", "o3_1h")

_BRACKETED = re.compile(r"^(?P<name>.*?)\s*[(\[【](?P<unit>[^)\]】]*)[)\]】]\s*$")
_OFFSET = re.compile(r"[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$")
_CJK_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?\s*(\d{1,2})?[时:]?(\d{2})?分?")


def header_key(header: str) -> tuple[str, str | None]:
    """A header folded to its matching key, and the unit written with it (normalised) or None."""
    text = unicodedata.normalize("NFKC", str(header)).strip()
    unit = None
    m = _BRACKETED.match(text)
    if m:
        text, unit = m.group("name"), normalize_unit(m.group("unit"))
    key = re.sub(r"[\s_\-.·/]", "", text.lower())
    for suffix, suffix_unit in _UNIT_SUFFIXES.items():
        if key.endswith(suffix) and key[: -len(suffix)] in ALIAS_TO_FIELD:
            key, unit = key[: -len(suffix)], suffix_unit
    return key, unit


def normalize_unit(unit: str) -> str:
    """`µg/m³`, `ug/m3`, `微克/立方米` → `ug/m3`; `mg/m³`, `毫克/立方米` → `mg/m3`; others folded but kept."""
    u = unicodedata.normalize("NFKC", unit).strip().lower().replace(" ", "")
    u = u.replace("μ", "u").replace("µ", "u").replace("微克", "ug").replace("毫克", "mg").replace("立方米", "m3")
    return u.replace("/m^3", "/m3")


def map_columns(headers: list[str]) -> tuple[dict[str, str], dict[str, str | None], list[tuple[str, list[str]]]]:
    """Match headers to canonical fields.

    Returns (field → header, field → declared unit, [(field, headers)] for fields claimed by several headers).
    Unmatched headers (weather columns, row numbers) are ignored.
    """
    found: dict[str, list[tuple[str, str | None]]] = {}
    for h in headers:
        key, unit = header_key(h)
        field = ALIAS_TO_FIELD.get(key)
        if field:
            found.setdefault(field, []).append((h, unit))
    mapping = {f: hs[0][0] for f, hs in found.items() if len(hs) == 1}
    units = {f: hs[0][1] for f, hs in found.items() if len(hs) == 1}
    clashes = [(f, [h for h, _ in hs]) for f, hs in found.items() if len(hs) > 1]
    return mapping, units, clashes


def parse_time_strings(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Text times → (naive Beijing wall-clock datetime64[ns], whether the text carried an offset).

    Naive texts are Beijing time (Asia/Shanghai); texts with an offset (`+08:00`, `+0000`, `Z`) are converted to
    it. Only year-first orders are accepted (2021-03-01, 2021/3/1 08:00, 2021年3月1日8时): 01/03/2021 could be
    either month, so it is refused (NaT), never guessed. Meant for the *distinct* values of a column.
    """
    text = values.astype("string").str.strip()
    text = text.str.replace(_CJK_DATE, _cjk_to_iso, regex=True)
    text = text.str.replace(r"^(\d{4})[./](\d{1,2})[./](\d{1,2})", r"\1-\2-\3", regex=True)
    has_offset = text.str.contains(_OFFSET, na=False)
    year_first = text.str.match(r"^\d{4}-\d{1,2}-\d{1,2}", na=False)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    naive = year_first & ~has_offset
    if naive.any():
        out[naive] = pd.to_datetime(text[naive], errors="coerce", format="mixed").astype("datetime64[ns]")
    aware = year_first & has_offset
    if aware.any():
        parsed = pd.to_datetime(text[aware], errors="coerce", format="mixed", utc=True)
        out[aware] = parsed.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None).astype("datetime64[ns]")
    return out, has_offset


def _cjk_to_iso(m: re.Match[str]) -> str:
    y, mo, d, h, mi = m.groups()
    return f"{y}-{int(mo):02d}-{int(d):02d} {int(h or 0):02d}:{int(mi or 0):02d}"


_NO_DST_SINCE = np.datetime64("1992-01-01")


def utc_to_beijing(utc: np.ndarray) -> np.ndarray:
    """UTC instants (datetime64, as Arrow stores any time-zone-aware timestamp) → Beijing wall-clock time.

    Asia/Shanghai has been UTC+8 without daylight saving since 1991: a fixed shift, unless older times occur.
    """
    if utc.size == 0 or utc.min() >= _NO_DST_SINCE:
        return utc + np.timedelta64(8, "h")
    converted = pd.DatetimeIndex(utc).tz_localize("UTC").tz_convert("Asia/Shanghai").tz_localize(None)
    return np.asarray(converted.to_numpy())
