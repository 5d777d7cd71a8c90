"""Checks the loader itself runs before writing (vectorized): a last guard that the rows fit the warehouse, and
the cross-file rule that needs the warehouse — cumulative year-to-date values never decrease.

Anything found here is a critical Issue: the drop is quarantined in the same transaction, never half-loaded.
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal

import pandas as pd
import pyarrow as pa
from sqlalchemy import Connection

from tasks.contracts import Issue, Severity
from warehouse.dims import decimal_text
from warehouse.queries import KEY, current_series_query, fetch_frame

DEC = pa.decimal128(38, 10)
LIMIT = pa.scalar(Decimal("1E+20"), type=DEC)  # NUMERIC(30, 10) holds 20 integer digits
MAX_ISSUES_PER_RULE = 200


def located(frame: pd.DataFrame, mask: pd.Series, code: str, zh: str, en: str, column: str) -> list[Issue]:
    """One critical Issue per flagged row (first MAX_ISSUES_PER_RULE, then one summary); zh/en are
    str.format templates over the row's columns."""
    hits = frame.loc[mask.fillna(False).astype(bool)]
    issues = []
    for rec in hits.head(MAX_ISSUES_PER_RULE).to_dict("records"):
        fields = {k: ("" if v is None or v is pd.NA else v) for k, v in rec.items()}
        row = rec.get("source_row")
        issues.append(Issue(Severity.CRITICAL, code, zh.format(**fields), en.format(**fields),
                            sheet=rec.get("source_sheet") or None, row=None if row is pd.NA else row,
                            column=column, value=str(fields.get(column, ""))))
    if len(hits) > MAX_ISSUES_PER_RULE:
        more = len(hits) - MAX_ISSUES_PER_RULE
        issues.append(Issue(Severity.CRITICAL, code, f"……另有 {more} 行同样的问题", f"... and {more} more rows "
                            "with the same problem", column=column))
    return issues


def _decimals(values: pd.Series) -> pd.Series:
    return pd.Series(pd.array(pa.array(values.tolist(), DEC), dtype=pd.ArrowDtype(DEC)), index=values.index)


def check_cumulative_not_decreasing(conn: Connection, rows: pd.DataFrame, cumulative_target_ids: Collection[str],
                                    held: pd.DataFrame | None = None) -> list[Issue]:
    """Critical issues where a drop's year-to-date value would make a series decrease against what the
    warehouse already holds (read on `conn`, i.e. inside the load transaction).

    The drop's rows replace the warehouse's for the same keys; the merged series of each target × county ×
    year is then checked month by month, and every decreasing step between a held value and a dropped value
    is reported on the dropped row. Decreases entirely inside the drop are the validator's to report.
    `held`, when the caller already read them, are the current observations (at least KEY, value_text and basis)
    of every series the drop touches; otherwise they are read here.
    """
    basis = rows["basis"].astype("string").fillna("ytd")
    new = rows.loc[rows["target_id"].isin(list(cumulative_target_ids)) & (basis == "ytd"),
                   [*KEY, "value", "source_sheet", "source_row"]]
    if new.empty:
        return []
    if held is None:
        held = fetch_frame(conn, current_series_query(new, [*KEY, "value_text", "basis"]),
                           [*KEY, "value_text", "basis"])
    held = held.loc[held["basis"] == "ytd", [*KEY, "value_text"]].astype("string")
    if held.empty:
        return []
    keys = new[KEY].astype("string")
    held = held.merge(keys.drop_duplicates(["target_id", "county_code"])[["target_id", "county_code"]],
                      on=["target_id", "county_code"])
    held = held.merge(keys, on=KEY, how="left", indicator=True)
    held = held.loc[held["_merge"] == "left_only", [*KEY, "value_text"]]
    if held.empty:
        return []
    held_values = pd.Series(pd.array(pa.array(held["value_text"].tolist(), pa.string()).cast(DEC),
                                     dtype=pd.ArrowDtype(DEC)), index=held.index)
    series = pd.concat([held[KEY].assign(value=held_values, origin="warehouse", source_sheet="",
                                         source_row=pd.NA),
                        keys.assign(value=_decimals(new["value"]), origin="drop",
                                    source_sheet=new["source_sheet"], source_row=new["source_row"])],
                       ignore_index=True)
    series["year"] = series["period"].astype("string").str[:4]
    series = series.sort_values(KEY, ignore_index=True)
    grouped = series.groupby(["target_id", "county_code", "year"], sort=False)
    prev = series.assign(**{f"prev_{c}": grouped[c].shift() for c in ("value", "period", "origin", "source_sheet",
                                                                       "source_row")})
    falls = (prev["value"] < prev["prev_value"]).fillna(False).astype(bool)
    mixed = prev["origin"] != prev["prev_origin"]
    hits = prev.loc[falls & mixed & prev["prev_origin"].notna()]
    issues = []
    for rec in hits.head(MAX_ISSUES_PER_RULE).to_dict("records"):
        dropped_later = rec["origin"] == "drop"
        d_period, d_value = (rec["period"], rec["value"]) if dropped_later else (rec["prev_period"], rec["prev_value"])
        w_period, w_value = (rec["prev_period"], rec["prev_value"]) if dropped_later else (rec["period"], rec["value"])
        sheet, row = ((rec["source_sheet"], rec["source_row"]) if dropped_later
                      else (rec["prev_source_sheet"], rec["prev_source_row"]))
        relation_zh, relation_en = ("低于", "below") if dropped_later else ("高于", "above")
        d_text, w_text = decimal_text(Decimal(d_value)), decimal_text(Decimal(w_value))
        issues.append(Issue(
            Severity.CRITICAL, "cumulative_decrease",
            f"{rec['target_id']} {rec['county_code']} {d_period} 的累计值 {d_text} {relation_zh}仓库已有的 "
            f"{w_period} 累计值 {w_text}；累计数只增不减。请核对，如前期数据有误请一并报送更正。",
            f"{rec['target_id']} {rec['county_code']} {d_period}: year-to-date value {d_text} is {relation_en} "
            f"the {w_period} value {w_text} already in the warehouse; a cumulative value never decreases. Check "
            "it, and if the earlier month was wrong, submit its correction too.",
            sheet=sheet or None, row=None if row is None or row is pd.NA else int(row), column="value",
            value=d_text))
    return issues
