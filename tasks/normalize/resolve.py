"""Names to catalog keys: counties to codes, targets to ids, and the small vocabularies of basis and status."""

from __future__ import annotations

import difflib

from expectations.models import Catalog, Kind, Target
from tasks.normalize.problems import ParseProblem, match_key

TOTAL_KEYS = frozenset(match_key(w) for w in ("合计", "总计", "小计", "合计数", "总合计", "全部合计", "total",
                                              "subtotal", "sum"))
PREFECTURE_TOTALS = frozenset(match_key(w) for w in ("全州合计", "全州", "全州总计", "楚雄州合计"))


class CountyResolver:
    """County cell → 6-digit code, by name, alias, former name (禄丰县), English name or code (also old codes)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.by_key: dict[str, str] = {}
        for county in catalog.counties:
            for name in (county.code, county.name_zh, county.name_en, *county.aliases, *county.former_names):
                self.by_key.setdefault(match_key(name), county.code)
        for word in PREFECTURE_TOTALS:
            self.by_key[word] = catalog.prefecture_code

    def find(self, text: str) -> str | None:
        """The code for a county cell, or None."""
        return self.by_key.get(match_key(text))

    def resolve(self, text: str) -> str:
        """The code for a county cell; raises ParseProblem(unknown_county) listing the valid names."""
        code = self.find(text)
        if code is not None:
            return code
        names = [c.name_zh for c in self.catalog.counties]
        raise ParseProblem(
            "unknown_county",
            f"不是本州的县市；请填写以下名称之一（或6位行政区划代码）：{'、'.join(names)}。",
            f"is not a county of the prefecture; write one of: {', '.join(names)} (or its 6-digit code).",
        )


class TargetResolver:
    """Target cell → catalog id, by id, plan wording, alias or English name (full-width, case, spacing ignored)."""

    def __init__(self, catalog: Catalog) -> None:
        self.targets = {t.id: t for t in catalog.targets}
        self.by_key: dict[str, str] = {}
        for t in catalog.targets:
            for name in (t.id, t.name_zh, t.name_en, *t.aliases):
                self.by_key.setdefault(match_key(name), t.id)
        self.names = [t.name_zh for t in catalog.targets] + [a for t in catalog.targets for a in t.aliases]

    def resolve(self, text: str) -> Target:
        """The target a cell names; raises ParseProblem(unknown_target) suggesting the closest catalog names."""
        target_id = self.by_key.get(match_key(text)) or self.by_key.get(text.strip().lower())
        if target_id is not None:
            return self.targets[target_id]
        close = difflib.get_close_matches(text.strip(), self.names, n=3, cutoff=0.4)
        hint_zh = f"；您是否指：{'、'.join(close)}" if close else ""
        hint_en = f"; did you mean: {', '.join(close)}" if close else ""
        raise ParseProblem(
            "unknown_target",
            f"不是目录中的指标{hint_zh}？请使用指标编码或方案中的指标名称。",
            f"is not a target in the catalog{hint_en}? Use the target id or the plan's wording.",
        )


_BASIS = {match_key(w): b for words, b in (
    (("累计", "年累计", "本年累计", "ytd", "年初至今", "累计值", "year to date"), "ytd"),
    (("当月", "本月", "month", "monthly", "月度", "当月值", "本月值"), "month")) for w in words}
_STATUS = {match_key(w): s for words, s in (
    (("provisional", "初步", "快报", "预计", "暂定", "初值", "初报"), "provisional"),
    (("final", "终值", "正式", "最终", "定稿", "终报"), "final"),
    (("revised", "修订", "更正", "修正", "修订值"), "revised")) for w in words}


def parse_basis(text: str) -> str:
    """累计/年累计/ytd → "ytd", 当月/本月/month → "month"; anything else raises ParseProblem(bad_basis)."""
    basis = _BASIS.get(match_key(text))
    if basis is None:
        raise ParseProblem("bad_basis", "不是有效的口径，请填写“累计”或“当月”。",
                           "is not a valid basis; write 累计 (year to date) or 当月 (this month).")
    return basis


def parse_status(text: str) -> str:
    """provisional (初步, default) / final (终值, 正式) / revised (修订, 更正); else ParseProblem(bad_status)."""
    status = _STATUS.get(match_key(text))
    if status is None:
        raise ParseProblem("bad_status", "不是有效的数据状态，请填写“初步”“终值”或“修订”（可不填，默认为初步）。",
                           "is not a valid status; write provisional (初步), final (终值) or revised (修订), "
                           "or leave it empty (provisional).")
    return status


def default_basis(target: Target) -> str:
    """Year to date for cumulative targets, this month for levels, budgets and milestones."""
    return "ytd" if target.kind == Kind.CUMULATIVE else "month"


def is_total_label(text: str | None) -> bool:
    """Whether a county/target cell labels a 合计/总计/小计 row (but not 全州合计, the prefecture's own row)."""
    if not text:
        return False
    key = match_key(text)
    if key in PREFECTURE_TOTALS:
        return False
    return key in TOTAL_KEYS or key.endswith(("合计", "小计", "总计"))
