"""A small, self-contained catalog of a few real targets of the 2021 plan, for demos and tests.

It does not read the YAML catalog, so report and template tests keep working while the full catalog grows; the
wording, units and values are the plan's own.
"""

from __future__ import annotations

from typing import Any

from expectations.models import Catalog

_COUNTIES = [
    ("532300", "楚雄州", "Chuxiong Prefecture", "prefecture", ["全州", "楚雄彝族自治州"]),
    ("532301", "楚雄市", "Chuxiong City", "county", ["楚雄"]),
    ("532322", "双柏县", "Shuangbai County", "county", ["双柏"]),
    ("532323", "牟定县", "Mouding County", "county", ["牟定"]),
    ("532324", "南华县", "Nanhua County", "county", ["南华"]),
    ("532325", "姚安县", "Yao'an County", "county", ["姚安"]),
    ("532326", "大姚县", "Dayao County", "county", ["大姚"]),
    ("532327", "永仁县", "Yongren County", "county", ["永仁"]),
    ("532328", "元谋县", "Yuanmou County", "county", ["元谋"]),
    ("532329", "武定县", "Wuding County", "county", ["武定"]),
    ("532331", "禄丰市", "Lufeng City", "county", ["禄丰", "禄丰县"]),
]
_DEPARTMENTS = [
    ("hrss", "州人力资源和社会保障局", "Prefecture Human Resources and Social Security Bureau"),
    ("housing", "州住房城乡建设局", "Prefecture Housing and Urban-Rural Development Bureau"),
    ("health", "州卫生健康委", "Prefecture Health Commission"),
    ("ecology_env", "州生态环境局", "Prefecture Ecology and Environment Bureau"),
    ("education", "州教育体育局", "Prefecture Education and Sports Bureau"),
    ("supervision_office", "州政府督查室", "Prefecture Government Supervision Office"),
    ("data_team", "州民生数据组", "Livelihood data team"),
]
_UNITS = [
    ("人", "person", 1), ("万人", "person", 10000), ("人次", "person_time", 1),
    ("万人次", "person_time", 10000), ("个", "item", 1), ("户", "household", 1), ("%", "percent", 1),
    ("‰", "permille", 1), ("/10万", "per_100k", 1),
]
_CANONICAL = [
    ("person", "人", "persons", "persons"), ("person_time", "人次", "person-times", "person_times"),
    ("item", "个", "items", "count"), ("household", "户", "households", "households"),
    ("percent", "百分比", "percent", "ratio"),
    ("permille", "千分比", "per mille", "ratio"), ("per_100k", "十万分比", "per 100,000", "ratio"),
]

_PROGRAM_NAMES = {"income": "城乡居民增收工程", "housing": "安居工程", "employment": "就业创业促进工程",
                  "health": "健康楚雄建设工程", "ecology": "生态文明示范工程",
                  "education": "教育体育质量提升工程"}


def _target(tid: str, name_zh: str, name_en: str, ref: str, lead: str, unit_written: str, unit: str,
            comparator: str, value: Any, direction: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"id": tid, "name_zh": name_zh, "name_en": name_en, "program": tid.split(".")[0], "ref": ref,
            "lead_departments": [lead], "unit_written": unit_written, "unit": unit, "comparator": comparator,
            "value": value, "direction": direction, "kind": kind, **extra}


_TARGETS = [
    _target("income.urban_reemployment", "城镇失业人员再就业", "Re-employment of the urban unemployed",
            "一(一)1(1)①", "hrss", "万人", "person", ">=", "13900", "higher_is_better", "cumulative",
            scope="counties", additive=True, bounds={"min": "0"}),
    _target("income.rural_labour_training", "培训农村劳动力", "Rural labour trained", "一(一)1(2)②", "hrss",
            "万人次", "person_time", ">=", "180000", "higher_is_better", "cumulative", scope="counties",
            additive=True, bounds={"min": "0"}),
    _target("income.rural_labour_transfer", "新增农村劳动力转移就业", "New rural labour transfer employment",
            "一(一)1(2)②", "hrss", "万人", "person", ">=", "50000", "higher_is_better", "cumulative",
            scope="counties", additive=True, bounds={"min": "0"}),
    _target("housing.old_community_renovation", "改造城镇老旧小区",
            "Old urban residential communities renovated", "一(二)3", "housing", "个", "item", ">=", "300",
            "higher_is_better", "cumulative", scope="counties", additive=True, bounds={"min": "0"},
            responsible_units=["hrss"]),
    _target("employment.urban_unemployment_rate", "城镇调查失业率", "Surveyed urban unemployment rate",
            "一(一)3", "hrss", "%", "percent", "<=", "5.5", "lower_is_better", "level",
            bounds={"min": "0", "max": "100"}),
    _target("health.maternal_mortality", "孕产妇死亡率", "Maternal mortality ratio", "一(一)5(1)", "health",
            "/10万", "per_100k", "<=", "16", "lower_is_better", "level",
            bounds={"min": "0", "max": "100000"}),
    _target("health.infant_mortality", "婴儿死亡率", "Infant mortality rate", "一(一)5(1)", "health", "‰",
            "permille", "<=", "5", "lower_is_better", "level", bounds={"min": "0", "max": "1000"}),
    _target("ecology.good_air_days_ratio", "县城环境空气质量优良天数比率",
            "Share of good air-quality days in county towns",
            "一(一)6(1)", "ecology_env", "%", "percent", ">=", "97.2", "higher_is_better", "budget",
            scope="counties", bounds={"min": "0", "max": "100"}),
    _target("housing.rural_dilapidated_houses", "农村危房改造", "Rural dilapidated houses renovated",
            "一(二)4",
            "housing", "户", "household", ">=", "1200", "higher_is_better", "cumulative", scope="counties",
            additive=True, bounds={"min": "0"}),
    _target("education.preschool_coverage", "学前教育资源全覆盖", "Pre-school provision in every township",
            "一(一)2(1)", "education", "个", "item", "done", None, "done_is_better", "milestone",
            deadline="2021-12-31"),
]


def demo_catalog() -> Catalog:
    """Ten targets of the plan across five lead departments, with the prefecture's counties and units."""
    programs = ["income", "education", "employment", "health", "ecology", "housing"]
    units = [{"symbol": s, "canonical": c, "factor": str(f)} for s, c, f in _UNITS]
    return Catalog.model_validate({
        "plan_zh": "楚雄州2021年8项民生工程和10件惠民实事工作方案",
        "plan_en": "Chuxiong Prefecture 2021 work plan for 8 livelihood projects and 10 practical actions",
        "year": 2021,
        "prefecture_code": "532300",
        "programs": [{"id": p, "name_zh": _PROGRAM_NAMES[p], "name_en": p, "ref": "一", "group": "projects"}
                     for p in programs],
        "departments": [{"slug": s, "name_zh": zh, "name_en": en} for s, zh, en in _DEPARTMENTS],
        "counties": [{"code": c, "name_zh": zh, "name_en": en, "kind": k, "aliases": a}
                     for c, zh, en, k, a in _COUNTIES],
        "canonical_units": [{"id": i, "name_zh": zh, "name_en": en, "dimension": d}
                            for i, zh, en, d in _CANONICAL],
        "units": units,
        "calendar": {"year": 2021, "supervision_office": "supervision_office", "data_team": "data_team",
                     "first_period": "2021-01"},
        "targets": _TARGETS,
    })
