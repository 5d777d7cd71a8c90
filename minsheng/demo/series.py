"""The true values behind the demo drops: one deterministic series per target × county over the months.

Cumulative targets grow roughly linearly (value ≈ target × month/12 × a pace of 0.9–1.15), never
decrease and, where additive, have county parts that sum exactly to the prefecture value. Levels sit at or
just beyond their target on the good side; budgets use part of their allowance. A story picks one target far
behind schedule and a few level targets that miss in one county. All randomness comes from `random.Random`
seeded with a string, so the same seed gives the same values in every process.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from expectations.models import Catalog, Comparator, Frequency, Kind, Scope, Target

ONE = Decimal(1)
TENTH = Decimal("0.1")
LINEAR_PACE = (0.9, 1.15)  # most departments run a little behind or ahead of 序时进度
CAP_PACE = (0.5, 0.9)  # quantities with a ceiling (cumulative ≤ target) stay well inside it
BUDGET_PACE = (0.3, 0.8)  # share of an allowance (e.g. bad-air days) used by the time-proportional date
BEHIND_PACE = (0.3, 0.34)  # ≈ 16 % of the year's target by June: more than 30 points behind → red


@dataclass(frozen=True)
class Obs:
    """One true value: a target in a county (the prefecture's code for 全州) for one month of the year."""

    target_id: str
    county_code: str
    month: int
    value: Decimal | None  # canonical units; None for a milestone
    done: bool | None = None  # milestone state (完成/未完成); None for numeric targets
    misses: bool = False  # the value fails its comparator (a level/budget miss the target layer warns about)
    note: str = ""


@dataclass(frozen=True)
class Story:
    """The demo's plot: which target runs far behind, which level targets miss (in which county, months)."""

    behind_target: str
    misses: dict[str, tuple[str, tuple[int, ...]]] = field(default_factory=dict)


def rng_for(seed: int, *parts: str) -> random.Random:
    """A generator that depends only on the seed and the parts (string seeds hash stably across processes)."""
    return random.Random(":".join([str(seed), *parts]))


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def quantum_for(target: Target, goal: Decimal | None, catalog: Catalog | None = None) -> Decimal:
    """The precision values of a target are written with: whole numbers for counts, 0.1 for rates, and for big
    year-to-date totals a hundredth of the largest unit they are counted in (2.9亿元 → whole 百万元)."""
    if catalog is not None and goal is not None and target.kind != Kind.LEVEL:
        big = [u.factor for u in catalog.units if u.canonical == target.unit and u.factor >= 10000]
        fitting = [f for f in big if goal >= f * 100]
        if fitting:
            return max(fitting) / 100
    if goal is not None and goal == goal.to_integral_value() and (target.kind != Kind.LEVEL or goal >= 100):
        return ONE
    places = max(1, _decimals(goal)) if goal is not None else 1
    return Decimal(1).scaleb(-min(places, 2))


def _q(value: Decimal, quantum: Decimal) -> Decimal:
    """Round to a multiple of quantum (which may be 100 as well as 0.1), half up."""
    steps = (value / quantum).to_integral_value(rounding=ROUND_HALF_UP)
    return (steps * quantum).quantize(quantum) if quantum < 1 else steps * quantum


def _clamp(target: Target, value: Decimal) -> Decimal:
    lo, hi = target.bounds.min, target.bounds.max
    if lo is not None and value < lo:
        return lo
    if hi is not None and value > hi:
        return hi
    return value


def meets(target: Target, goal: Decimal | None, value: Decimal) -> bool:
    """Whether a level or budget value satisfies the target's comparator (no goal → nothing to miss)."""
    if goal is None:
        return True
    if target.comparator == Comparator.GE:
        return value >= goal
    if target.comparator == Comparator.GT:
        return value > goal
    if target.comparator == Comparator.LE:
        return value <= goal
    if target.comparator == Comparator.LT:
        return value < goal
    if target.comparator == Comparator.APPROX:
        return abs(value - goal) <= (target.tolerance or Decimal(0))
    return True


def reported_months(target: Target, months: list[int]) -> list[int]:
    """Months a target is reported in: every month, quarter ends for quarterly targets, none for annual."""
    if target.frequency == Frequency.QUARTERLY:
        return [m for m in months if m % 3 == 0]
    if target.frequency == Frequency.ANNUAL:
        return []
    return list(months)


def cumulative_path(total: Decimal, months: list[int], rng: random.Random, quantum: Decimal,
                    pace: tuple[float, float], target: Target) -> list[Decimal]:
    """Year-to-date values ≈ total × month/12 × pace, quantized, clamped to bounds and never decreasing."""
    base = rng.uniform(*pace)
    out: list[Decimal] = []
    for m in months:
        factor = min(max(base + rng.uniform(-0.03, 0.03), pace[0]), pace[1])
        value = _clamp(target, _q(total * m / 12 * Decimal(str(round(factor, 4))), quantum))
        out.append(max(value, out[-1]) if out else value)
    return out


def split_path(path: list[Decimal], weights: list[float], quantum: Decimal) -> list[list[Decimal]]:
    """County parts of a year-to-date path: each month's increase is shared by weight (largest remainder), so
    every part is non-decreasing and the parts sum exactly to the whole."""
    parts: list[list[Decimal]] = [[] for _ in weights]
    running = [Decimal(0)] * len(weights)
    previous = Decimal(0)
    total_weight = sum(weights)
    for value in path:
        units = int((value - previous) / quantum)
        shares = [units * w / total_weight for w in weights]
        whole = [int(s) for s in shares]
        order = sorted(range(len(weights)), key=lambda i: (whole[i] - shares[i], i))
        for i in order[: units - sum(whole)]:
            whole[i] += 1
        for i, n in enumerate(whole):
            running[i] += n * quantum
            parts[i].append(running[i])
        previous = value
    return parts


def _level_goal(target: Target, goal: Decimal | None, rng: random.Random) -> Decimal:
    """A stand-in level for targets without a value (较上年提高): mid-range of the bounds, or a guess."""
    if goal is not None:
        return goal
    lo, hi = target.bounds.min, target.bounds.max
    if lo is not None and hi is not None:
        return lo + (hi - lo) * Decimal(str(round(rng.uniform(0.55, 0.8), 3)))
    return Decimal(60 if target.unit == "percent" else 100) * Decimal(str(round(rng.uniform(0.8, 1.2), 3)))


def level_value(target: Target, goal: Decimal, rng: random.Random, quantum: Decimal) -> Decimal:
    """A level on the good side of its target: a little above a floor, well below a ceiling, inside a band."""
    spread = abs(goal)
    if target.comparator in {Comparator.GE, Comparator.GT, Comparator.INCREASE}:
        value = goal + spread * Decimal(str(round(rng.uniform(0.003, 0.02), 4)))
        if target.comparator != Comparator.GE:
            value = max(value, goal + quantum)
    elif target.comparator in {Comparator.LE, Comparator.LT}:
        value = goal - spread * Decimal(str(round(rng.uniform(0.05, 0.25), 4)))
        if target.comparator == Comparator.LT:
            value = min(value, goal - quantum)
    else:
        band = target.tolerance or spread * Decimal("0.02")
        value = goal + band * Decimal(str(round(rng.uniform(-0.5, 0.5), 3)))
    return _clamp(target, _q(value, quantum))


def missed_value(target: Target, goal: Decimal, quantum: Decimal) -> Decimal | None:
    """A level just on the wrong side of its target (优良率 96.8 against ≥ 97.2); None if bounds forbid."""
    margin = max(quantum * 4, _q(abs(goal) * Decimal("0.004"), quantum))
    if target.comparator in {Comparator.GE, Comparator.GT}:
        value = goal - margin
    elif target.comparator in {Comparator.LE, Comparator.LT}:
        value = goal + margin
    else:
        return None
    value = _q(value, quantum)
    return value if _clamp(target, value) == value and not meets(target, goal, value) else None


def counties_of(target: Target, catalog: Catalog) -> list[str]:
    """County codes a county-scope target is broken down to (all county-level units when it lists none)."""
    return list(target.counties) or catalog.county_codes


def choose_misses(catalog: Catalog, targets: list[Target], months: list[int],
                  how_many: int = 2) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Among `targets`, level ones that miss in one county (or the prefecture) in the last month(s), air
    quality first: target id → (county code, months)."""
    candidates = [t for t in targets if t.kind == Kind.LEVEL
                  and t.comparator in {Comparator.GE, Comparator.GT, Comparator.LE, Comparator.LT}
                  and reported_months(t, months)]
    candidates.sort(key=lambda t: ("air" not in t.id, t.scope != Scope.COUNTIES))
    chosen: dict[str, tuple[str, tuple[int, ...]]] = {}
    for t in candidates:
        codes = counties_of(t, catalog) if t.scope == Scope.COUNTIES else [catalog.prefecture_code]
        county = codes[min(3, len(codes) - 1)]
        goal = t.target_for(county)
        if goal is None or missed_value(t, goal, quantum_for(t, goal)) is None:
            continue
        tail = reported_months(t, months)[-2:] if not chosen else reported_months(t, months)[-1:]
        chosen[t.id] = (county, tuple(tail))
        if len(chosen) == how_many:
            break
    return chosen


def _numeric(target: Target, code: str, goal: Decimal | None, months: list[int], rng: random.Random,
             story: Story, catalog: Catalog) -> list[Obs]:
    if target.kind == Kind.CUMULATIVE or (target.kind == Kind.BUDGET and target.comparator in {
            Comparator.LE, Comparator.LT}):
        total = goal if goal is not None else Decimal(1200)
        if target.id == story.behind_target:
            pace, note = BEHIND_PACE, "受疫情影响，企业用工需求下降，进度滞后"
        elif target.kind == Kind.BUDGET:
            pace, note = BUDGET_PACE, ""
        else:
            capped = target.comparator in {Comparator.LE, Comparator.LT}
            pace, note = (CAP_PACE if capped else LINEAR_PACE), ""
        path = cumulative_path(total, months, rng, quantum_for(target, total, catalog), pace, target)
        return [Obs(target.id, code, m, v, note=note if m == months[-1] else "")
                for m, v in zip(months, path, strict=True)]
    level = _level_goal(target, goal, rng)
    quantum = quantum_for(target, level)
    county, miss_months = story.misses.get(target.id, ("", ()))
    out = []
    for m in months:
        value = missed_value(target, level, quantum) if county == code and m in miss_months else None
        value = value if value is not None else level_value(target, level, rng, quantum)
        missed = not meets(target, goal, value)
        out.append(Obs(target.id, code, m, value, misses=missed,
                       note="受客观因素影响本月未达标，已制定整改措施" if missed else ""))
    return out


def target_observations(target: Target, catalog: Catalog, months: list[int], seed: int, story: Story,
                        breakdown: bool = False, as_given: bool = False) -> list[Obs]:
    """Every true value of one target over the months it is reported in (all of `months` when `as_given`).

    County-scope targets get one series per county (its own target where the plan gives one); prefecture-scope
    targets get a 全州 series, and with `breakdown` an additive one also gets county parts that sum to it.
    """
    months = list(months) if as_given else reported_months(target, months)
    if not months:
        return []
    pref = catalog.prefecture_code
    places = counties_of(target, catalog) if target.scope == Scope.COUNTIES else [pref]
    if target.kind == Kind.MILESTONE:
        out = []
        for code in places:
            rng = rng_for(seed, target.id, code)
            done_from = rng.choice([None, None, None, months[-1], months[len(months) // 2]])
            out += [Obs(target.id, code, m, None, done=done_from is not None and m >= done_from,
                        note="已完成并通过验收" if done_from == m else "") for m in months]
        return out
    if target.scope == Scope.COUNTIES:
        return [o for code in places
                for o in _numeric(target, code, target.target_for(code), months,
                                  rng_for(seed, target.id, code), story, catalog)]
    rng = rng_for(seed, target.id)
    whole = _numeric(target, pref, target.value, months, rng, story, catalog)
    if not (breakdown and target.additive and target.kind in {Kind.CUMULATIVE, Kind.BUDGET}):
        return whole
    codes = catalog.county_codes
    path = [o.value for o in whole if o.value is not None]
    quantum = quantum_for(target, target.value if target.value is not None else Decimal(1200), catalog)
    parts = split_path(path, [rng.uniform(0.5, 1.5) for _ in codes], quantum)
    return whole + [Obs(target.id, code, m, v) for code, series in zip(codes, parts, strict=True)
                    for m, v in zip(months, series, strict=True)]
