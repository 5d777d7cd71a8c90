"""Alert candidates, routing and lifecycle: open once, update silently, escalate, resolve, idempotent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expectations.loader import load_catalog
from expectations.models import Catalog
from tasks.alerts import (
    AlertActions,
    AlertCandidate,
    OpenAlert,
    alert_candidates,
    apply_actions,
    fingerprint,
    plan_alert_actions,
    recipients_for,
    render,
    urls_for,
)
from tasks.anomalies import anomalies
from tasks.evaluate import target_status
from tasks.lag import delivery_lag

CATALOG_DIR = Path(__file__).parent / "cases" / "good_catalog_small"
AS_OF = dt.date(2021, 7, 10)
PREFECTURE = "532300"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG_DIR)


def observations(rows: list[tuple[str, str, str, float, str]]) -> pd.DataFrame:
    return pd.DataFrame([{"target_id": t, "county_code": c, "period": p, "value": Decimal(str(v)), "basis": b,
                          "source_sha256": "ef" * 32, "source_name": "hrss.xlsx", "department": "hrss",
                          "recorded_at": pd.Timestamp("2021-07-03")} for t, c, p, v, b in rows])


def tick(catalog: Catalog, obs: pd.DataFrame, as_of: dt.date,
         lag: pd.DataFrame | None = None) -> list[AlertCandidate]:
    status = target_status(obs, catalog, as_of)
    return alert_candidates(status, anomalies(obs, catalog, as_of), lag, catalog, as_of)


def test_a_valid_file_that_misses_targets_raises_exactly_those_alerts(catalog: Catalog) -> None:
    rows: list[tuple[str, str, str, float, str]] = [
        ("employment.new_urban_jobs", PREFECTURE, f"2021-{m:02d}", 1200 * m, "ytd") for m in range(1, 7)]
    rows += [("employment.urban_unemployment_rate", PREFECTURE, f"2021-{m:02d}", v, "month")
             for m, v in enumerate([5.6, 5.7, 5.8, 5.7, 5.9, 5.8], 1)]
    rows += [("housing.old_communities", PREFECTURE, "2021-06", 160, "ytd")]
    cands = tick(catalog, observations(rows), AS_OF)
    got = sorted((c.alert_class, c.kind, c.target_id, c.severity, c.recipients) for c in cands)
    assert got == [
        ("progress_lag", "behind_schedule", "employment.new_urban_jobs", "critical", ("supervision_office",)),
        ("target_miss", "target_miss", "employment.urban_unemployment_rate", "critical", ("supervision_office",)),
    ]
    jobs = next(c for c in cands if c.target_id == "employment.new_urban_jobs")
    assert "牵头部门：州人力资源社会保障局" in jobs.message_zh and "7200人" in jobs.message_zh
    assert jobs.payload["completion_pct"] == "18.00" and jobs.payload["light"] == "red"
    assert jobs.fingerprint == fingerprint("behind_schedule", "employment.new_urban_jobs", PREFECTURE, "2021")
    state = apply_actions([], plan_alert_actions([], cands, AS_OF), AS_OF)
    again = plan_alert_actions(state, tick(catalog, observations(rows), AS_OF), AS_OF)
    assert len(again) == 0  # re-running the tick raises nothing new


def test_anomalies_route_by_class(catalog: Catalog) -> None:
    rows: list[tuple[str, str, str, float, str]] = [
        ("employment.new_urban_jobs", PREFECTURE, f"2021-{m:02d}", v, "ytd")
        for m, v in enumerate([3000, 7000, 6500], 1)]
    rows += [("employment.urban_unemployment_rate", PREFECTURE, f"2021-{m:02d}", v, "month")
             for m, v in enumerate([5.1, 5.2, 5.0, 5.3, 5.2, 8.9], 1)]
    found = anomalies(observations(rows), catalog, AS_OF)
    cands = alert_candidates(None, found, None, catalog, AS_OF)
    by_kind = {c.kind: c for c in cands}
    assert by_kind["ytd_decrease"].alert_class == "data_quality"
    assert by_kind["ytd_decrease"].recipients == ("data_team",)
    assert by_kind["jump"].alert_class == "anomaly"
    assert by_kind["jump"].recipients == ("hrss", "data_team")
    assert by_kind["jump"].period == "2021-06" and by_kind["jump"].department == "hrss"


def test_a_lasting_peer_outlier_is_one_alert_for_the_series(catalog: Catalog) -> None:
    air = "ecology.air_quality_good_days_ratio"
    base = [96.5, 97.0, 97.5, 96.8, 97.2, 96.9, 97.1, 97.0, 97.3, 96.7]

    def month(m: int) -> list[tuple[str, str, str, float, str]]:
        return [(air, code, f"2021-{m:02d}", 80.0 if i == 7 else v, "ytd")
                for i, (code, v) in enumerate(zip(catalog.county_codes, base, strict=True))]

    may = alert_candidates(None, anomalies(observations(month(5)), catalog, AS_OF), None, catalog, AS_OF)
    june = alert_candidates(None, anomalies(observations(month(5) + month(6)), catalog, AS_OF), None, catalog,
                            AS_OF)
    assert [(c.kind, c.period) for c in may] == [("peer_outlier", "2021-05")]
    assert [(c.kind, c.period) for c in june] == [("peer_outlier", "2021-06")]
    assert may[0].fingerprint == june[0].fingerprint  # June updates May's alert instead of opening another
    state = apply_actions([], plan_alert_actions([], may, AS_OF), AS_OF)
    assert [a.action for a in plan_alert_actions(state, june, AS_OF).all()] == ["update"]


def test_a_doubtful_value_is_not_judged_against_its_target(catalog: Catalog) -> None:
    """124/10万 (12.4 written ×10) after months of 12: a unit slip for the data team, not a red target miss
    for the supervision office; a believable 16.5 is a miss."""
    mmr = "health.maternal_mortality_rate"
    rows = [(mmr, PREFECTURE, f"2021-{m:02d}", v, "month") for m, v in enumerate([12, 12.5, 11.8, 12.2, 124], 1)]
    cands = tick(catalog, observations(rows), AS_OF)
    assert [(c.alert_class, c.kind, c.period) for c in cands] == [("data_quality", "unit_slip", "2021-05")]
    fixed = tick(catalog, observations([*rows[:4], (mmr, PREFECTURE, "2021-05", 16.5, "month")]), AS_OF)
    assert [(c.alert_class, c.kind) for c in fixed] == [("target_miss", "target_miss")]


def test_delivery_lag_routes_to_department_then_supervision_office(catalog: Catalog) -> None:
    submitted = pd.DataFrame(columns=["department", "target_id", "period", "first_recorded_at"])
    lag = delivery_lag(catalog.model_copy(update={"calendar": catalog.calendar.model_copy(
        update={"first_period": "2021-05", "last_period": "2021-06"})}), submitted, dt.date(2021, 7, 20))
    cands = alert_candidates(None, None, lag[lag["department"] == "hrss"], catalog, dt.date(2021, 7, 20))
    may, june = sorted(cands, key=lambda c: c.period or "")
    assert may.recipients == ("hrss",) and may.escalation_level == 0 and may.severity == "warning"
    assert june.recipients == ("hrss", "supervision_office") and june.escalation_level == 1
    assert "州人力资源社会保障局" in june.title_zh and "缺2项" in june.title_zh
    assert "提请州政府督查室督办" in june.message_zh and "城镇新增就业" in june.message_zh
    assert may.fingerprint != june.fingerprint
    assert june.fingerprint == fingerprint("missing_delivery", "department:hrss", None, "2021-06")


def test_year_end_shortfall_is_a_target_miss(catalog: Catalog) -> None:
    obs = observations([("employment.new_urban_jobs", PREFECTURE, "2021-12", 39000, "ytd")])
    cands = [c for c in tick(catalog, obs, dt.date(2022, 1, 10)) if c.target_id == "employment.new_urban_jobs"]
    assert [(c.alert_class, c.kind, c.escalation_level) for c in cands] == [("target_miss", "target_miss", 2)]
    assert "全年目标未完成" in cands[0].title_zh and "39000人" in cands[0].message_zh
    november = observations([("employment.new_urban_jobs", PREFECTURE, "2021-11", 30000, "ytd")])
    behind = [c for c in tick(catalog, november, dt.date(2021, 12, 10)) if c.target_id == cands[0].target_id]
    state = apply_actions([], plan_alert_actions([], behind, dt.date(2021, 12, 10)), dt.date(2021, 12, 10))
    year_end = plan_alert_actions(state, cands, dt.date(2022, 1, 10))
    assert [a.action for a in year_end.all()] == ["escalate"]  # the same alert, escalated; nothing resolved


@pytest.mark.parametrize(
    ("alert_class", "level", "expected"),
    [("data_quality", 0, ("data_team",)), ("delivery_lag", 0, ("hrss",)),
     ("delivery_lag", 1, ("hrss", "supervision_office")), ("progress_lag", 0, ("supervision_office",)),
     ("target_miss", 1, ("supervision_office",)), ("anomaly", 0, ("hrss", "data_team"))],
    ids=["data-quality", "lag-first", "lag-escalated", "progress", "target-miss", "anomaly"],
)
def test_routing_by_class(catalog: Catalog, alert_class: str, level: int, expected: tuple[str, ...]) -> None:
    assert recipients_for(alert_class, "hrss", level, catalog) == expected


def test_urls_per_recipient_and_everyone() -> None:
    urls = {"hrss": ["dingtalk://token1/", "json://h/a"], "data_team": ["json://h/a"], "*": ["mailto://u:p@x.org"]}
    got = urls_for(("hrss", "data_team"), urls)
    assert got == {"dingtalk://token1/": ("hrss",), "json://h/a": ("hrss", "data_team"),
                   "mailto://u:p@x.org": ("hrss", "data_team")}


def candidate(n: int, level: int = 0, note: str = "", alert_class: str = "anomaly") -> AlertCandidate:
    fp = fingerprint("jump", f"t.{n}", PREFECTURE, "2021-06")
    return AlertCandidate(fp, alert_class, "jump", "warning", f"t.{n}", "hrss", PREFECTURE, "2021-06",
                          ("hrss", "data_team") + (("supervision_office",) if level else ()), level,
                          f"指标{n}数据异常", f"指标{n}为{100 + n}{note}", f"target {n}", {"value": str(100 + n)})


def test_lifecycle_open_update_escalate_resolve() -> None:
    first = plan_alert_actions([], [candidate(1), candidate(2)], AS_OF)
    assert [a.action for a in first.notifying] == ["open", "open"]
    state = apply_actions([], first, AS_OF)
    assert all(a.opened_on == AS_OF for a in state)
    later = dt.date(2021, 8, 10)
    second = plan_alert_actions(state, [candidate(1, note="（已更新）"), candidate(2, level=1)], later)
    assert [a.fingerprint for a in second.update] == [candidate(1).fingerprint]
    assert not any(a.notify for a in second.update)
    assert [(a.fingerprint, a.previous_level) for a in second.escalate] == [(candidate(2).fingerprint, 0)]
    state = apply_actions(state, second, later)
    assert {a.fingerprint: a.opened_on for a in state} == {candidate(1).fingerprint: AS_OF,
                                                            candidate(2).fingerprint: AS_OF}
    third = plan_alert_actions(state, [candidate(2, level=1)], later)
    assert [a.fingerprint for a in third.resolve] == [candidate(1).fingerprint]
    title, body = render(third.resolve[0])
    assert title.startswith("【已解决】") and "指标1为101（已更新）" in body
    assert [a.fingerprint for a in apply_actions(state, third, later)] == [candidate(2).fingerprint]


def test_partial_tick_resolves_only_what_it_evaluated() -> None:
    state = apply_actions([], plan_alert_actions([], [candidate(1), candidate(2, alert_class="delivery_lag")],
                                                 AS_OF), AS_OF)
    actions = plan_alert_actions(state, [], AS_OF, evaluated_classes={"anomaly"})
    assert [a.alert.alert_class for a in actions.resolve] == ["anomaly"]


def test_de_escalation_is_a_silent_update() -> None:
    state = apply_actions([], plan_alert_actions([], [candidate(3, level=1)], AS_OF), AS_OF)
    actions = plan_alert_actions(state, [candidate(3, level=0)], AS_OF)
    assert not actions.notifying and len(actions.update) == 1


def test_open_alert_round_trips_as_a_record() -> None:
    record = candidate(4).as_record()
    assert record["alert_class"] == "anomaly" and record["recipients"] == ["hrss", "data_team"]
    back = OpenAlert(**record,
                     opened_on=AS_OF, updated_on=AS_OF)
    assert back.state() == candidate(4).state()
    assert len(plan_alert_actions([back], [candidate(4)], AS_OF)) == 0


candidates_strategy = st.lists(
    st.builds(candidate, st.integers(min_value=0, max_value=6), st.integers(min_value=0, max_value=2),
              st.sampled_from(["", "（更新）"])), max_size=8)


@settings(max_examples=150, deadline=None)
@given(candidates_strategy, candidates_strategy)
def test_plan_alert_actions_is_idempotent(before: list[AlertCandidate], now: list[AlertCandidate]) -> None:
    state = apply_actions([], plan_alert_actions([], before, AS_OF), AS_OF)
    actions = plan_alert_actions(state, now, AS_OF)
    after = apply_actions(state, actions, AS_OF)
    again = plan_alert_actions(after, now, AS_OF)
    assert again == AlertActions()  # nothing to open, escalate, resolve or even update
    assert {a.fingerprint for a in after} == {c.fingerprint for c in now}
    opened = {a.fingerprint for a in actions.open}
    assert opened == {c.fingerprint for c in now} - {a.fingerprint for a in state}
