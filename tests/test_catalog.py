"""The shipped catalog documents the plan: counts per program, real values and wording checked against it."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from expectations.models import SLUG, Catalog, Comparator, Direction, Kind, Scope

SEED_DIR = Path(__file__).resolve().parents[2] / "shared" / "seed"
PLAN_TITLE = "楚雄州2021年8项民生工程和10件惠民实事工作方案"
ALL_COUNTIES = ["532301", "532322", "532323", "532324", "532325",
                "532326", "532327", "532328", "532329", "532331"]
BIG_TWO = {"532301", "532331"}  # 楚雄市 and 禄丰 have their own rubbish and sewage targets

# Pinned: the catalog's size per program. A change here is a change of the plan as data; update it on purpose.
TARGETS_PER_PROGRAM = {
    "income": 18, "education": 18, "employment": 4, "social_security": 4, "health": 50, "ecology": 26,
    "ethnic_unity": 2, "elderly_childcare": 17,
    "transport": 6, "dropout": 1, "medical_care": 11, "culture": 6, "funeral": 4, "consumer": 4,
    "old_compounds": 4, "legal_services": 10, "vulnerable_groups": 5, "digital": 4,
}

# Targets whose name_zh paraphrases the plan (its sentence does not name them on their own): each phrase
# must be in the name and in the plan, and one of them in the target's source_text.
PARAPHRASED = {
    "income.vegetable_area": ["蔬菜"],
    "income.quality_fruit_area": ["优质水果"],
    "income.rapeseed_area": ["油菜"],
    "income.cultivated_mushroom_area": ["人工食用菌"],
    "income.konjac_area": ["魔芋"],
    "income.medicinal_herb_area": ["中药材"],
    "income.flower_area": ["花卉"],
    "education.vocational_teachers_trained": ["职教教师", "培训"],
    "education.sports_instructors_level2_trained": ["二级", "社会体育指导员"],
    "education.sports_instructors_level3_trained": ["三级", "社会体育指导员"],
    "health.county_infectious_disease_departments": ["县市人民医院", "传染病科"],
    "health.county_cdc_labs_upgraded": ["县市疾控中心实验室", "改造提升"],
    "health.prefecture_hospital_labs_upgrade": ["州人民医院", "州中医医院", "改造提升"],
    "health.county_hospital_labs_upgraded": ["县市人民医院实验室", "改造提升"],
    "health.hypertension_management_rate": ["高血压", "管理率"],
    "health.national_hygienic_towns_share": ["乡镇", "国家卫生乡镇标准"],
    "health.county_tcm_hospital_capability": ["县级中医医院综合服务能力"],
    "health.tcm_preventive_department_rate": ["县级公立中医医院", "设置治未病科"],
    "health.first_aid_training_share": ["应急救护知识普及人数", "总人口"],
    "ecology.rural_waste_treatment_rate_towns": ["乡镇镇区", "生活垃圾无害化处理率"],
    "ecology.rural_waste_treatment_rate_villages": ["自然村(组)", "生活垃圾无害化处理率"],
    "ecology.river_governance_investment": ["中小河流治理工程", "完成投资"],
    "elderly_childcare.care_homes_medical_services_rate": ["养老机构", "医疗卫生服务"],
    "elderly_childcare.integrated_care_counties_share": ["县市", "医养结合机构"],
    "elderly_childcare.elderly_facilities_investment": ["城乡养老服务设施", "投资"],
    "elderly_childcare.expansion_projects_investment": ["改扩建项目", "投资"],
    "elderly_childcare.community_facilities_investment": ["城乡社区居家养老服务设施", "投资"],
    "elderly_childcare.upgrade_projects_investment": ["提质改造项目", "投资"],
    "elderly_childcare.fire_safety_projects_investment": ["消防改造项目", "投资"],
    "elderly_childcare.nursing_bed_share": ["县级供养服务机构护理型床位", "占比"],
    "transport.mouding_yuanmou_expressway_start": ["牟定至元谋", "开工建设"],
    "transport.yaoan_nanhua_expressway_start": ["姚安至南华", "开工建设"],
    "transport.chuxiong_jingdong_expressway_start": ["楚雄至景东高速公路", "开工建设"],
    "dropout.six_mechanisms": ["控辍保学", "六个机制"],
    "medical_care.stroke_centre_acceptance_rate": ["县级公立综合医院卒中中心", "通过省级验收"],
    "medical_care.trauma_centre_acceptance_rate": ["县级公立综合医院创伤中心", "通过省级验收"],
    "funeral.complex_building_investment": ["武定县殡仪馆", "综合楼"],
    "funeral.columbarium_investment": ["武定县殡仪馆", "骨灰堂"],
    "funeral.cremator_investment": ["武定县殡仪馆", "火化炉"],
    "old_compounds.buildings_renovated": ["城镇老旧小区", "栋"],
    "old_compounds.households_renovated": ["城镇老旧小区", "户"],
    "old_compounds.floor_area_renovated": ["城镇老旧小区", "面积"],
    "vulnerable_groups.destitute_care_standard": ["特困人员", "照料护理标准"],
    "vulnerable_groups.urban_subsistence_allowance_standard": ["低保保障标准"],
    "vulnerable_groups.rural_subsistence_allowance_standard": ["低保保障标准"],
}
# Figures the plan writes in words rather than digits.
FIGURES_IN_WORDS = {"education.fitness_brand_events": "五项"}

# id → (comparator, value in canonical units, unit, kind, first lead department)
SPOT_CHECKS = {
    "employment.urban_unemployment_rate": ("<=", "5.5", "percent", "level", "hrss"),
    "ecology.air_quality_good_days_ratio": (">=", "97.2", "percent", "level", "ecology_env"),
    "employment.new_urban_jobs": (">=", "40000", "person", "cumulative", "hrss"),
    "health.maternal_mortality_rate": ("<=", "16", "per_100k", "level", "health"),
    "ecology.river_governance_investment": (">=", "290000000", "yuan", "cumulative", "water"),
    "health.infant_mortality_rate": ("<=", "5", "permille", "level", "health"),
    "health.under5_mortality_rate": ("<=", "7", "permille", "level", "health"),
    "ecology.pm25_concentration": ("<", "35", "ug_m3", "level", "ecology_env"),
    "income.employment_difficulty_persons_employed": (">=", "13900", "person", "cumulative", "hrss"),
    "income.employment_difficulty_persons_employed_2": (">=", "7800", "person", "cumulative", "hrss"),
    "income.grain_sown_area": ("~", "3600000", "mu", "level", "agriculture"),
    "income.rice_sown_area": ("~", "850000", "mu", "level", "agriculture"),
    "income.rural_labour_trained": (">=", "180000", "person_time", "cumulative", "hrss"),
    "income.meat_output": (">=", "385000", "tonne", "cumulative", "agriculture"),
    "health.hiv_tests": (">=", "1000000", "item", "cumulative", "health"),
    "medical_care.blood_donation_volume": (">=", "5500000", "ml", "cumulative", "health"),
    "transport.expressway_investment": (">=", "15000000000", "yuan", "cumulative", "transport"),
    "digital.interprovincial_bandwidth": (">=", "2400000", "mbps", "level", "industry_it"),
    "digital.base_stations_5g": (">", "2000", "item", "level", "industry_it"),
    "digital.village_broadband_capacity": (">=", "200", "mbps", "level", "industry_it"),
    "elderly_childcare.elderly_facilities_investment": (">=", "24180000", "yuan", "cumulative",
                                                        "civil_affairs"),
    "old_compounds.compounds_renovated": (">=", "300", "item", "cumulative", "housing"),
    "old_compounds.buildings_renovated": (">=", "800", "item", "cumulative", "housing"),
    "old_compounds.households_renovated": (">=", "10000", "household", "cumulative", "housing"),
    "old_compounds.floor_area_renovated": (">=", "1000000", "m2", "cumulative", "housing"),
    "employment.daimian_fubu_startups": (">=", "2381", "household", "cumulative", "hrss"),
    "social_security.medical_insured": (">=", "2515000", "person", "level", "hrss"),
    "ecology.soil_erosion_area_treated": (">=", "350", "km2", "cumulative", "water"),
    "ecology.river_length_governed": (">=", "120.26", "km", "cumulative", "water"),
    "ecology.contaminated_farmland_safe_use_rate": ("~", "90", "percent", "level", "ecology_env"),
    "health.first_aid_training_share": (">=", "0.5", "percent", "cumulative", "red_cross"),
    "ecology.ecological_redline_share": (">=", "26.18", "percent", "level", "ecology_env"),
}

MANDATORY_DEPARTMENTS = {
    "hrss": "州人力资源和社会保障局", "agriculture": "州农业农村局", "finance": "州财政局",
    "education": "州教育体育局", "health": "州卫生健康委", "ecology_env": "州生态环境局",
    "forestry": "州林草局",
    "housing": "州住房城乡建设局", "water": "州水务局", "development_reform": "州发展改革委",
    "civil_affairs": "州民政局", "transport": "州交通运输局",
    "culture_tourism": "州文化和旅游局", "market_regulation": "州市场监管局", "justice": "州司法局",
    "industry_it": "州工业和信息化局", "ethnic_religious": "州民族宗教委", "red_cross": "州红十字会",
    "cyberspace": "州委网信办", "medical_insurance": "州医保局", "disabled_persons": "州残联",
    "poverty_alleviation": "州扶贫办", "supervision_office": "州政府督查室",
}


@pytest.fixture(scope="module")
def plan_text() -> str:
    files = sorted(SEED_DIR.glob("*.txt")) if SEED_DIR.is_dir() else []
    for path in files:
        text = path.read_text(encoding="utf-8")
        if PLAN_TITLE in text:
            return text
    pytest.skip(f"the plan text is not available under {SEED_DIR} (a checkout without /work/shared)")


def _written_figure(catalog: Catalog, unit_written: str, unit: str, value: Decimal) -> str:
    """A canonical value back in the plan's written unit, as plain text: 40000 person in 万人 → '4'."""
    factor = catalog.conversion_factor(unit_written, unit)
    assert factor is not None
    text = format(value / factor, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def test_targets_per_program_are_pinned(catalog: Catalog) -> None:
    counts = Counter(t.program for t in catalog.targets)
    assert dict(counts) == TARGETS_PER_PROGRAM
    assert sum(counts.values()) == 194


def test_programs_are_the_plans_8_projects_and_10_actions(catalog: Catalog) -> None:
    groups = Counter(p.group for p in catalog.programs)
    assert groups == {"projects": 8, "actions": 10}
    expected = [f"一(一){i}" for i in range(1, 9)] + [f"一(二){i}" for i in range(1, 11)]
    assert [p.ref for p in catalog.programs] == expected
    assert {t.program for t in catalog.targets} == {p.id for p in catalog.programs}


def test_targets_come_in_program_order(catalog: Catalog) -> None:
    order = [p.id for p in catalog.programs]
    seen = [t.program for t in catalog.targets]
    assert seen == sorted(seen, key=order.index)


def test_every_target_ref_sits_under_its_program(catalog: Catalog) -> None:
    refs = {p.id: p.ref for p in catalog.programs}
    for t in catalog.targets:
        rest = t.ref.removeprefix(refs[t.program])
        assert rest != t.ref and not rest[:1].isdigit(), f"{t.id}: ref {t.ref} is not under {refs[t.program]}"


def test_every_lead_department_has_a_drop_folder(catalog: Catalog) -> None:
    for slug in catalog.lead_department_slugs:
        department = catalog.department(slug)
        assert SLUG.match(department.slug)
        assert department.kind in {"department", "company", "county_government"}, slug


@pytest.mark.parametrize(("slug", "name_zh"), sorted(MANDATORY_DEPARTMENTS.items()),
                         ids=sorted(MANDATORY_DEPARTMENTS))
def test_mandatory_departments(catalog: Catalog, slug: str, name_zh: str) -> None:
    assert catalog.department(slug).name_zh == name_zh


def test_departments_carry_aliases_and_calendar_recipients(catalog: Catalog) -> None:
    assert "州爱卫办" in catalog.department("health").aliases
    assert {"人社局", "州人社局"} <= set(catalog.department("hrss").aliases)
    assert catalog.department("data_team").kind == "group"
    assert catalog.department("telecom").kind == "company"
    governments = [d for d in catalog.departments if d.kind == "county_government"]
    assert sorted(d.county or "" for d in governments) == sorted(ALL_COUNTIES)
    slugs = {d.slug for d in catalog.departments}
    for t in catalog.targets:
        assert set(t.responsible_units) <= slugs
        assert not any(g in slugs for g in t.responsible_groups)


@pytest.mark.parametrize("target_id", sorted(SPOT_CHECKS), ids=sorted(SPOT_CHECKS))
def test_spot_check_against_the_plan(catalog: Catalog, target_id: str) -> None:
    comparator, value, unit, kind, lead = SPOT_CHECKS[target_id]
    t = catalog.target(target_id)
    assert (t.comparator.value, t.value, t.unit, t.kind.value, t.lead_department) == (
        comparator, Decimal(value), unit, kind, lead)


def test_air_quality_is_a_level_per_county(catalog: Catalog) -> None:
    for target_id in ("ecology.air_quality_good_days_ratio", "ecology.pm25_concentration"):
        t = catalog.target(target_id)
        assert t.scope == Scope.COUNTIES and t.counties == ALL_COUNTIES and not t.additive
        assert t.kind == Kind.LEVEL


def test_approximate_targets_have_a_tolerance(catalog: Catalog) -> None:
    assert catalog.target("income.grain_sown_area").tolerance == Decimal(72000)
    assert catalog.target("income.rice_sown_area").tolerance == Decimal(17000)
    assert catalog.target("ecology.contaminated_farmland_safe_use_rate").tolerance == Decimal(2)
    for t in catalog.targets:
        if t.comparator == Comparator.APPROX:
            assert t.direction == Direction.BAND and "±" in t.notes


@pytest.mark.parametrize(("target_id", "big", "other"), [
    ("ecology.rural_waste_treatment_rate_towns", "10", "8"),
    ("ecology.rural_waste_treatment_rate_villages", "15", "10"),
    ("ecology.town_sewage_coverage", "100", "20"),
], ids=["waste_towns", "waste_villages", "sewage_towns"])
def test_county_values(catalog: Catalog, target_id: str, big: str, other: str) -> None:
    t = catalog.target(target_id)
    assert t.scope == Scope.COUNTIES and t.value is None
    assert sorted(t.county_values) == sorted(ALL_COUNTIES)
    for code in ALL_COUNTIES:
        assert t.target_for(code) == Decimal(big if code in BIG_TWO else other), code


def test_elderly_investment_parts_add_up(catalog: Catalog) -> None:
    parts = ["expansion_projects_investment", "community_facilities_investment",
             "upgrade_projects_investment", "fire_safety_projects_investment"]
    total = sum((catalog.target(f"elderly_childcare.{p}").value or Decimal(0) for p in parts), Decimal(0))
    whole = catalog.target("elderly_childcare.elderly_facilities_investment").value
    assert total == whole == Decimal(24180000)
    funeral = ["complex_building_investment", "columbarium_investment", "cremator_investment"]
    assert sum((catalog.target(f"funeral.{p}").value or Decimal(0) for p in funeral), Decimal(0)) == \
        catalog.target("funeral.wuding_funeral_home_investment").value


def test_three_90_percent_targets(catalog: Catalog) -> None:
    ids = ["health.hiv_detection_rate", "health.hiv_antiviral_treatment_rate",
           "health.hiv_treatment_success_rate"]
    assert [(catalog.target(i).comparator, catalog.target(i).value) for i in ids] == [(Comparator.GE, 90)] * 3


def test_directional_targets_have_no_value(catalog: Catalog) -> None:
    for target_id in ("health.grassroots_visit_rate_county", "health.life_expectancy"):
        t = catalog.target(target_id)
        assert t.comparator == Comparator.INCREASE and t.value is None and t.direction == Direction.HIGHER


def test_ambiguous_employment_difficulty_targets(catalog: Catalog) -> None:
    first = catalog.target("income.employment_difficulty_persons_employed")
    second = catalog.target("income.employment_difficulty_persons_employed_2")
    for t in (first, second):
        assert "twice" in t.notes and "失业人员再就业" in t.notes
    assert catalog.find_target("就业困难人员实现就业") is None


def test_milestones(catalog: Catalog) -> None:
    milestones = {t.id: t for t in catalog.targets if t.kind == Kind.MILESTONE}
    assert {"education.ethnic_middle_school_relocation", "education.lufeng_second_high_school_start",
            "transport.yuxi_chuxiong_expressway_shuangbai_section",
            "health.health_industry_plan"} <= set(milestones)
    for t in milestones.values():
        assert t.comparator == Comparator.DONE and t.value is None and t.direction == Direction.DONE
        on_the_day = t.id == "consumer.consumer_rights_day_campaign"  # 3·15 is the date
        expected = dt.date(2021, 3, 15) if on_the_day else dt.date(2021, 12, 31)
        assert t.deadline == expected, t.id


def test_kinds_and_additivity_are_consistent(catalog: Catalog) -> None:
    dimension = {u.id: u.dimension for u in catalog.canonical_units}
    for t in catalog.targets:
        if dimension[t.unit] == "ratio":
            assert not t.additive, t.id
            assert t.bounds.min == 0 and t.bounds.max in {100, 1000, 100000} or t.bounds.min == -100, t.id
        if t.kind == Kind.CUMULATIVE and dimension[t.unit] != "ratio":
            assert t.additive, t.id
        assert t.kind != Kind.BUDGET, "the plan sets no allowance to use up"
        for v in [t.value, *t.county_values.values()]:
            if v is not None and t.bounds.max is not None:
                assert t.bounds.max >= v


def test_a_copy_with_other_targets_is_indexed_afresh(catalog: Catalog) -> None:
    jobs = catalog.target("employment.new_urban_jobs")
    renamed = jobs.model_copy(update={"id": "employment.jobs", "name_zh": "新就业", "aliases": []})
    smaller = catalog.model_copy(update={"targets": [renamed]})
    assert smaller.target("employment.jobs") is renamed and smaller.find_target("新就业") is renamed
    assert smaller.find_target("城镇新增就业") is None
    assert catalog.find_target("城镇新增就业") is jobs


def test_aliases_resolve(catalog: Catalog) -> None:
    assert catalog.find_target("失业率") == catalog.target("employment.urban_unemployment_rate")
    assert catalog.find_target("新增就业") == catalog.target("employment.new_urban_jobs")
    assert catalog.find_target(" PM2.5浓度 ") == catalog.target("ecology.pm25_concentration")
    assert catalog.find_target("城镇新增就业") == catalog.target("employment.new_urban_jobs")


@pytest.mark.parametrize(("written", "canonical", "factor"), [
    ("万人", "person", "10000"), ("亿元", "yuan", "100000000"), ("‰", "percent", "0.1"),
    ("/10万", "permille", "0.01"), ("平方公里", "mu", "1500"), ("T", "mbps", "1000000"),
    ("万人份", "item", "10000"), ("μg/m³", "ug_m3", "1"), ("人(户)", "household", "1"),
], ids=["wan_persons", "yi_yuan", "permille_in_percent", "per_100k_in_permille", "km2_in_mu", "tbps",
        "wan_test_kits", "micrograms", "person_household"])
def test_unit_conversions(catalog: Catalog, written: str, canonical: str, factor: str) -> None:
    assert catalog.conversion_factor(written, canonical) == Decimal(factor)


def test_inexact_or_foreign_conversions_are_refused(catalog: Catalog) -> None:
    assert catalog.conversion_factor("亩", "m2") is None  # 666.66… m²: refuse rather than round
    assert catalog.conversion_factor("万人", "yuan") is None
    assert catalog.conversion_factor("furlong", "km") is None


def test_source_text_is_verbatim_and_carries_the_figure(catalog: Catalog, plan_text: str) -> None:
    for t in catalog.targets:
        assert t.source_text and t.source_text in plan_text, t.id
        values = [t.value] if t.value is not None else []
        for v in [*values, *t.county_values.values()]:
            figure = FIGURES_IN_WORDS.get(t.id) or _written_figure(catalog, t.unit_written, t.unit, v)
            assert figure in t.source_text, f"{t.id}: {figure} not in {t.source_text!r}"


def test_names_are_the_plans_wording(catalog: Catalog, plan_text: str) -> None:
    for t in catalog.targets:
        if t.id in PARAPHRASED:
            phrases = PARAPHRASED[t.id]
            assert all(p in t.name_zh and p in plan_text for p in phrases), t.id
            assert any(p in t.source_text for p in phrases), t.id
        else:
            assert t.name_zh in t.source_text, f"{t.id}: {t.name_zh!r} is not the plan's wording"
    assert set(PARAPHRASED) <= {t.id for t in catalog.targets}


def test_department_names_occur_in_the_plan(catalog: Catalog, plan_text: str) -> None:
    internal = {"supervision_office", "data_team", "government_office"}
    for d in catalog.departments:
        if d.kind != "county_government" and d.slug not in internal:
            assert d.name_zh in plan_text, d.slug
